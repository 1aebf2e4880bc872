import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { isBusy } from './migrations-lock';

/** How long an embedded-database transaction waits for the write lock another connection holds. */
const WRITE_LOCK_WAIT_MS = 5_000;
const WRITE_LOCK_PAUSE_MAX_MS = 20;

/** The write lock was held by another connection: nothing of the transaction has run, it may start again. */
class WriteLockBusy extends Error {
  constructor(readonly busy: unknown) {
    super('the embedded database is locked by another connection');
  }
}

/**
 * Runs database writes. PostgreSQL gets real concurrent transactions. The embedded SQLite database has a
 * single connection shared by every query runner, so two overlapping transactions would fail with
 * "cannot start a transaction within a transaction"; there, writes are queued and run one at a time.
 * Every write in the service goes through `transaction()` — never `repository.save()` on its own.
 *
 * Another connection to the same file (the order writer's thread, a second process) may hold the write
 * lock. SQLite's own busy wait is synchronous: it would stall this thread's event loop for as long, and
 * when the holder is waiting for this very event loop (another app in one test process) neither moves
 * until the busy timeout. So an embedded transaction takes the write lock first, without waiting, and
 * when it is held starts again a moment later, for up to WRITE_LOCK_WAIT_MS: nothing has run by then.
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
    const run = this.queue.then(() => this.embeddedTransaction(work));
    // Keep the queue alive whatever this transaction's outcome.
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async embeddedTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const deadline = Date.now() + WRITE_LOCK_WAIT_MS;
    for (let pauseMs = 1; ; pauseMs = Math.min(pauseMs * 2, WRITE_LOCK_PAUSE_MAX_MS)) {
      try {
        return await this.dataSource.transaction(async (manager) => {
          await this.takeWriteLock(manager);
          return work(manager);
        });
      } catch (error) {
        if (!(error instanceof WriteLockBusy)) throw error;
        if (Date.now() >= deadline) throw error.busy;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    }
  }

  /** A write that changes nothing, made without waiting: from here on this transaction holds the lock. */
  private async takeWriteLock(manager: EntityManager): Promise<void> {
    const busyTimeoutMs = (this.dataSource.options as { timeout?: number }).timeout ?? 5000;
    await manager.query('PRAGMA busy_timeout = 0');
    try {
      await manager.query('UPDATE "sales" SET "id" = "id" WHERE 0');
    } catch (error) {
      if (isBusy(error)) throw new WriteLockBusy(error);
      throw error;
    } finally {
      await manager.query(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    }
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}
