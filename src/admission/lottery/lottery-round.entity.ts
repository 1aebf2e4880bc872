import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from '../../database/columns';

/** An admission round of a drawn lottery: ranks below `admittedUpTo` may buy until `buyBy`. */
@Entity('lottery_rounds')
export class LotteryRoundEntity {
  @PrimaryColumn({ name: 'sale_id', type: 'varchar', length: 64 })
  saleId: string;

  /** 1 is the draw; each later round passes units left after a purchase window down the ranking. */
  @PrimaryColumn({ type: 'integer' })
  round: number;

  @Column({ name: 'admitted_up_to', type: 'integer' })
  admittedUpTo: number;

  @Column({ name: 'buy_by', type: 'bigint', transformer: epochMs })
  buyBy: number;
}
