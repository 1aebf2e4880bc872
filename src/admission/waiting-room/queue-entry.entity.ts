import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from '../../database/columns';

/** A buyer's place in a sale's waiting room: the record Redis's line is rebuilt from. */
@Entity('queue_entries')
export class QueueEntryEntity {
  @PrimaryColumn({ name: 'sale_id', type: 'varchar', length: 64 })
  saleId: string;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 64 })
  userId: string;

  /** The line's score: a random number in [0, 1) for a join before the start, 1 + arrival number after. */
  @Column({ type: 'double precision' })
  place: number;

  /** When the buyer first saw their admission (their admission token runs from it); null while they wait. */
  @Column({ name: 'admitted_at', type: 'bigint', nullable: true, transformer: epochMs })
  admittedAt: number | null;
}
