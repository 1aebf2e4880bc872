import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { OrderEntity, OrderStatus } from './order.entity';
import { OrderRecord } from './order-record';

/** Rows per INSERT: 14 columns × 1,000 stays far below SQLite's 32,766 and PostgreSQL's 65,535 parameters. */
const INSERT_CHUNK = 1000;

export type FinalStatus = Exclude<OrderStatus, 'pending_payment'>;

/** The `orders` table. Writes take the caller's transaction manager (see DatabaseService.transaction). */
@Injectable()
export class OrdersRepository {
  constructor(private readonly database: DatabaseService) {}

  /**
   * Inserts orders that are not there yet; an order id already stored is left untouched (redelivery).
   * One multi-row `INSERT … ON CONFLICT DO NOTHING` per chunk, written from the entity's column metadata
   * (names and transformers) rather than through the query builder, which cost several times the
   * database's own work per row while the writer kept up with a sell-out.
   */
  async insertIgnoringDuplicates(manager: EntityManager, orders: OrderRecord[]): Promise<void> {
    const { columns, tablePath } = manager.connection.getMetadata(OrderEntity);
    const { driver } = manager.connection;
    const postgres = driver.options.type === 'postgres';
    const columnList = columns.map((column) => driver.escape(column.databaseName)).join(', ');
    for (let start = 0; start < orders.length; start += INSERT_CHUNK) {
      const chunk = orders.slice(start, start + INSERT_CHUNK);
      const parameters: unknown[] = [];
      const tuples: string[] = [];
      for (const order of chunk) {
        const row: OrderEntity = { ...order, updatedAt: order.createdAt };
        const placeholders: string[] = [];
        for (const column of columns) {
          parameters.push(column.getEntityValue(row, true) ?? null);
          placeholders.push(postgres ? `$${parameters.length}` : '?');
        }
        tuples.push(`(${placeholders.join(', ')})`);
      }
      await manager.query(`INSERT INTO ${driver.escape(tablePath)} (${columnList}) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`, parameters);
    }
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

  async exists(manager: EntityManager, orderId: string): Promise<boolean> {
    return (await manager.count(OrderEntity, { where: { id: orderId } })) > 0;
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
