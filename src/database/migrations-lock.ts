import { DataSource, DataSourceOptions, QueryRunner } from 'typeorm';

/**
 * The PostgreSQL advisory lock that serialises migrations: "sellout" in ASCII, as a bigint. Advisory
 * locks are scoped to one database, so deployments on other databases of the same server never wait
 * for each other.
 */
export const MIGRATIONS_LOCK_ID = '32483392305616244';

/**
 * How long an embedded database waits for another process's migrations (its busy timeout while it
 * waits for the write lock); the connection's own busy timeout is restored afterwards.
 */
const EMBEDDED_LOCK_WAIT_MS = 600_000;

export interface MigrationsReport {
  /** Names of the migrations this call applied (empty when another process had applied them). */
  applied: string[];
  /** Whether another process held the lock when this one asked for it. */
  waited: boolean;
}

/**
 * Opens a DataSource and brings its schema up to date. Several processes or hosts booting together on
 * one database (a process per core, a rolling deploy) would otherwise race on the same `CREATE TABLE`:
 * TypeORM's own `migrationsRun` reads which migrations are pending before taking any lock. Here the
 * read and the migrations both happen under a lock that spans processes, so the first one in applies
 * them and the others find nothing pending.
 */
export async function openDataSource(options: DataSourceOptions, onWait?: () => void): Promise<DataSource> {
  const dataSource = new DataSource({ ...options, migrationsRun: false });
  await dataSource.initialize();
  try {
    await runMigrationsOnce(dataSource, onWait);
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
  return dataSource;
}

/** Runs the pending migrations of an initialized DataSource under the cross-process lock. */
export async function runMigrationsOnce(dataSource: DataSource, onWait?: () => void): Promise<MigrationsReport> {
  const runner = dataSource.createQueryRunner();
  try {
    return dataSource.options.type === 'postgres' ? await underAdvisoryLock(dataSource, runner, onWait) : await underExclusiveTransaction(dataSource, runner, onWait);
  } finally {
    await runner.release();
  }
}

/**
 * PostgreSQL: a session-level advisory lock on the runner's own connection, held while TypeORM runs the
 * migrations (in one transaction, on another pooled connection). A process that dies while holding
 * it loses its connection, and the lock with it.
 */
async function underAdvisoryLock(dataSource: DataSource, runner: QueryRunner, onWait?: () => void): Promise<MigrationsReport> {
  await runner.connect();
  const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATIONS_LOCK_ID])) as [{ locked: boolean }];
  if (!locked) {
    onWait?.();
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATIONS_LOCK_ID]);
  }
  try {
    const applied = await dataSource.runMigrations({ transaction: 'all' });
    return { applied: applied.map((migration) => migration.name), waited: !locked };
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATIONS_LOCK_ID]);
  }
}

/**
 * The embedded database: `BEGIN EXCLUSIVE` takes the file's write lock, which other processes (and the
 * order writer thread's own connection) wait for. TypeORM's SQLite driver shares one connection between
 * all its query runners, so the migrations, run without a transaction of their own, run inside this one:
 * they commit together with their bookkeeping, or not at all.
 */
async function underExclusiveTransaction(dataSource: DataSource, runner: QueryRunner, onWait?: () => void): Promise<MigrationsReport> {
  const [{ timeout }] = (await runner.query('PRAGMA busy_timeout')) as [{ timeout: number }];
  // A migration that rebuilds a table must not trip foreign keys halfway. The pragma is a no-op inside a
  // transaction, so it is set around it, as TypeORM does around its own migration transactions.
  await runner.query('PRAGMA foreign_keys = OFF');
  try {
    const waited = await beginExclusive(runner, Number(timeout), onWait);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'none' });
      await runner.query('COMMIT');
      return { applied: applied.map((migration) => migration.name), waited };
    } catch (error) {
      await runner.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } finally {
    await runner.query('PRAGMA foreign_keys = ON');
  }
}

/** Takes the write lock, waiting for it only after saying so; true when another process held it. */
async function beginExclusive(runner: QueryRunner, busyTimeoutMs: number, onWait?: () => void): Promise<boolean> {
  await runner.query('PRAGMA busy_timeout = 0');
  try {
    await runner.query('BEGIN EXCLUSIVE');
    return false;
  } catch (error) {
    if (!isBusy(error)) throw error;
    onWait?.();
    await runner.query(`PRAGMA busy_timeout = ${EMBEDDED_LOCK_WAIT_MS}`);
    await runner.query('BEGIN EXCLUSIVE');
    return true;
  } finally {
    await runner.query(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
  }
}

export function isBusy(error: unknown): boolean {
  const code = (error as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (error as { code?: string }).code;
  return code === 'SQLITE_BUSY';
}
