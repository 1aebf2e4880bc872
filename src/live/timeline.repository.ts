import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DatabaseService } from '../database/database.service';

/** One process's count of attempts of a sale in a second with an outcome, to be added to the table. */
export interface TimelineCount {
  saleId: string;
  atSecond: number;
  outcome: string;
  attempts: number;
  unitsSold: number | null;
}

/** The attempts of one step of the timeline, summed over outcomes' rows. */
export interface TimelineStepRow {
  stepAt: number;
  outcome: string;
  attempts: number;
  unitsSold: number | null;
}

/** Rows per statement: five parameters a row, well under PostgreSQL's 65,535. */
const ROWS_PER_STATEMENT = 1000;

/**
 * The `sale_timeline` table. Processes add their counts with an upsert that sums attempts and keeps the
 * highest units-sold sample, so any number of processes may flush the same second in any order.
 */
@Injectable()
export class TimelineRepository {
  constructor(private readonly database: DatabaseService) {}

  async add(counts: TimelineCount[]): Promise<void> {
    // Through transaction(), as every write: on the embedded database a write outside it would run inside
    // whatever transaction another caller holds open on the one connection, and share its fate.
    await this.database.transaction((manager) => this.upsert(manager, counts));
  }

  private async upsert(manager: EntityManager, counts: TimelineCount[]): Promise<void> {
    const postgres = this.database.kind === 'postgres';
    for (let start = 0; start < counts.length; start += ROWS_PER_STATEMENT) {
      const chunk = counts.slice(start, start + ROWS_PER_STATEMENT);
      const parameters: (string | number | null)[] = [];
      const tuples = chunk.map((count) => {
        const base = parameters.length;
        parameters.push(count.saleId, count.atSecond, count.outcome, count.attempts, count.unitsSold);
        return postgres ? `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5})` : '(?, ?, ?, ?, ?)';
      });
      // GREATEST ignores NULLs on PostgreSQL; SQLite's MAX does not, hence the COALESCEs.
      const highest = postgres
        ? 'GREATEST(sale_timeline.units_sold, EXCLUDED.units_sold)'
        : 'MAX(COALESCE(sale_timeline.units_sold, excluded.units_sold), COALESCE(excluded.units_sold, sale_timeline.units_sold))';
      await manager.query(
        `INSERT INTO sale_timeline (sale_id, at_second, outcome, attempts, units_sold) VALUES ${tuples.join(', ')}
         ON CONFLICT (sale_id, at_second, outcome) DO UPDATE SET attempts = sale_timeline.attempts + excluded.attempts, units_sold = ${highest}`,
        parameters,
      );
    }
  }

  /** The sale's rows summed per step of `stepSeconds` and outcome, oldest step first. */
  async steps(saleId: string, stepSeconds: number): Promise<TimelineStepRow[]> {
    const rows: { step_at: string | number; outcome: string; attempts: string | number; units_sold: string | number | null }[] = await this.database.manager
      .createQueryBuilder()
      .select('(timeline.at_second / :step) * :step', 'step_at')
      .addSelect('timeline.outcome', 'outcome')
      .addSelect('SUM(timeline.attempts)', 'attempts')
      .addSelect('MAX(timeline.units_sold)', 'units_sold')
      .from('sale_timeline', 'timeline')
      .where('timeline.sale_id = :saleId', { saleId, step: stepSeconds })
      .groupBy('step_at')
      .addGroupBy('timeline.outcome')
      .orderBy('step_at', 'ASC')
      .getRawMany();
    return rows.map((row) => ({
      stepAt: Number(row.step_at),
      outcome: row.outcome,
      attempts: Number(row.attempts),
      unitsSold: row.units_sold === null ? null : Number(row.units_sold),
    }));
  }
}
