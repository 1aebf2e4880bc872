import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../database/database.service';
import { OrderEntity, type OrderStatus, type StockPool } from '../orders/order.entity';
import { ReservationEntity } from '../reservations/reservation.entity';

export const ORDER_STATUSES: readonly OrderStatus[] = ['pending_payment', 'paid', 'expired', 'cancelled'];
const LIVE: readonly OrderStatus[] = ['pending_payment', 'paid'];

export interface StatusFigures {
  orders: number;
  units: number;
  amountCents: number;
}

/** What the database holds about a sale's orders, for the end-of-sale report. */
export interface OrderFigures {
  byStatus: Record<OrderStatus, StatusFigures>;
  /** Units of live (pending_payment + paid) orders per pool they were drawn from. */
  liveUnitsByPool: Record<StockPool, number>;
  /** Live orders backed by an F-code. */
  liveFcodeOrders: number;
  buyers: { withOrders: number; withLiveOrders: number; withPaidOrders: number };
  /** When the newest live order was accepted (epoch ms); null without live orders. */
  newestLiveOrderAt: number | null;
}

/** Read-only aggregates of a sale's orders and reservations in the database. */
@Injectable()
export class SaleReportRepository {
  constructor(private readonly database: DatabaseService) {}

  async orderFigures(saleId: string): Promise<OrderFigures> {
    const manager = this.database.manager;
    const rows: { status: OrderStatus; pool: StockPool; orders: string | number; units: string | number | null; cents: string | number | null; fcodeOrders: string | number | null }[] =
      await manager
        .createQueryBuilder(OrderEntity, 'o')
        .select('o.status', 'status')
        .addSelect('o.pool', 'pool')
        .addSelect('COUNT(*)', 'orders')
        .addSelect('SUM(o.quantity)', 'units')
        .addSelect('SUM(o.amount_cents)', 'cents')
        .addSelect('SUM(CASE WHEN o.fcode_hash IS NULL THEN 0 ELSE 1 END)', 'fcodeOrders')
        .where('o.sale_id = :saleId', { saleId })
        .groupBy('o.status')
        .addGroupBy('o.pool')
        .getRawMany();
    const figures: OrderFigures = {
      byStatus: Object.fromEntries(ORDER_STATUSES.map((status) => [status, { orders: 0, units: 0, amountCents: 0 }])) as Record<OrderStatus, StatusFigures>,
      liveUnitsByPool: { general: 0, fcode: 0 },
      liveFcodeOrders: 0,
      buyers: { withOrders: 0, withLiveOrders: 0, withPaidOrders: 0 },
      newestLiveOrderAt: null,
    };
    for (const row of rows) {
      const status = figures.byStatus[row.status];
      if (!status) continue;
      status.orders += Number(row.orders);
      status.units += Number(row.units ?? 0);
      status.amountCents += Number(row.cents ?? 0);
      if (LIVE.includes(row.status)) {
        if (row.pool in figures.liveUnitsByPool) figures.liveUnitsByPool[row.pool] += Number(row.units ?? 0);
        figures.liveFcodeOrders += Number(row.fcodeOrders ?? 0);
      }
    }
    const buyers: { withOrders: string | number; withLiveOrders: string | number | null; withPaidOrders: string | number | null; newest: string | number | null } | undefined = await manager
      .createQueryBuilder(OrderEntity, 'o')
      .select('COUNT(DISTINCT o.user_id)', 'withOrders')
      .addSelect("COUNT(DISTINCT CASE WHEN o.status IN ('pending_payment', 'paid') THEN o.user_id END)", 'withLiveOrders')
      .addSelect("COUNT(DISTINCT CASE WHEN o.status = 'paid' THEN o.user_id END)", 'withPaidOrders')
      .addSelect("MAX(CASE WHEN o.status IN ('pending_payment', 'paid') THEN o.created_at END)", 'newest')
      .where('o.sale_id = :saleId', { saleId })
      .getRawOne();
    figures.buyers = { withOrders: Number(buyers?.withOrders ?? 0), withLiveOrders: Number(buyers?.withLiveOrders ?? 0), withPaidOrders: Number(buyers?.withPaidOrders ?? 0) };
    figures.newestLiveOrderAt = buyers?.newest === null || buyers?.newest === undefined ? null : Number(buyers.newest);
    return figures;
  }

  countReservations(saleId: string): Promise<number> {
    return this.database.manager.count(ReservationEntity, { where: { saleId } });
  }
}
