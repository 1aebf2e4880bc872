import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { saleIdOfOrder, ulid } from '../../common/ids';
import { DatabaseService } from '../../database/database.service';
import { OrderEntity } from '../../orders/order.entity';
import { PaymentKind, PaymentOutcome, PaymentRecordEntity } from './payment-record.entity';

export interface PaymentEntry {
  orderId: string;
  kind: PaymentKind;
  outcome: PaymentOutcome;
  amountCents: number;
  currency: string;
  reference: string | null;
}

export interface SalePaymentTotals {
  charges: number;
  chargedCents: number;
  declined: number;
  refunds: number;
  refundedCents: number;
}

/** An order whose money does not match its status: a paid order holds one charge net of refunds, others none. */
export interface PaymentMismatch {
  orderId: string;
  /** The order's status in the database; null when the order has no row. */
  status: string | null;
  /** Successful charges minus refunds. */
  netCharges: number;
}

/**
 * The `payments` table: what the provider was asked and answered. Recording never fails a payment: the
 * money has moved by then, so a failed write is logged (and the end-of-sale report shows the gap).
 */
@Injectable()
export class PaymentLedger {
  private readonly logger = new Logger(PaymentLedger.name);

  constructor(
    private readonly database: DatabaseService,
    private readonly clock: Clock,
  ) {}

  async record(entry: PaymentEntry): Promise<void> {
    try {
      await this.database.transaction((manager) =>
        manager.insert(PaymentRecordEntity, {
          ...entry,
          id: `pay_${ulid(this.clock.now())}`,
          saleId: saleIdOfOrder(entry.orderId) ?? null,
          createdAt: this.clock.now(),
        }),
      );
    } catch (error) {
      this.logger.error({ err: error, ...entry }, 'A payment could not be written to the ledger; reconcile it by its reference');
    }
  }

  async totalsOfSale(saleId: string): Promise<SalePaymentTotals> {
    const rows: { kind: PaymentKind; outcome: PaymentOutcome; calls: string | number; cents: string | number | null }[] = await this.database.manager
      .createQueryBuilder(PaymentRecordEntity, 'payment')
      .select('payment.kind', 'kind')
      .addSelect('payment.outcome', 'outcome')
      .addSelect('COUNT(*)', 'calls')
      .addSelect('SUM(payment.amount_cents)', 'cents')
      .where('payment.sale_id = :saleId', { saleId })
      .groupBy('payment.kind')
      .addGroupBy('payment.outcome')
      .getRawMany();
    const totals: SalePaymentTotals = { charges: 0, chargedCents: 0, declined: 0, refunds: 0, refundedCents: 0 };
    for (const row of rows) {
      const calls = Number(row.calls);
      const cents = Number(row.cents ?? 0);
      if (row.kind === 'refund') {
        totals.refunds += calls;
        totals.refundedCents += cents;
      } else if (row.outcome === 'succeeded') {
        totals.charges += calls;
        totals.chargedCents += cents;
      } else {
        totals.declined += calls;
      }
    }
    return totals;
  }

  /**
   * Orders of the sale whose charges net of refunds differ from what their status says (one for a paid
   * order, none otherwise), at most `limit` of them: a paid order never charged, a charge kept for an
   * order that did not become paid, a refund of a paid order, money for an order the database lacks.
   */
  async mismatchesOfSale(saleId: string, limit: number): Promise<PaymentMismatch[]> {
    const net = "SUM(CASE WHEN payment.kind = 'refund' THEN -1 WHEN payment.outcome = 'succeeded' THEN 1 ELSE 0 END)";
    const withPayments: { orderId: string; status: string | null; net: string | number }[] = await this.database.manager
      .createQueryBuilder(PaymentRecordEntity, 'payment')
      .leftJoin(OrderEntity, 'o', 'o.id = payment.order_id')
      .select('payment.order_id', 'orderId')
      .addSelect('o.status', 'status')
      .addSelect(net, 'net')
      .where('payment.sale_id = :saleId', { saleId })
      .groupBy('payment.order_id')
      .addGroupBy('o.status')
      .having(`${net} <> CASE WHEN o.status = 'paid' THEN 1 ELSE 0 END`)
      .orderBy('payment.order_id')
      .limit(limit)
      .getRawMany();
    const unpaid: { orderId: string }[] = await this.database.manager
      .createQueryBuilder(OrderEntity, 'o')
      .select('o.id', 'orderId')
      .where("o.sale_id = :saleId AND o.status = 'paid'", { saleId })
      .andWhere(
        (query) =>
          `NOT EXISTS ${query
            .subQuery()
            .select('1')
            .from(PaymentRecordEntity, 'payment')
            .where('payment.order_id = o.id')
            .getQuery()}`,
      )
      .orderBy('o.id')
      .limit(limit)
      .getRawMany();
    const mismatches = withPayments.map((row) => ({ orderId: row.orderId, status: row.status ?? null, netCharges: Number(row.net) }));
    mismatches.push(...unpaid.map((row) => ({ orderId: row.orderId, status: 'paid', netCharges: 0 })));
    return mismatches.slice(0, limit);
  }
}
