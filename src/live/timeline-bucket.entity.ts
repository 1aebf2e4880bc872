import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from '../database/columns';

/**
 * Purchase attempts of one sale in one second with one outcome, summed over every process (each adds
 * its own count), and the sale's units sold as sampled by the processes that flushed it.
 */
@Entity('sale_timeline')
export class TimelineBucketEntity {
  @PrimaryColumn({ name: 'sale_id', type: 'varchar', length: 64 })
  saleId: string;

  /** The second, as epoch seconds. */
  @PrimaryColumn({ name: 'at_second', type: 'bigint', transformer: epochMs })
  atSecond: number;

  /** `CREATED` or the error code the attempt was answered with. */
  @PrimaryColumn({ type: 'varchar', length: 32 })
  outcome: string;

  @Column({ type: 'integer' })
  attempts: number;

  /** The highest units-sold a process sampled when it flushed this bucket; null if none could read it. */
  @Column({ name: 'units_sold', type: 'integer', nullable: true })
  unitsSold: number | null;
}
