import 'reflect-metadata';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../../src/config/app-config';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { runMigrationsOnce } from '../../src/database/migrations-lock';

/**
 * A process that boots the database the way the service does, for the migrations test: it loads
 * everything, says `ready` over IPC, and on `go` opens the database and runs the migrations under the
 * lock, then reports what it applied and exits. The parent sends `go` to every child at once.
 */
const database = JSON.parse(process.env.MIGRATE_DATABASE ?? '') as DatabaseConfig;
const dataSource = new DataSource(dataSourceOptions(database));

process.once('message', () => {
  void (async () => {
    try {
      await dataSource.initialize();
      const report = await runMigrationsOnce(dataSource);
      await dataSource.destroy();
      process.send?.({ ok: true, report }, () => process.exit(0));
    } catch (error) {
      process.send?.({ ok: false, message: (error as Error).message }, () => process.exit(1));
    }
  })();
});
process.send?.('ready');
