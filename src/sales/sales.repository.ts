import { Injectable } from '@nestjs/common';
import { Brackets, EntityManager, In, MoreThan } from 'typeorm';
import { SALE_LIMITS } from '../contract/sale-limits';
import { DatabaseService } from '../database/database.service';
import type { SalePhase } from './sale-rules';
import { SaleEntity } from './sale.entity';

/** A position in the archive's order (startsAt descending, then id descending). */
export interface SaleArchivePosition {
  startsAt: number;
  id: string;
}

export interface SaleArchiveFilter {
  /** Only sales that may be in one of these phases at `now` (the caller checks the live ones exactly). */
  phases?: SalePhase[];
  /** Lower-case text to find in the sku or the name. */
  text?: string;
  after?: SaleArchivePosition;
  now: number;
  limit: number;
}

/*
 * The phases as conditions on the row at :now, in salePhase's precedence. `live` and `sold_out` differ
 * only in the stock left, which Redis holds: both get the same condition here.
 */
const NOT_ENDED = 'sale.ends_at > :now';
const RUNNING = `${NOT_ENDED} AND sale.paused = FALSE`;
const BEFORE_START = `${RUNNING} AND sale.starts_at > :now`;
const BEFORE_PRIORITY = `${BEFORE_START} AND sale.fcode_opens_at > :now`;
const PHASE_CONDITIONS: Record<SalePhase, string> = {
  ended: 'sale.ends_at <= :now',
  paused: `${NOT_ENDED} AND sale.paused = TRUE`,
  live: `${RUNNING} AND sale.starts_at <= :now`,
  sold_out: `${RUNNING} AND sale.starts_at <= :now`,
  priority: `${BEFORE_START} AND sale.fcode_opens_at <= :now`,
  waiting: `${BEFORE_PRIORITY} AND sale.reservation_closes_at <= :now`,
  reservation: `${BEFORE_PRIORITY} AND sale.reservation_closes_at > :now AND sale.reservation_opens_at <= :now`,
  upcoming: `${BEFORE_PRIORITY} AND sale.reservation_opens_at > :now`,
};

/** Stands for an unset (null) time in comparisons: no sale time is negative. */
const UNSET_TIME = -1;

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
   * Sales whose orders may still change at `at`: not ended, or ended with their payment window (which
   * follows `endsAt`) still open. Soonest start first.
   */
  findPaymentWindowOpenAt(at: number): Promise<SaleEntity[]> {
    return this.paymentWindowOpenAt(at).orderBy('sale.starts_at', 'ASC').addOrderBy('sale.id', 'ASC').getMany();
  }

  /** The ids of the sales `findPaymentWindowOpenAt` finds (the rest of each row is left unread). */
  async idsWithPaymentWindowOpenAt(at: number): Promise<string[]> {
    const rows = await this.paymentWindowOpenAt(at).select('sale.id', 'id').getRawMany<{ id: string }>();
    return rows.map((row) => row.id);
  }

  private paymentWindowOpenAt(at: number) {
    return (
      this.database.manager
        .createQueryBuilder(SaleEntity, 'sale')
        // No payment window is longer than the longest allowed: this bound lets the index on ends_at narrow
        // the scan to recent sales; the sum decides.
        .where('sale.ends_at > :earliest', { earliest: at - SALE_LIMITS.paymentWindowSecondsMax * 1000 })
        .andWhere('sale.ends_at + sale.payment_window_seconds * 1000 > :at', { at })
    );
  }

  /**
   * One page of every sale, ended ones included, newest `startsAt` first (ties by id, so a page boundary
   * never skips or repeats a sale), after `filter.after`. Keyset pagination: cheap on any number of sales.
   */
  findArchivePage(filter: SaleArchiveFilter): Promise<SaleEntity[]> {
    const query = this.database.manager.createQueryBuilder(SaleEntity, 'sale').setParameters({ now: filter.now });
    if (filter.phases !== undefined) {
      const conditions = [...new Set(filter.phases.map((phase) => PHASE_CONDITIONS[phase]))];
      query.andWhere(new Brackets((phases) => conditions.forEach((condition) => phases.orWhere(`(${condition})`))));
    }
    if (filter.text !== undefined && filter.text !== '') {
      const pattern = `%${filter.text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
      query.andWhere(`(LOWER(sale.sku) LIKE :pattern ESCAPE '\\' OR LOWER(sale.name) LIKE :pattern ESCAPE '\\')`, { pattern });
    }
    if (filter.after !== undefined) {
      query.andWhere('(sale.starts_at < :afterStartsAt OR (sale.starts_at = :afterStartsAt AND sale.id < :afterId))', { afterStartsAt: filter.after.startsAt, afterId: filter.after.id });
    }
    return query.orderBy('sale.starts_at', 'DESC').addOrderBy('sale.id', 'DESC').limit(filter.limit).getMany();
  }

  /**
   * Changes a sale's settings, conditional on its times still being those the caller validated against
   * (the five windows, and when the waiting room opens and lottery entries close, which must not pass the
   * start), so that two concurrent PATCHes can never combine into an order of times neither of them
   * checked (stock changes and pauses do not touch the times, so they never make a PATCH retry).
   * Returns whether the row changed.
   */
  async updateIfTimesUnchanged(manager: EntityManager, expected: SaleEntity, changes: Partial<SaleEntity>): Promise<boolean> {
    // The two admission times are null while they follow the sale's own; -1 (no epoch time) stands for
    // null, so one comparison works on both databases.
    const admissionTimes = { queueOpensAt: expected.queueOpensAt ?? UNSET_TIME, lotteryClosesAt: expected.lotteryClosesAt ?? UNSET_TIME, unset: UNSET_TIME };
    const result = await manager
      .createQueryBuilder()
      .update(SaleEntity)
      .set(changes)
      .where('id = :id', { id: expected.id })
      .andWhere('reservation_opens_at = :reservationOpensAt AND reservation_closes_at = :reservationClosesAt', expected)
      .andWhere('fcode_opens_at = :fcodeOpensAt AND starts_at = :startsAt AND ends_at = :endsAt', expected)
      .andWhere('COALESCE(queue_opens_at, :unset) = :queueOpensAt AND COALESCE(lottery_closes_at, :unset) = :lotteryClosesAt', admissionTimes)
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
