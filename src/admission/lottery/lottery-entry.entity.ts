import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from '../../database/columns';

/** An entry to a sale's lottery: the record the draw ranks (Redis holds a copy for the entry script). */
@Entity('lottery_entries')
export class LotteryEntryEntity {
  @PrimaryColumn({ name: 'sale_id', type: 'varchar', length: 64 })
  saleId: string;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 64 })
  userId: string;

  @Column({ name: 'entered_at', type: 'bigint', transformer: epochMs })
  enteredAt: number;
}
