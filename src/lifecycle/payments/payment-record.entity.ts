import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '../../database/columns';

export type PaymentKind = 'charge' | 'refund';
export type PaymentOutcome = 'succeeded' | 'declined';

/**
 * One call to the payment provider that moved money or was refused: the ledger the end-of-sale report
 * reconciles against the orders. Written after the provider answered, never before.
 */
@Entity('payments')
@Index('idx_payments_sale', ['saleId'])
export class PaymentRecordEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ name: 'order_id', type: 'varchar', length: 100 })
  orderId: string;

  /** From the order id (which carries it), so a payment is found by sale even when its order row is missing. */
  @Column({ name: 'sale_id', type: 'varchar', length: 64, nullable: true })
  saleId: string | null;

  @Column({ type: 'varchar', length: 8 })
  kind: PaymentKind;

  @Column({ type: 'varchar', length: 10 })
  outcome: PaymentOutcome;

  @Column({ name: 'amount_cents', type: 'integer' })
  amountCents: number;

  @Column({ type: 'varchar', length: 3 })
  currency: string;

  /** The provider's reference of the charge (a refund names the charge it gives back). */
  @Column({ type: 'varchar', length: 100, nullable: true })
  reference: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt: number;
}
