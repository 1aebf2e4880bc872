import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/**
 * Runs database writes. PostgreSQL gets real concurrent transactions. The embedded SQLite database has a
 * single connection shared by every query runner, so two overlapping transactions would fail with
 * "cannot start a transaction within a transaction"; there, writes are queued and run one at a time.
 * Every write in the service goes through `transaction()` — never `repository.save()` on its own.
 */
@Injectable()
export class DatabaseService {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly dataSource: DataSource) {}

  get kind(): 'postgres' | 'sqlite' {
    return this.dataSource.options.type === 'postgres' ? 'postgres' : 'sqlite';
  }

  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.kind === 'postgres') return this.dataSource.transaction(work);
    const run = this.queue.then(() => this.dataSource.transaction(work));
    // Keep the queue alive whatever this transaction's outcome.
    this.queue = run.catch(() => undefined);
    return run;
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}
