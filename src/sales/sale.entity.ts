import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AdmissionMode } from '../admission/admission-mode';
import { epochMs } from '../database/columns';

@Entity('sales')
export class SaleEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @Column({ type: 'varchar', length: 200 })
  sku: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ name: 'price_cents', type: 'integer' })
  priceCents: number;

  @Column({ type: 'varchar', length: 3 })
  currency: string;

  /** Units ever loaded into the general pool (the `stock` of the stock equation). */
  @Column({ type: 'integer' })
  stock: number;

  @Column({ name: 'fcode_stock', type: 'integer' })
  fcodeStock: number;

  @Column({ name: 'per_user_limit', type: 'integer' })
  perUserLimit: number;

  @Column({ name: 'reservation_required', type: 'boolean' })
  reservationRequired: boolean;

  @Column({ name: 'reservation_opens_at', type: 'bigint', transformer: epochMs })
  reservationOpensAt: number;

  @Column({ name: 'reservation_closes_at', type: 'bigint', transformer: epochMs })
  reservationClosesAt: number;

  @Column({ name: 'fcode_opens_at', type: 'bigint', transformer: epochMs })
  fcodeOpensAt: number;

  @Column({ name: 'starts_at', type: 'bigint', transformer: epochMs })
  startsAt: number;

  @Column({ name: 'ends_at', type: 'bigint', transformer: epochMs })
  endsAt: number;

  @Column({ name: 'payment_window_seconds', type: 'integer' })
  paymentWindowSeconds: number;

  @Column({ type: 'boolean', default: false })
  paused: boolean;

  /** `open`, `queue` or `lottery` (src/admission/admission-mode.ts). */
  @Column({ type: 'varchar', length: 16, default: 'open' })
  admission: AdmissionMode;

  /** When the waiting room opens; null: at `reservationClosesAt`. */
  @Column({ name: 'queue_opens_at', type: 'bigint', nullable: true, transformer: epochMs })
  queueOpensAt: number | null;

  @Column({ name: 'admission_rate_per_second', type: 'integer', default: 1000 })
  admissionRatePerSecond: number;

  @Column({ name: 'admission_ttl_seconds', type: 'integer', default: 120 })
  admissionTtlSeconds: number;

  /** Places of the waiting room admitted from the front, as last recorded (Redis moves it on). */
  @Column({ name: 'queue_admitted', type: 'integer', default: 0 })
  queueAdmitted: number;

  /** When lottery entries close; null: at `startsAt`. */
  @Column({ name: 'lottery_closes_at', type: 'bigint', nullable: true, transformer: epochMs })
  lotteryClosesAt: number | null;

  @Column({ name: 'purchase_window_seconds', type: 'integer', default: 3600 })
  purchaseWindowSeconds: number;

  /** The lottery's secret seed (hex), kept from the commit and revealed at the draw. */
  @Column({ name: 'lottery_seed', type: 'varchar', length: 64, nullable: true })
  lotterySeed: string | null;

  @Column({ name: 'lottery_seed_hash', type: 'varchar', length: 64, nullable: true })
  lotterySeedHash: string | null;

  /** When the draw started: from then on no entry is added. */
  @Column({ name: 'lottery_drawn_at', type: 'bigint', nullable: true, transformer: epochMs })
  lotteryDrawnAt: number | null;

  /** The entries the draw ranked, once it is complete (null before): the lottery is drawn. */
  @Column({ name: 'lottery_entry_count', type: 'integer', nullable: true })
  lotteryEntryCount: number | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt: number;
}
