import { Column, Entity, PrimaryColumn } from 'typeorm';
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

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt: number;
}
