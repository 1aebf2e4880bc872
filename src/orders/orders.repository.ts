import { Injectable } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { OrderEntity, OrderStatus, StockPool } from './order.entity';
import { OrderRecord } from './order-record';

/** Orders that hold their units: awaiting payment or paid. */
const LIVE_STATUSES: OrderStatus[] = ['pending_payment', 'paid'];

export interface OrderTotals {
  /** Orders of the sale by status. */
  byStatus: Record<OrderStatus, number>;
  /** Units held by live (pending_payment + paid) orders, per pool they were drawn from. */
  liveUnits: Record<StockPool, number>;
}

/**
 * Rows per INSERT, largest first: a batch is split into powers of two (300 = 256 + 32 + 8 + 4), so every
 * INSERT is one of ten texts, compiled once by SQLite and then reused from the driver's statement cache.
 * With a statement per batch length, nearly every batch would compile a statement of its own first.
 * 14 columns × 512 rows stays far below SQLite's 32,766 and PostgreSQL's 65,535 parameters.
 */
const CHUNK_SIZES = [512, 256, 128, 64, 32, 16, 8, 4, 2, 1];

/** The INSERT sizes a batch of `rows` is written in. */
export function insertChunkSizes(rows: number): number[] {
  const sizes: number[] = [];
  let left = rows;
  for (const size of CHUNK_SIZES) {
    while (left >= size) {
      sizes.push(size);
      left -= size;
    }
  }
  return sizes;
}

/**
 * The columns `insertIgnoringDuplicates` writes, in the order it reads them off an order. Each time an
 * INSERT text is made (once per chunk size), the set of them is checked against the entity's columns, so
 * a column added to `OrderEntity` cannot be left out.
 */
export const ORDER_INSERT_COLUMNS = ['id', 'sale_id', 'user_id', 'quantity', 'unit_price_cents', 'amount_cents', 'currency', 'status', 'pool', 'fcode_hash', 'created_at', 'pay_by', 'paid_at', 'updated_at'] as const;

function assertInsertCoversEntity(manager: EntityManager): void {
  const entityColumns = manager.connection
    .getMetadata(OrderEntity)
    .columns.map((column) => column.databaseName)
    .sort();
  const written = [...ORDER_INSERT_COLUMNS].sort();
  if (entityColumns.join(',') !== written.join(',')) throw new Error(`the orders INSERT writes ${written.join(', ')} but the entity has ${entityColumns.join(', ')}`);
}

export type FinalStatus = Exclude<OrderStatus, 'pending_payment'>;

/** The `orders` table. Writes take the caller's transaction manager (see DatabaseService.transaction). */
@Injectable()
export class OrdersRepository {
  /** The INSERT text for each database kind and chunk size, made once. */
  private readonly insertSqlBySize = new Map<string, string>();

  constructor(private readonly database: DatabaseService) {}

  /**
   * Inserts orders that are not there yet; an order id already stored is left untouched (redelivery).
   * One multi-row `INSERT … ON CONFLICT DO NOTHING` per chunk, its parameters read straight off each
   * order in `ORDER_INSERT_COLUMNS` order: the writer runs this for every order of a sell-out, and going
   * through the query builder, or even through the entity's column metadata value by value, cost more
   * than the database's own work per row.
   */
  async insertIgnoringDuplicates(manager: EntityManager, orders: OrderRecord[]): Promise<void> {
    let start = 0;
    for (const size of insertChunkSizes(orders.length)) {
      const parameters: unknown[] = [];
      for (let index = start; index < start + size; index++) {
        const order = orders[index];
        // Times are epoch ms in the order and in the table alike (src/database/columns.ts); a new order was last updated when it was created.
        parameters.push(
          order.id,
          order.saleId,
          order.userId,
          order.quantity,
          order.unitPriceCents,
          order.amountCents,
          order.currency,
          order.status,
          order.pool,
          order.fcodeHash,
          order.createdAt,
          order.payBy,
          order.paidAt,
          order.createdAt,
        );
      }
      await manager.query(this.insertSql(manager, size), parameters);
      start += size;
    }
  }

  /** `INSERT INTO orders (…) VALUES (…), … ON CONFLICT DO NOTHING` for `rows` rows, made once per size. */
  private insertSql(manager: EntityManager, rows: number): string {
    const { driver } = manager.connection;
    const postgres = driver.options.type === 'postgres';
    const key = `${driver.options.type}:${rows}`;
    let sql = this.insertSqlBySize.get(key);
    if (sql === undefined) {
      const { tablePath } = manager.connection.getMetadata(OrderEntity);
      assertInsertCoversEntity(manager);
      const width = ORDER_INSERT_COLUMNS.length;
      const columnList = ORDER_INSERT_COLUMNS.map((column) => driver.escape(column)).join(', ');
      const tuples = Array.from({ length: rows }, (_, row) => `(${ORDER_INSERT_COLUMNS.map((_column, index) => (postgres ? `$${row * width + index + 1}` : '?')).join(', ')})`);
      sql = `INSERT INTO ${driver.escape(tablePath)} (${columnList}) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`;
      this.insertSqlBySize.set(key, sql);
    }
    return sql;
  }

  /**
   * Moves a pending order to its final status. Compare-and-set on `pending_payment`, so a redelivered or
   * late event never overwrites a status already applied. Returns whether a row changed.
   */
  async markIfPending(manager: EntityManager, orderId: string, status: FinalStatus, at: number): Promise<boolean> {
    const changes: Partial<OrderEntity> = { status, updatedAt: at };
    if (status === 'paid') changes.paidAt = at;
    const result = await manager
      .createQueryBuilder()
      .update(OrderEntity)
      .set(changes)
      .where('id = :orderId AND status = :pending', { orderId, pending: 'pending_payment' })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** The stored status of an order; undefined when it is not in the database. */
  async statusOf(manager: EntityManager, orderId: string): Promise<string | undefined> {
    const row = await manager.findOne(OrderEntity, { select: { id: true, status: true }, where: { id: orderId } });
    return row?.status;
  }

  findById(orderId: string): Promise<OrderEntity | null> {
    return this.database.manager.findOne(OrderEntity, { where: { id: orderId } });
  }

  /** The buyer's newest orders first. */
  findByUser(userId: string, limit: number): Promise<OrderEntity[]> {
    return this.database.manager.find(OrderEntity, { where: { userId }, order: { createdAt: 'DESC', id: 'DESC' }, take: limit });
  }

  countBySale(saleId: string): Promise<number> {
    return this.database.manager.count(OrderEntity, { where: { saleId } });
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
}
