import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { FcodeBatchEntity } from './fcode-batch.entity';
import { FcodeEntity } from './fcode.entity';

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
    const rowsPerInsert = this.rowsPerInsert;
    for (let start = 0; start < codes.length; start += rowsPerInsert) {
      await manager
        .createQueryBuilder()
        .insert()
        .into(FcodeEntity)
        .values(codes.slice(start, start + rowsPerInsert))
        // TypeORM would otherwise read generated columns back row by row; there are none.
        .updateEntity(false)
        .execute();
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
  pageOfBatch(saleId: string, batchId: string, afterHash: string, limit: number): Promise<FcodeExportRow[]> {
    return this.database.manager
      .createQueryBuilder(FcodeEntity, 'fcode')
      .select(['fcode.codeHash', 'fcode.codeCipher', 'fcode.userId', 'fcode.status', 'fcode.expiresAt'])
      .where('fcode.saleId = :saleId AND fcode.batchId = :batchId AND fcode.codeHash > :afterHash', { saleId, batchId, afterHash })
      .orderBy('fcode.codeHash', 'ASC')
      .limit(limit)
      .getMany();
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
