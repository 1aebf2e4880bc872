import { Injectable } from '@nestjs/common';
import { EntityManager, IsNull } from 'typeorm';
import { DatabaseService } from '../../database/database.service';
import { SaleEntity } from '../../sales/sale.entity';
import { LotteryEntryEntity } from './lottery-entry.entity';
import { LotteryRoundEntity } from './lottery-round.entity';

/**
 * User ids per page when the draw reads the entries: each page is one query, which on the embedded
 * database holds the event loop while it runs, so pages stay small.
 */
const ENTRIES_PER_PAGE = 10_000;

export type EntryRecord = { outcome: 'ENTERED' | 'IN'; enteredAt: number } | { outcome: 'CLOSED' };

/** One admission round as stored. */
export interface StoredRound {
  round: number;
  admittedUpTo: number;
  buyBy: number;
}

/**
 * A sale's lottery in the database: the lottery columns of its `sales` row (the committed seed, when the
 * draw started, how many entries it ranked), its entries and its admission rounds.
 */
@Injectable()
export class LotteryRepository {
  constructor(private readonly database: DatabaseService) {}

  /** Stores the seed and its hash unless one is committed already; true when this call committed. */
  async commitSeed(saleId: string, seed: string, seedHash: string, now: number): Promise<boolean> {
    const result = await this.database.transaction((manager) => manager.update(SaleEntity, { id: saleId, lotterySeedHash: IsNull() }, { lotterySeed: seed, lotterySeedHash: seedHash, updatedAt: now }));
    return (result.affected ?? 0) > 0;
  }

  /**
   * Records an entry unless the draw has started (then `CLOSED`: the entry is not in the draw). The
   * insert reads the sale's row with a share lock, so it either commits before the draw marks the row
   * (and the draw, which reads the entries after, ranks it) or sees the mark and adds nothing.
   */
  async insertEntry(manager: EntityManager, saleId: string, userId: string, enteredAt: number): Promise<EntryRecord> {
    const runner = manager.queryRunner;
    if (!runner) throw new Error('Lottery entries are written inside DatabaseService.transaction');
    const sql =
      this.database.kind === 'postgres'
        ? `INSERT INTO lottery_entries (sale_id, user_id, entered_at)
           SELECT id, $2, $3 FROM sales WHERE id = $1 AND lottery_drawn_at IS NULL FOR SHARE
           ON CONFLICT DO NOTHING`
        : `INSERT INTO lottery_entries (sale_id, user_id, entered_at)
           SELECT id, ?, ? FROM sales WHERE id = ? AND lottery_drawn_at IS NULL
           ON CONFLICT DO NOTHING`;
    const parameters = this.database.kind === 'postgres' ? [saleId, userId, enteredAt] : [userId, enteredAt, saleId];
    const result = await runner.query(sql, parameters, true);
    if ((result.affected ?? 0) > 0) return { outcome: 'ENTERED', enteredAt };
    const existing = await manager.findOne(LotteryEntryEntity, { where: { saleId, userId } });
    return existing ? { outcome: 'IN', enteredAt: existing.enteredAt } : { outcome: 'CLOSED' };
  }

  /** Marks the start of the draw (once): no entry is added from now on. */
  async closeEntries(manager: EntityManager, saleId: string, now: number): Promise<void> {
    await manager.update(SaleEntity, { id: saleId, lotteryDrawnAt: IsNull() }, { lotteryDrawnAt: now, updatedAt: now });
  }

  /**
   * The sale's entries, a page at a time: each page the user ids separated by '\n' (ids hold no control
   * characters), joined by the database, so that a million entries arrive as a few dozen strings rather
   * than a million rows. With `times`, each line is `<userId>\t<enteredAt>`.
   */
  async *entryPages(saleId: string, times = false): AsyncGenerator<string> {
    const postgres = this.database.kind === 'postgres';
    const line = times ? (postgres ? `user_id || E'\\t' || entered_at` : `user_id || char(9) || entered_at`) : 'user_id';
    const sql = postgres
      ? `SELECT string_agg(${line}, E'\\n') AS lines, max(user_id) AS last, count(*) AS count
         FROM (SELECT user_id, entered_at FROM lottery_entries WHERE sale_id = $1 AND user_id > $2 ORDER BY user_id LIMIT $3) page`
      : `SELECT group_concat(${line}, char(10)) AS lines, max(user_id) AS last, count(*) AS count
         FROM (SELECT user_id, entered_at FROM lottery_entries WHERE sale_id = ? AND user_id > ? ORDER BY user_id LIMIT ?)`;
    let after = '';
    for (;;) {
      const [page] = (await this.database.manager.query(sql, [saleId, after, ENTRIES_PER_PAGE])) as { lines: string | null; last: string | null; count: string | number }[];
      const count = Number(page?.count ?? 0);
      if (count === 0 || page.lines === null || page.last === null) return;
      yield page.lines;
      if (count < ENTRIES_PER_PAGE) return;
      after = page.last;
      // The embedded database answers synchronously: let the event loop serve others between pages.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  countEntries(saleId: string): Promise<number> {
    return this.database.manager.count(LotteryEntryEntity, { where: { saleId } });
  }

  /**
   * Records a complete draw: how many entries it ranked and its first round. Once: a draw recorded
   * already (by a concurrent draw, which ranked the same entries) is kept, and the rounds of the one
   * recorded are returned either way.
   */
  async recordDraw(manager: EntityManager, saleId: string, entries: number, firstRound: Omit<StoredRound, 'round'>, now: number): Promise<StoredRound[]> {
    const result = await manager.update(SaleEntity, { id: saleId, lotteryEntryCount: IsNull() }, { lotteryEntryCount: entries, updatedAt: now });
    if ((result.affected ?? 0) > 0) await manager.insert(LotteryRoundEntity, { saleId, round: 1, ...firstRound });
    return this.roundsWith(manager, saleId);
  }

  /** Stores rounds opened since the last call (a round stored already is left as it is). */
  async recordRounds(manager: EntityManager, saleId: string, rounds: StoredRound[]): Promise<void> {
    if (rounds.length === 0) return;
    await manager
      .createQueryBuilder()
      .insert()
      .into(LotteryRoundEntity)
      .values(rounds.map((round) => ({ saleId, ...round })))
      .orIgnore()
      .execute();
  }

  /** The stored rounds, round 1 first. */
  rounds(saleId: string): Promise<StoredRound[]> {
    return this.roundsWith(this.database.manager, saleId);
  }

  private async roundsWith(manager: EntityManager, saleId: string): Promise<StoredRound[]> {
    const rows = await manager.find(LotteryRoundEntity, { where: { saleId }, order: { round: 'ASC' } });
    return rows.map(({ round, admittedUpTo, buyBy }) => ({ round, admittedUpTo, buyBy }));
  }
}
