import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { OrderStatus, StockPool } from '../contract/responses';
import { epochMs } from '../database/columns';

export type { OrderStatus, StockPool };

@Entity('orders')
@Index('idx_orders_user', ['userId', 'createdAt'])
@Index('idx_orders_sale_status', ['saleId', 'status'])
export class OrderEntity {
  @PrimaryColumn({ type: 'varchar', length: 100 })
  id: string;

  @Column({ name: 'sale_id', type: 'varchar', length: 64 })
  saleId: string;

  @Column({ name: 'user_id', type: 'varchar', length: 64 })
  userId: string;

  @Column({ type: 'integer' })
  quantity: number;

  @Column({ name: 'unit_price_cents', type: 'integer' })
  unitPriceCents: number;

  @Column({ name: 'amount_cents', type: 'integer' })
  amountCents: number;

  @Column({ type: 'varchar', length: 3 })
  currency: string;

  @Column({ type: 'varchar', length: 20 })
  status: OrderStatus;

  @Column({ type: 'varchar', length: 8 })
  pool: StockPool;

  /** Keyed hash of the F-code that backed this order, if any (never the code itself). */
  @Column({ name: 'fcode_hash', type: 'varchar', length: 64, nullable: true })
  fcodeHash: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt: number;

  @Column({ name: 'pay_by', type: 'bigint', transformer: epochMs })
  payBy: number;

  @Column({ name: 'paid_at', type: 'bigint', nullable: true, transformer: epochMs })
  paidAt: number | null;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt: number;
}
