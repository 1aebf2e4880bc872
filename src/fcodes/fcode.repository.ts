import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { FcodeBatchEntity } from './fcode-batch.entity';
import { FcodeEntity, FcodeStatus } from './fcode.entity';

/** Columns written per code row; keeps multi-row inserts under each database's bound-parameter limit. */
const COLUMNS_PER_CODE = 9;
const MAX_PARAMETERS = { postgres: 65535, sqlite: 32766 } as const;
/** Large enough that 100,000 codes take a few dozen statements, small enough to keep each one quick. */
const MAX_ROWS_PER_INSERT = 5000;

export type FcodeExportRow = Pick<FcodeEntity, 'codeHash' | 'codeCipher' | 'userId' | 'status' | 'expiresAt'>;

/**
 * The `fcodes` and `fcode_batches` tables. Writes take the transaction's manager (every write runs in
 * `DatabaseService.transaction`); reads use the shared manager.
 */
@Injectable()
export class FcodeRepository {
  constructor(private readonly database: DatabaseService) {}

  /** Rows per INSERT statement on this database. */
  get rowsPerInsert(): number {
    return Math.min(MAX_ROWS_PER_INSERT, Math.floor(MAX_PARAMETERS[this.database.kind] / COLUMNS_PER_CODE));
  }

  async insertBatch(manager: EntityManager, batch: FcodeBatchEntity, codes: FcodeEntity[]): Promise<void> {
    await manager.createQueryBuilder().insert().into(FcodeBatchEntity).values(batch).execute();
    // Plain multi-row INSERTs: TypeORM's insert builder spends seconds naming and escaping 100,000 rows'
    // parameters, while the databases take them in well under a second.
    const rowsPerInsert = this.rowsPerInsert;
    const placeholder = this.database.kind === 'postgres' ? (index: number) => `$${index + 1}` : () => '?';
    for (let start = 0; start < codes.length; start += rowsPerInsert) {
      const chunk = codes.slice(start, start + rowsPerInsert);
      const parameters: unknown[] = [];
      const rows = chunk.map((code) => {
        const first = parameters.length;
        parameters.push(code.codeHash, code.codeCipher, code.saleId, code.batchId, code.userId, code.status, code.expiresAt, code.createdAt, code.voidedAt);
        return `(${Array.from({ length: COLUMNS_PER_CODE }, (_, offset) => placeholder(first + offset)).join(', ')})`;
      });
      await manager.query(
        `INSERT INTO fcodes (code_hash, code_cipher, sale_id, batch_id, user_id, status, expires_at, created_at, voided_at) VALUES ${rows.join(', ')}`,
        parameters,
      );
    }
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
