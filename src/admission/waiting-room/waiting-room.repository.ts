import { Injectable } from '@nestjs/common';
import { EntityManager, MoreThan } from 'typeorm';
import { DatabaseService } from '../../database/database.service';
import { keysetPages } from '../../database/keyset-pages';
import { SaleEntity } from '../../sales/sale.entity';
import { QueueEntryEntity } from './queue-entry.entity';

/** Rows per statement when admission times are recorded (four parameters a row). */
const ADMISSIONS_PER_STATEMENT = 500;

/** A buyer who saw their admission, as recorded. */
export interface RecordedAdmission {
  saleId: string;
  userId: string;
  place: number;
  admittedAt: number;
}

/** How far a waiting room had got, as the database knows it: what the rebuild puts back. */
export interface RecordedLine {
  /** Places admitted from the front. */
  admitted: number;
  /** Joins after the start (the arrival number the next one gets is one more). */
  arrivals: number;
}

/**
 * A sale's waiting room in the database: the line (`queue_entries`: each buyer's place and when they saw
 * their admission) and the count of places admitted (`sales.queue_admitted`).
 */
@Injectable()
export class WaitingRoomRepository {
  constructor(private readonly database: DatabaseService) {}

  /** Records a buyer's place; a place recorded already is kept (a place never changes). */
  async insertPlace(manager: EntityManager, saleId: string, userId: string, place: number): Promise<void> {
    await manager.createQueryBuilder().insert().into(QueueEntryEntity).values({ saleId, userId, place, admittedAt: null }).orIgnore().execute();
  }

  /**
   * Records when buyers first saw their admission (their place too, should the join's own record be
   * missing); a time recorded already is kept.
   */
  async recordAdmissions(manager: EntityManager, admissions: readonly RecordedAdmission[]): Promise<void> {
    const runner = manager.queryRunner;
    if (!runner) throw new Error('Admissions are recorded inside DatabaseService.transaction');
    const postgres = this.database.kind === 'postgres';
    for (let start = 0; start < admissions.length; start += ADMISSIONS_PER_STATEMENT) {
      const chunk = admissions.slice(start, start + ADMISSIONS_PER_STATEMENT);
      const rows = chunk.map((_, index) => (postgres ? `($${4 * index + 1}, $${4 * index + 2}, $${4 * index + 3}, $${4 * index + 4})` : '(?, ?, ?, ?)')).join(', ');
      await runner.query(
        `INSERT INTO queue_entries (sale_id, user_id, place, admitted_at) VALUES ${rows}
         ON CONFLICT (sale_id, user_id) DO UPDATE SET admitted_at = COALESCE(queue_entries.admitted_at, excluded.admitted_at)`,
        chunk.flatMap((admission) => [admission.saleId, admission.userId, admission.place, admission.admittedAt]),
      );
    }
  }

  /** Records the places admitted from the front, unless a higher count is recorded already. */
  async recordAdmitted(manager: EntityManager, saleId: string, admitted: number): Promise<void> {
    await manager.createQueryBuilder().update(SaleEntity).set({ queueAdmitted: admitted }).where('id = :saleId AND queue_admitted < :admitted', { saleId, admitted }).execute();
  }

  /** The line in pages of `pageSize`, by user id. */
  entryPages(saleId: string, pageSize: number): AsyncGenerator<QueueEntryEntity[]> {
    return keysetPages(
      (after, take) => this.database.manager.find(QueueEntryEntity, { where: { saleId, userId: MoreThan(after) }, order: { userId: 'ASC' }, take }),
      (entry) => entry.userId,
      pageSize,
    );
  }

  /**
   * How far the line had got: the admitted count recorded, or, if further, up to the last buyer recorded
   * as having seen their admission (the count is recorded at intervals, their times as they come).
   */
  async recordedLine(sale: Pick<SaleEntity, 'id' | 'queueAdmitted'>): Promise<RecordedLine> {
    const [row] = (await this.database.manager.query(
      this.database.kind === 'postgres'
        ? `SELECT (SELECT count(*) FROM queue_entries WHERE sale_id = $1 AND place <= (SELECT max(place) FROM queue_entries WHERE sale_id = $1 AND admitted_at IS NOT NULL)) AS seen,
                  (SELECT max(place) FROM queue_entries WHERE sale_id = $1) AS last`
        : `SELECT (SELECT count(*) FROM queue_entries WHERE sale_id = ? AND place <= (SELECT max(place) FROM queue_entries WHERE sale_id = ? AND admitted_at IS NOT NULL)) AS seen,
                  (SELECT max(place) FROM queue_entries WHERE sale_id = ?) AS last`,
      this.database.kind === 'postgres' ? [sale.id] : [sale.id, sale.id, sale.id],
    )) as { seen: string | number | null; last: string | number | null }[];
    const last = Number(row?.last ?? 0);
    return { admitted: Math.max(sale.queueAdmitted, Number(row?.seen ?? 0)), arrivals: last >= 1 ? Math.round(last) - 1 : 0 };
  }
}
