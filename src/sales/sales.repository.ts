import { Injectable } from '@nestjs/common';
import { EntityManager, MoreThan } from 'typeorm';
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

  /** Sales whose `endsAt` is after `now`, soonest start first. */
  findNotEnded(now: number): Promise<SaleEntity[]> {
    return this.database.manager.find(SaleEntity, { where: { endsAt: MoreThan(now) }, order: { startsAt: 'ASC', id: 'ASC' } });
  }

  /**
   * Changes a sale's settings, conditional on the row still being what the caller validated against
   * (`updatedAt`), so that two concurrent PATCHes cannot combine into a sale neither of them checked.
   * Returns whether the row changed.
   */
  async updateIfUnchanged(manager: EntityManager, saleId: string, expectedUpdatedAt: number, changes: Partial<SaleEntity>): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .update(SaleEntity)
      .set(changes)
      .where('id = :saleId AND updated_at = :expectedUpdatedAt', { saleId, expectedUpdatedAt })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async setPaused(manager: EntityManager, saleId: string, paused: boolean, now: number): Promise<void> {
    await manager.createQueryBuilder().update(SaleEntity).set({ paused, updatedAt: now }).where('id = :saleId', { saleId }).execute();
  }

  /** Sets a pool's total to the value Redis now holds (Redis decides the clamp; the row follows). */
  async setPoolTotal(manager: EntityManager, saleId: string, pool: 'general' | 'fcode', total: number, now: number): Promise<void> {
    const changes: Partial<SaleEntity> = pool === 'general' ? { stock: total } : { fcodeStock: total };
    await manager
      .createQueryBuilder()
      .update(SaleEntity)
      .set({ ...changes, updatedAt: now })
      .where('id = :saleId', { saleId })
      .execute();
  }
}
