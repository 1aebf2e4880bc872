import { Injectable } from '@nestjs/common';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { EntityManager, MoreThan, QueryRunner } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { keysetPages } from '../database/keyset-pages';
import { ReservationEntity } from './reservation.entity';

/** Ids per PostgreSQL statement: one array parameter, so only the statement's size bounds it. */
const POSTGRES_CHUNK = 10_000;

export interface BulkInsertResult {
  /** Ids that were not reserved before (reservedAt = the `now` passed in). */
  inserted: string[];
  /** Ids already reserved, with their first reservedAt. */
  existing: Map<string, number>;
}

/**
 * The `reservations` table: insert-or-ignore on (sale_id, user_id), so a repeat is harmless and the first
 * reservedAt wins. Writes take the caller's transaction manager (see DatabaseService.transaction); bulk
 * inserts use one statement per chunk on PostgreSQL and a prepared statement on SQLite, far faster than
 * the ORM's per-row path.
 */
@Injectable()
export class ReservationsRepository {
  constructor(private readonly database: DatabaseService) {}

  /** Reserves one place; returns the reservation's reservedAt and whether this call created it. */
  async insertOne(manager: EntityManager, saleId: string, userId: string, now: number): Promise<{ reservedAt: number; created: boolean }> {
    const runner = runnerOf(manager);
    const sql =
      this.database.kind === 'postgres'
        ? `INSERT INTO reservations (sale_id, user_id, reserved_at, source) VALUES ($1, $2, $3, 'self') ON CONFLICT DO NOTHING`
        : `INSERT INTO reservations (sale_id, user_id, reserved_at, source) VALUES (?, ?, ?, 'self') ON CONFLICT DO NOTHING`;
    const result = await runner.query(sql, [saleId, userId, now], true);
    if ((result.affected ?? 0) > 0) return { reservedAt: now, created: true };
    const existing = await manager.findOneOrFail(ReservationEntity, { where: { saleId, userId } });
    return { reservedAt: existing.reservedAt, created: false };
  }

  /** Reserves places for many distinct user ids at once (ops import). */
  async insertMany(manager: EntityManager, saleId: string, userIds: string[], now: number): Promise<BulkInsertResult> {
    return this.database.kind === 'postgres' ? this.insertManyPostgres(runnerOf(manager), saleId, userIds, now) : this.insertManySqlite(runnerOf(manager), saleId, userIds, now);
  }

  findOne(saleId: string, userId: string): Promise<ReservationEntity | null> {
    return this.database.manager.findOne(ReservationEntity, { where: { saleId, userId } });
  }

  count(saleId: string): Promise<number> {
    return this.database.manager.count(ReservationEntity, { where: { saleId } });
  }

  /** The sale's reservations in pages of `pageSize`, by user id. */
  pagesOfSale(saleId: string, pageSize: number): AsyncGenerator<ReservationEntity[]> {
    return keysetPages(
      (after, take) => this.database.manager.find(ReservationEntity, { where: { saleId, userId: MoreThan(after) }, order: { userId: 'ASC' }, take }),
      (reservation) => reservation.userId,
      pageSize,
    );
  }

  private async insertManyPostgres(runner: QueryRunner, saleId: string, userIds: string[], now: number): Promise<BulkInsertResult> {
    const inserted: string[] = [];
    const existing = new Map<string, number>();
    for (let start = 0; start < userIds.length; start += POSTGRES_CHUNK) {
      const chunk = userIds.slice(start, start + POSTGRES_CHUNK);
      const result = await runner.query(
        `INSERT INTO reservations (sale_id, user_id, reserved_at, source)
         SELECT $1, candidate, $3, 'import' FROM unnest($2::text[]) AS candidate
         ON CONFLICT DO NOTHING RETURNING user_id`,
        [saleId, chunk, now],
        true,
      );
      const fresh = new Set((result.records as { user_id: string }[]).map((record) => record.user_id));
      inserted.push(...fresh);
      if (fresh.size === chunk.length) continue;
      const duplicates = chunk.filter((userId) => !fresh.has(userId));
      const rows: { user_id: string; reserved_at: string }[] = await runner.query(`SELECT user_id, reserved_at FROM reservations WHERE sale_id = $1 AND user_id = ANY($2::text[])`, [saleId, duplicates]);
      for (const row of rows) existing.set(row.user_id, Number(row.reserved_at));
    }
    return { inserted, existing };
  }

  private async insertManySqlite(runner: QueryRunner, saleId: string, userIds: string[], now: number): Promise<BulkInsertResult> {
    // The transaction's own connection: the statements run inside the caller's BEGIN … COMMIT.
    const connection = (await runner.connect()) as SqliteDatabase;
    const insert = connection.prepare(`INSERT INTO reservations (sale_id, user_id, reserved_at, source) VALUES (?, ?, ?, 'import') ON CONFLICT DO NOTHING`);
    const select = connection.prepare(`SELECT reserved_at FROM reservations WHERE sale_id = ? AND user_id = ?`).pluck();
    const inserted: string[] = [];
    const existing = new Map<string, number>();
    for (const userId of userIds) {
      if (insert.run(saleId, userId, now).changes > 0) inserted.push(userId);
      else existing.set(userId, Number(select.get(saleId, userId)));
    }
    return { inserted, existing };
  }
}

function runnerOf(manager: EntityManager): QueryRunner {
  if (!manager.queryRunner) throw new Error('Reservation writes must run inside DatabaseService.transaction');
  return manager.queryRunner;
}
