import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { OrderEntity, OrderStatus } from './order.entity';
import { OrderRecord } from './order-record';

/**
 * Rows per INSERT, largest first: a batch is split into powers of two (300 = 256 + 32 + 8 + 4), so every
 * INSERT is one of ten texts, compiled once by SQLite and then reused from the driver's statement cache.
 * With a statement per batch length, compiling them cost about an eighth of the writer's database time.
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

export type FinalStatus = Exclude<OrderStatus, 'pending_payment'>;

/** The `orders` table. Writes take the caller's transaction manager (see DatabaseService.transaction). */
@Injectable()
export class OrdersRepository {
  /** The INSERT text for each database kind and chunk size, made once. */
  private readonly insertSqlBySize = new Map<string, string>();

  constructor(private readonly database: DatabaseService) {}

  /**
   * Inserts orders that are not there yet; an order id already stored is left untouched (redelivery).
   * One multi-row `INSERT … ON CONFLICT DO NOTHING` per chunk, written from the entity's column metadata
   * (names and transformers) rather than through the query builder, which cost several times the
   * database's own work per row while the writer kept up with a sell-out.
   */
  async insertIgnoringDuplicates(manager: EntityManager, orders: OrderRecord[]): Promise<void> {
    const { columns } = manager.connection.getMetadata(OrderEntity);
    let start = 0;
    for (const size of insertChunkSizes(orders.length)) {
      const parameters: unknown[] = [];
      for (let index = start; index < start + size; index++) {
        const row: OrderEntity = { ...orders[index], updatedAt: orders[index].createdAt };
        for (const column of columns) parameters.push(column.getEntityValue(row, true) ?? null);
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
      const { columns, tablePath } = manager.connection.getMetadata(OrderEntity);
      const columnList = columns.map((column) => driver.escape(column.databaseName)).join(', ');
      const tuples = Array.from({ length: rows }, (_, row) => `(${columns.map((_column, index) => (postgres ? `$${row * columns.length + index + 1}` : '?')).join(', ')})`);
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
}
