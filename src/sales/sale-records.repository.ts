import { Injectable } from '@nestjs/common';
import { In, MoreThan } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { FcodeEntity } from '../fcodes/fcode.entity';
import { OrderEntity, type OrderStatus, type StockPool } from '../orders/order.entity';
import { ReservationEntity } from '../reservations/reservation.entity';

const LIVE_STATUSES: OrderStatus[] = ['pending_payment', 'paid'];

export interface OrderTotals {
  /** Orders of the sale by status. */
  byStatus: Record<OrderStatus, number>;
  /** Units held by live (pending_payment + paid) orders, per pool they were drawn from. */
  liveUnits: Record<StockPool, number>;
}

/**
 * Read-only views of a sale's records (orders, reservations, F-codes) in the database: the stats, the
 * numbers of a sale whose Redis state is missing, and the boot-time rebuild of that state.
 */
@Injectable()
export class SaleRecordsRepository {
  constructor(private readonly database: DatabaseService) {}

  countOrders(saleId: string): Promise<number> {
    return this.database.manager.count(OrderEntity, { where: { saleId } });
  }

  countFcodes(saleId: string): Promise<number> {
    return this.database.manager.count(FcodeEntity, { where: { saleId } });
  }

  countReservations(saleId: string): Promise<number> {
    return this.database.manager.count(ReservationEntity, { where: { saleId } });
  }

  async orderTotals(saleId: string): Promise<OrderTotals> {
    const rows: { status: OrderStatus; pool: StockPool; orders: string | number; units: string | number | null }[] = await this.database.manager
      .createQueryBuilder(OrderEntity, 'o')
      .select('o.status', 'status')
      .addSelect('o.pool', 'pool')
      .addSelect('COUNT(*)', 'orders')
      .addSelect('SUM(o.quantity)', 'units')
      .where('o.sale_id = :saleId', { saleId })
      .groupBy('o.status')
      .addGroupBy('o.pool')
      .getRawMany();
    const totals: OrderTotals = { byStatus: { pending_payment: 0, paid: 0, expired: 0, cancelled: 0 }, liveUnits: { general: 0, fcode: 0 } };
    for (const row of rows) {
      if (row.status in totals.byStatus) totals.byStatus[row.status] += Number(row.orders);
      if (LIVE_STATUSES.includes(row.status) && row.pool in totals.liveUnits) totals.liveUnits[row.pool] += Number(row.units ?? 0);
    }
    return totals;
  }

  /** Units each buyer holds in live orders of the sale. */
  async unitsByBuyer(saleId: string): Promise<Map<string, number>> {
    const rows: { userId: string; units: string | number }[] = await this.database.manager
      .createQueryBuilder(OrderEntity, 'o')
      .select('o.user_id', 'userId')
      .addSelect('SUM(o.quantity)', 'units')
      .where('o.sale_id = :saleId AND o.status IN (:...live)', { saleId, live: LIVE_STATUSES })
      .groupBy('o.user_id')
      .getRawMany();
    return new Map(rows.map((row) => [row.userId, Number(row.units)]));
  }

  /** The live orders of the sale (pending payment or paid). */
  liveOrders(saleId: string): Promise<OrderEntity[]> {
    return this.database.manager.find(OrderEntity, { where: { saleId, status: In(LIVE_STATUSES) } });
  }

  /** The sale's reservations in pages of `pageSize`, by user id (keyset pagination: cheap on any size). */
  async *reservationPages(saleId: string, pageSize: number): AsyncGenerator<ReservationEntity[]> {
    let after = '';
    for (;;) {
      const page = await this.database.manager.find(ReservationEntity, { where: { saleId, userId: MoreThan(after) }, order: { userId: 'ASC' }, take: pageSize });
      if (page.length === 0) return;
      yield page;
      after = page[page.length - 1].userId;
      if (page.length < pageSize) return;
    }
  }

  /** The sale's F-codes in pages of `pageSize`, by code hash. */
  async *fcodePages(saleId: string, pageSize: number): AsyncGenerator<FcodeEntity[]> {
    let after = '';
    for (;;) {
      const page = await this.database.manager.find(FcodeEntity, { where: { saleId, codeHash: MoreThan(after) }, order: { codeHash: 'ASC' }, take: pageSize });
      if (page.length === 0) return;
      yield page;
      after = page[page.length - 1].codeHash;
      if (page.length < pageSize) return;
    }
  }
}
