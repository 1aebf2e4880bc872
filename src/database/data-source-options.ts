import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/app-config';
import { entities } from './entities';
import { migrations } from './migrations';

/**
 * TypeORM options for either database. Migrations run at boot; `synchronize` is never on, so the
 * committed migrations are the only source of the schema in every environment, tests included.
 */
export function dataSourceOptions(database: DatabaseConfig): DataSourceOptions {
  const common = { entities, migrations, migrationsRun: true, synchronize: false, logging: false } as const;
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
      db.pragma('synchronous = NORMAL');
    },
  };
}
