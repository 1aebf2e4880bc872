import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { FcodesService } from '../fcodes/fcodes.service';
import { PaymentLedger } from '../lifecycle/payments/payment-ledger.repository';
import { salePhase } from '../sales/sale-rules';
import { SalesService } from '../sales/sales.service';
import type { OrderCountsDto, ReportDifferenceDto, SaleReportDto } from './dto/sale-report.dto';
import { ORDER_STATUSES, SaleReportRepository } from './sale-report.repository';

/** Orders named one by one in the differences, at most: the counts say how many there are in all. */
const ORDERS_LISTED = 20;

const iso = (epochMs: number) => new Date(epochMs).toISOString();

/**
 * The end-of-sale report: what Redis counted, what the database holds and what the payments ledger
 * recorded, side by side, and every way they disagree. Redis is taken as the reference for orders (an
 * order answered 201 exists there first); an order's status is the reference for its money.
 */
@Injectable()
export class SaleReportService {
  constructor(
    private readonly sales: SalesService,
    private readonly fcodes: FcodesService,
    private readonly payments: PaymentLedger,
    private readonly repository: SaleReportRepository,
    private readonly clock: Clock,
  ) {}

  async report(saleId: string): Promise<SaleReportDto> {
    const sale = await this.sales.getSale(saleId);
    const [stats, figures, reservations, fcodes, money, mismatches] = await Promise.all([
      this.sales.statsIfLive(sale),
      this.repository.orderFigures(saleId),
      this.repository.countReservations(saleId),
      this.fcodes.summary(saleId),
      this.payments.totalsOfSale(saleId),
      this.payments.mismatchesOfSale(saleId, ORDERS_LISTED),
    ]);
    const now = this.clock.now();
    const differences: ReportDifferenceDto[] = [];
    const notes: string[] = [];
    const differ = (check: string, message: string, expected: number, actual: number) => {
      if (expected !== actual) differences.push({ check, message, expected, actual });
    };

    const database: OrderCountsDto = {
      pending_payment: figures.byStatus.pending_payment.orders,
      paid: figures.byStatus.paid.orders,
      expired: figures.byStatus.expired.orders,
      cancelled: figures.byStatus.cancelled.orders,
      total: ORDER_STATUSES.reduce((sum, status) => sum + figures.byStatus[status].orders, 0),
    };
    const soldUnits = figures.byStatus.pending_payment.units + figures.byStatus.paid.units;
    const redis: OrderCountsDto | null = stats
      ? { pending_payment: stats.orders.pending_payment, paid: stats.orders.paid, expired: stats.orders.expired, cancelled: stats.orders.cancelled, total: stats.accepted }
      : null;

    if (stats && redis) {
      const { stock } = stats;
      if (stats.orderWriter.lag > 0 || stats.orderWriter.parked > 0) {
        differences.push({
          check: 'orderPipeline',
          message: `${stats.orderWriter.lag} accepted order event(s) not yet written to the database, ${stats.orderWriter.parked} parked: the database is behind Redis`,
          expected: 0,
          actual: stats.orderWriter.lag + stats.orderWriter.parked,
        });
      }
      const equation = stock.general + stock.fcode - stock.generalRemaining - stock.fcodeRemaining;
      differ('stockEquation', `In Redis, units loaded minus units left is ${equation} but ${stats.unitsSold} units are sold`, stats.unitsSold, equation);
      differ('stock.general', `The general pool holds ${stock.general} units in Redis and ${sale.stock} in the database`, stock.general, sale.stock);
      differ('stock.fcode', `The F-code pool holds ${stock.fcode} units in Redis and ${sale.fcodeStock} in the database`, stock.fcode, sale.fcodeStock);
      for (const status of ORDER_STATUSES) {
        differ(`orders.${status}`, `Redis counts ${redis[status]} order(s) ${status}, the database ${database[status]}`, redis[status], database[status]);
      }
      differ('orders.total', `Redis accepted ${redis.total} order(s), the database holds ${database.total}`, redis.total, database.total);
      differ('units.sold', `Redis counts ${stats.unitsSold} unit(s) sold, the database's live orders hold ${soldUnits}`, stats.unitsSold, soldUnits);
      differ(
        'units.general',
        `Redis has sold ${stock.general - stock.generalRemaining} unit(s) of the general pool, the database's live orders hold ${figures.liveUnitsByPool.general}`,
        stock.general - stock.generalRemaining,
        figures.liveUnitsByPool.general,
      );
      differ(
        'units.fcode',
        `Redis has sold ${stock.fcode - stock.fcodeRemaining} unit(s) of the F-code pool, the database's live orders hold ${figures.liveUnitsByPool.fcode}`,
        stock.fcode - stock.fcodeRemaining,
        figures.liveUnitsByPool.fcode,
      );
      differ('fcodes.redeemed', `Redis counts ${stats.fcodes.redeemed} F-code(s) backing live orders, the database ${figures.liveFcodeOrders}`, stats.fcodes.redeemed, figures.liveFcodeOrders);
    } else {
      notes.push('Redis holds no state for this sale: only the database and the payments ledger were compared.');
    }

    const netCharges = money.charges - money.refunds;
    differ('payments.paidOrders', `${netCharges} charge(s) net of refunds are recorded, and ${database.paid} order(s) are paid`, database.paid, netCharges);
    const netCents = money.chargedCents - money.refundedCents;
    differ('payments.amount', `${netCents} taken net of refunds, while the paid orders add up to ${figures.byStatus.paid.amountCents} (minor units)`, figures.byStatus.paid.amountCents, netCents);
    for (const mismatch of mismatches) {
      const expected = mismatch.status === 'paid' ? 1 : 0;
      const state = mismatch.status === null ? 'is not in the database' : `is ${mismatch.status}`;
      const money = mismatch.netCharges === 0 ? 'no charge net of refunds' : `${mismatch.netCharges} charge(s) net of refunds`;
      differences.push({ check: 'payments.order', message: `Order ${mismatch.orderId} ${state} but has ${money}`, expected, actual: mismatch.netCharges, orderId: mismatch.orderId });
    }
    if (mismatches.length === ORDERS_LISTED) notes.push(`Only the first ${ORDERS_LISTED} orders whose payments do not match are listed.`);

    const remaining = stats ? { general: stats.stock.generalRemaining, fcode: stats.stock.fcodeRemaining } : null;
    const left = remaining ? remaining.general + remaining.fcode : sale.stock + sale.fcodeStock - soldUnits;
    const phase = salePhase({ ...sale, generalRemaining: remaining?.general ?? left, fcodeRemaining: remaining?.fcode ?? 0 }, now);

    return {
      saleId,
      sku: sale.sku,
      name: sale.name,
      phase,
      startsAt: iso(sale.startsAt),
      endsAt: iso(sale.endsAt),
      generatedAt: iso(now),
      units: {
        loaded: { general: sale.stock, fcode: sale.fcodeStock },
        loadedTotal: sale.stock + sale.fcodeStock,
        remaining,
        sold: soldUnits,
        pending: figures.byStatus.pending_payment.units,
        paid: figures.byStatus.paid.units,
        expired: figures.byStatus.expired.units,
        cancelled: figures.byStatus.cancelled.units,
        returned: figures.byStatus.expired.units + figures.byStatus.cancelled.units,
      },
      orders: { redis, database },
      payments: { ...money, netCents, paidOrdersCents: figures.byStatus.paid.amountCents, currency: sale.currency },
      fcodes,
      reservations: { redis: stats?.reservations ?? null, database: reservations },
      buyers: figures.buyers,
      soldOutAt: left <= 0 && sale.stock + sale.fcodeStock > 0 && figures.newestLiveOrderAt !== null ? iso(figures.newestLiveOrderAt) : null,
      orderPipeline: stats ? stats.orderWriter : null,
      consistent: differences.length === 0,
      differences,
      notes,
    };
  }
}
