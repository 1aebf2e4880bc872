import { Injectable } from '@nestjs/common';
import { EntityManager, In, MoreThan } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { SaleEntity } from './sale.entity';

/** The `sales` table. Writes take the caller's transaction manager (see DatabaseService.transaction). */
@Injectable()
export class SalesRepository {
  constructor(private readonly database: DatabaseService) {}

  async insert(manager: EntityManager, sale: SaleEntity): Promise<void> {
    await manager.insert(SaleEntity, sale);
  }

  findById(saleId: string, manager: EntityManager = this.database.manager): Promise<SaleEntity | null> {
    return manager.findOne(SaleEntity, { where: { id: saleId } });
  }

  /** Which of these sale ids this database holds. */
  async existingIds(saleIds: string[]): Promise<Set<string>> {
    if (saleIds.length === 0) return new Set();
    const rows = await this.database.manager.find(SaleEntity, { select: { id: true }, where: { id: In(saleIds) } });
    return new Set(rows.map((row) => row.id));
  }

  /** Sales whose `endsAt` is after `now`, soonest start first. */
  findNotEnded(now: number): Promise<SaleEntity[]> {
    return this.database.manager.find(SaleEntity, { where: { endsAt: MoreThan(now) }, order: { startsAt: 'ASC', id: 'ASC' } });
  }

  /**
   * Changes a sale's settings, conditional on its five times still being those the caller validated
   * against, so that two concurrent PATCHes can never combine into an order of times neither of them
   * checked (stock changes and pauses do not touch the times, so they never make a PATCH retry).
   * Returns whether the row changed.
   */
  async updateIfTimesUnchanged(manager: EntityManager, expected: SaleEntity, changes: Partial<SaleEntity>): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .update(SaleEntity)
      .set(changes)
      .where('id = :id', { id: expected.id })
      .andWhere('reservation_opens_at = :reservationOpensAt AND reservation_closes_at = :reservationClosesAt', expected)
      .andWhere('fcode_opens_at = :fcodeOpensAt AND starts_at = :startsAt AND ends_at = :endsAt', expected)
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async setPaused(manager: EntityManager, saleId: string, paused: boolean, now: number): Promise<void> {
    await manager.createQueryBuilder().update(SaleEntity).set({ paused, updatedAt: now }).where('id = :saleId', { saleId }).execute();
  }

  /**
   * Changes a pool's total by the signed amount Redis applied (Redis decides the clamp; the row follows).
   * Relative, so that concurrent adjustments commute.
   */
  async addToPool(manager: EntityManager, saleId: string, pool: 'general' | 'fcode', delta: number, now: number): Promise<void> {
    const column = pool === 'general' ? 'stock' : 'fcode_stock';
    await manager
      .createQueryBuilder()
      .update(SaleEntity)
      .set({ [pool === 'general' ? 'stock' : 'fcodeStock']: () => `${column} + :delta`, updatedAt: now })
      .where('id = :saleId', { saleId })
      .setParameters({ delta })
      .execute();
  }
}
