import { Injectable } from '@nestjs/common';
import { EntityManager, MoreThan } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { keysetPages } from '../database/keyset-pages';
import { FcodeBatchEntity } from './fcode-batch.entity';
import { FcodeEntity, FcodeStatus } from './fcode.entity';

/** Parameters per code row of the SQLite insert; keeps each statement under SQLite's 32,766. */
const SQLITE_PARAMETERS_PER_CODE = 9;
const SQLITE_ROWS_PER_INSERT = Math.floor(32_766 / SQLITE_PARAMETERS_PER_CODE);
/** Codes per PostgreSQL insert (three array parameters, whatever the number of rows). */
const POSTGRES_ROWS_PER_INSERT = 20_000;

/** A code of a new batch: the rest of its row comes from the batch. */
export interface NewFcode {
  codeHash: string;
  codeCipher: string;
  userId: string | null;
}

/** What a batch's counts need of each code. */
export type FcodeStateRow = Pick<FcodeEntity, 'codeHash' | 'status' | 'expiresAt'>;

/** Per batch: its codes bound to a user, and those voided in the database. */
export interface BatchCodeCounts {
  bound: number;
  void: number;
}

export type FcodeExportRow = Pick<FcodeEntity, 'codeHash' | 'codeCipher' | 'userId' | 'status' | 'expiresAt'>;

/**
 * The `fcodes` and `fcode_batches` tables. Writes take the transaction's manager (every write runs in
 * `DatabaseService.transaction`); reads use the shared manager.
 */
@Injectable()
export class FcodeRepository {
  constructor(private readonly database: DatabaseService) {}

  /**
   * Inserts a batch and its codes (all `issued`, with the batch's expiry and creation time). 100,000
   * codes take well under a second of database time this way; TypeORM's insert builder spends seconds
   * naming and escaping that many parameters.
   */
  async insertBatch(manager: EntityManager, batch: FcodeBatchEntity, codes: NewFcode[]): Promise<void> {
    await manager.createQueryBuilder().insert().into(FcodeBatchEntity).values(batch).execute();
    // In hash order, both indexes (the primary key and the export's) are filled in one ordered pass
    // instead of at 100,000 random places.
    const ordered = [...codes].sort((left, right) => (left.codeHash < right.codeHash ? -1 : 1));
    if (this.database.kind === 'postgres') await insertCodesPostgres(manager, batch, ordered);
    else await insertCodesSqlite(manager, batch, ordered);
  }

  /** Marks a code void unless it already is; returns whether this call changed it. */
  async markVoidIfIssued(manager: EntityManager, codeHash: string, now: number): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .update(FcodeEntity)
      .set({ status: 'void', voidedAt: now })
      .where('code_hash = :codeHash AND status = :issued', { codeHash, issued: 'issued' })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  findByHash(codeHash: string): Promise<FcodeEntity | null> {
    return this.database.manager.findOne(FcodeEntity, { where: { codeHash } });
  }

  findBatch(saleId: string, batchId: string): Promise<FcodeBatchEntity | null> {
    return this.database.manager.findOne(FcodeBatchEntity, { where: { id: batchId, saleId } });
  }

  /** Batch ids of a sale, oldest first. */
  async batchIdsOfSale(saleId: string): Promise<string[]> {
    const batches = await this.database.manager.find(FcodeBatchEntity, { select: { id: true }, where: { saleId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return batches.map((batch) => batch.id);
  }

  /** A sale's batches, newest first. */
  batchesOfSale(saleId: string): Promise<FcodeBatchEntity[]> {
    return this.database.manager.find(FcodeBatchEntity, { where: { saleId }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  /** Bound and void codes of each batch of a sale, by batch id (batches with neither are absent). */
  async codeCountsByBatch(saleId: string): Promise<Map<string, BatchCodeCounts>> {
    const rows: { batchId: string; bound: string | number | null; void: string | number | null }[] = await this.database.manager
      .createQueryBuilder(FcodeEntity, 'fcode')
      .select('fcode.batch_id', 'batchId')
      .addSelect('SUM(CASE WHEN fcode.user_id IS NULL THEN 0 ELSE 1 END)', 'bound')
      .addSelect("SUM(CASE WHEN fcode.status = 'void' THEN 1 ELSE 0 END)", 'void')
      .where('fcode.sale_id = :saleId', { saleId })
      .groupBy('fcode.batch_id')
      .getRawMany();
    return new Map(rows.map((row) => [row.batchId, { bound: Number(row.bound ?? 0), void: Number(row.void ?? 0) }]));
  }

  /** One page of a batch's codes (hash, status, expiry) in hash order, after `afterHash`. */
  async pageOfBatchStates(saleId: string, batchId: string, afterHash: string, limit: number): Promise<FcodeStateRow[]> {
    const rows = await this.database.manager
      .createQueryBuilder(FcodeEntity, 'fcode')
      .select('fcode.code_hash', 'codeHash')
      .addSelect('fcode.status', 'status')
      .addSelect('fcode.expires_at', 'expiresAt')
      .where('fcode.sale_id = :saleId AND fcode.batch_id = :batchId AND fcode.code_hash > :afterHash', { saleId, batchId, afterHash })
      .orderBy('fcode.code_hash', 'ASC')
      .limit(limit)
      .getRawMany<{ codeHash: string; status: FcodeStatus; expiresAt: string | number | null }>();
    return rows.map((row) => ({ ...row, expiresAt: row.expiresAt === null ? null : Number(row.expiresAt) }));
  }

  /** One page of a batch's codes in hash order, after `afterHash` (keyset pagination on the index). */
  async pageOfBatch(saleId: string, batchId: string, afterHash: string, limit: number): Promise<FcodeExportRow[]> {
    // Raw rows: hydrating 100,000 entities costs more than the query.
    const rows = await this.database.manager
      .createQueryBuilder(FcodeEntity, 'fcode')
      .select('fcode.code_hash', 'codeHash')
      .addSelect('fcode.code_cipher', 'codeCipher')
      .addSelect('fcode.user_id', 'userId')
      .addSelect('fcode.status', 'status')
      .addSelect('fcode.expires_at', 'expiresAt')
      .where('fcode.sale_id = :saleId AND fcode.batch_id = :batchId AND fcode.code_hash > :afterHash', { saleId, batchId, afterHash })
      .orderBy('fcode.code_hash', 'ASC')
      .limit(limit)
      .getRawMany<{ codeHash: string; codeCipher: string; userId: string | null; status: FcodeStatus; expiresAt: string | number | null }>();
    return rows.map((row) => ({ ...row, expiresAt: row.expiresAt === null ? null : Number(row.expiresAt) }));
  }

  countBySale(saleId: string): Promise<number> {
    return this.database.manager.count(FcodeEntity, { where: { saleId } });
  }

  /** The sale's F-codes in pages of `pageSize`, by code hash. */
  pagesOfSale(saleId: string, pageSize: number): AsyncGenerator<FcodeEntity[]> {
    return keysetPages(
      (after, take) => this.database.manager.find(FcodeEntity, { where: { saleId, codeHash: MoreThan(after) }, order: { codeHash: 'ASC' }, take }),
      (code) => code.codeHash,
      pageSize,
    );
  }

  /** Codes of a sale: all of them, and the void ones. */
  async countsOfSale(saleId: string): Promise<{ issued: number; void: number }> {
    const rows: { status: string; total: string | number }[] = await this.database.manager
      .createQueryBuilder(FcodeEntity, 'fcode')
      .select('fcode.status', 'status')
      .addSelect('COUNT(*)', 'total')
      .where('fcode.saleId = :saleId', { saleId })
      .groupBy('fcode.status')
      .getRawMany();
    const counts = { issued: 0, void: 0 };
    for (const row of rows) {
      counts.issued += Number(row.total);
      if (row.status === 'void') counts.void += Number(row.total);
    }
    return counts;
  }

  /** Hashes of a sale's codes that are not void and whose expiry has passed, one page after `afterHash`. */
  async pageOfLapsedHashes(saleId: string, now: number, afterHash: string, limit: number): Promise<string[]> {
    const rows = await this.database.manager
      .createQueryBuilder(FcodeEntity, 'fcode')
      .select('fcode.codeHash', 'codeHash')
      .where('fcode.saleId = :saleId AND fcode.status = :issued AND fcode.expiresAt IS NOT NULL AND fcode.expiresAt <= :now AND fcode.codeHash > :afterHash', {
        saleId,
        issued: 'issued',
        now,
        afterHash,
      })
      .orderBy('fcode.codeHash', 'ASC')
      .limit(limit)
      .getRawMany<{ codeHash: string }>();
    return rows.map((row) => row.codeHash);
  }
}

/** Whole columns as array parameters, unnested server-side: no per-row parameters to parse and plan. */
async function insertCodesPostgres(manager: EntityManager, batch: FcodeBatchEntity, codes: NewFcode[]): Promise<void> {
  for (let start = 0; start < codes.length; start += POSTGRES_ROWS_PER_INSERT) {
    const chunk = codes.slice(start, start + POSTGRES_ROWS_PER_INSERT);
    await manager.query(
      `INSERT INTO fcodes (code_hash, code_cipher, sale_id, batch_id, user_id, status, expires_at, created_at, voided_at)
       SELECT code.hash, code.cipher, $4, $5, code.user_id, 'issued', $6::bigint, $7::bigint, NULL
       FROM unnest($1::varchar[], $2::varchar[], $3::varchar[]) AS code(hash, cipher, user_id)`,
      [chunk.map((code) => code.codeHash), chunk.map((code) => code.codeCipher), chunk.map((code) => code.userId), batch.saleId, batch.id, batch.expiresAt, batch.createdAt],
    );
  }
}

/** Multi-row VALUES, as many rows per statement as SQLite's parameter limit allows. */
async function insertCodesSqlite(manager: EntityManager, batch: FcodeBatchEntity, codes: NewFcode[]): Promise<void> {
  const row = `(${Array<string>(SQLITE_PARAMETERS_PER_CODE).fill('?').join(', ')})`;
  for (let start = 0; start < codes.length; start += SQLITE_ROWS_PER_INSERT) {
    const chunk = codes.slice(start, start + SQLITE_ROWS_PER_INSERT);
    const parameters = chunk.flatMap((code) => [code.codeHash, code.codeCipher, batch.saleId, batch.id, code.userId, 'issued', batch.expiresAt, batch.createdAt, null]);
    await manager.query(
      `INSERT INTO fcodes (code_hash, code_cipher, sale_id, batch_id, user_id, status, expires_at, created_at, voided_at) VALUES ${Array<string>(chunk.length).fill(row).join(', ')}`,
      parameters,
    );
  }
}
