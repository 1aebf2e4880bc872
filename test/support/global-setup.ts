import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { startRedisServer } from './test-services';

/**
 * Runs once before all tests. Starts a private Redis (unless TEST_REDIS_URL is given) and, when
 * DATABASE_URL points at PostgreSQL, creates a throwaway database for this run so that test runs never
 * collide with each other or with real data. Without DATABASE_URL every test app gets its own embedded
 * SQLite file.
 */
export default async function globalSetup(): Promise<void> {
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
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(databaseUrl);
    url.pathname = `/${name}`;
    process.env.TEST_DATABASE_URL = url.toString();
    process.env.TEST_DATABASE_NAME = name;
  }
}
