import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/app-config';
import { entities } from './entities';
import { migrations } from './migrations';

/**
 * How the embedded database is tuned for the order writer, which inserts a sell-out's orders in batches
 * of hundreds while the orders' indexes take them at random places:
 * - `synchronous = NORMAL`: with the write-ahead log, a commit survives a crash of the process (not
 *   of the machine), and orders are also kept in Redis until acknowledged.
 * - `cache_size = -65536` (64 MiB instead of 2 MiB): the index pages a batch touches stay in memory.
 * - `wal_autocheckpoint = 10000` pages (about 40 MiB) instead of 1,000: each checkpoint copies every page
 *   changed since the last one back into the database file, and random index inserts change many
 *   pages per batch, so checkpointing a tenth as often copies far fewer pages.
 * Together they keep the cost per inserted order from growing with the table as a sell-out fills it
 * (bench/README.md has the measurement).
 */
export const EMBEDDED_PRAGMAS = ['synchronous = NORMAL', 'cache_size = -65536', 'wal_autocheckpoint = 10000'] as const;

/**
 * TypeORM options for either database. Migrations run at boot, under a lock that spans processes
 * (`openDataSource` in migrations-lock.ts), not through TypeORM's `migrationsRun`; `synchronize` is never
 * on, so the committed migrations are the only source of the schema in every environment, tests included.
 */
export function dataSourceOptions(database: DatabaseConfig): DataSourceOptions {
  const common = { entities, migrations, migrationsRun: false, synchronize: false, logging: false } as const;
  if (database.kind === 'postgres') {
    return { ...common, type: 'postgres', url: database.url, extra: { max: 20, connectionTimeoutMillis: 5000 } };
  }
  if (database.file !== ':memory:') mkdirSync(dirname(database.file), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: database.file,
    enableWAL: true,
    timeout: 5000,
    prepareDatabase: (db: { pragma: (source: string) => unknown }) => {
      for (const pragma of EMBEDDED_PRAGMAS) db.pragma(pragma);
    },
  };
}
