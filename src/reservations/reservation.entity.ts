import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from '../database/columns';

@Entity('reservations')
export class ReservationEntity {
  @PrimaryColumn({ name: 'sale_id', type: 'varchar', length: 64 })
  saleId: string;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 64 })
  userId: string;

  @Column({ name: 'reserved_at', type: 'bigint', transformer: epochMs })
  reservedAt: number;

  /** `self` when the buyer reserved, `import` when ops imported the id. */
  @Column({ type: 'varchar', length: 8 })
  source: 'self' | 'import';
}
