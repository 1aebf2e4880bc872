import type { Config } from 'jest';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { startRedisServer } from './test-services';

/**
 * Runs once before all tests. Starts a private Redis (unless TEST_REDIS_URL is given) and, when
 * DATABASE_URL points at PostgreSQL, creates a throwaway database for this run so that test runs never
 * collide with each other or with real data; one per jest worker, as the Redis database is (see
 * test-app.ts), so that files running in parallel never see each other's sales. Without DATABASE_URL every
 * test app gets its own embedded SQLite file.
 */
export default async function globalSetup(globalConfig?: { maxWorkers?: Config['maxWorkers'] }): Promise<void> {
  if (!process.env.TEST_REDIS_URL) {
    const redis = await startRedisServer();
    process.env.TEST_REDIS_URL = redis.url;
    process.env.TEST_REDIS_PID = String(redis.pid);
  }
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl && /^postgres(ql)?:/.test(databaseUrl)) {
    const name = `sellout_test_${randomBytes(6).toString('hex')}`;
    const admin = new Client({ connectionString: databaseUrl });
    await admin.connect();
    const workers = typeof globalConfig?.maxWorkers === 'number' ? Math.max(1, globalConfig.maxWorkers) : 1;
    // Worker 1 uses the run's database itself; worker n > 1 uses <name>_w<n>.
    for (let worker = 1; worker <= workers; worker += 1) await admin.query(`CREATE DATABASE ${worker === 1 ? name : `${name}_w${worker}`}`);
    await admin.end();
    process.env.TEST_DATABASE_WORKERS = String(workers);
    const url = new URL(databaseUrl);
    url.pathname = `/${name}`;
    process.env.TEST_DATABASE_URL = url.toString();
    process.env.TEST_DATABASE_NAME = name;
  }
}
