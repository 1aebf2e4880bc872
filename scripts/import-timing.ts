import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { createApp } from '../src/app.factory';
import { TokenService } from '../src/auth/token.service';
import { loadConfig } from '../src/config/app-config';
import { startRedisServer } from '../test/support/test-services';

/**
 * Measures how long importing 1,000,000 reservations takes: 10 calls of 100,000 ids through the real HTTP
 * pipeline (validation, database insert-or-ignore, Redis mirror), in-process. Prints; asserts nothing.
 *
 *   npx ts-node --transpile-only scripts/import-timing.ts                       (embedded SQLite, temp file)
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx ts-node --transpile-only scripts/import-timing.ts
 *
 * Redis: a private redis-server on a free port, unless REDIS_URL is set. PostgreSQL: a throwaway database
 * is created next to the one DATABASE_URL names, and dropped afterwards. CALLS and IDS_PER_CALL override
 * the sizes.
 */
const env = process.env;
const calls = Number(env.CALLS ?? 10);
const idsPerCall = Number(env.IDS_PER_CALL ?? 100_000);

async function throwawayPostgres(url: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `sellout_import_timing_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${name}`;
  return {
    url: target.toString(),
    drop: async () => {
      const cleaner = new Client({ connectionString: url });
      await cleaner.connect();
      await cleaner.query(`DROP DATABASE IF EXISTS ${name}`);
      await cleaner.end();
    },
  };
}

async function main(): Promise<void> {
  const redis = env.REDIS_URL ? undefined : await startRedisServer();
  const postgres = env.DATABASE_URL?.startsWith('postgres') ? await throwawayPostgres(env.DATABASE_URL) : undefined;
  const sqliteFile = join(tmpdir(), `sellout-import-timing-${randomBytes(4).toString('hex')}.sqlite`);
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    REDIS_URL: env.REDIS_URL ?? redis!.url,
    DATABASE_URL: postgres?.url ?? `sqlite:${sqliteFile}`,
    BODY_LIMIT_BYTES: String(64 * 1024 * 1024),
  });
  const app = await createApp(config);
  const http = app.getHttpAdapter().getInstance();
  const token = app.get(TokenService).sign('import-timing', ['ops']);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  try {
    const created = await http.inject({
      method: 'POST',
      url: '/api/admin/sales',
      headers,
      payload: JSON.stringify({ sku: 'import-timing', name: 'Import timing', priceCents: 100, stock: 1, startsAt: new Date(Date.now() + 3600_000).toISOString() }),
    });
    const saleId = JSON.parse(created.body).id as string;
    console.log(`database: ${config.database.kind}, ${calls} calls of ${idsPerCall.toLocaleString('en-US')} ids`);
    const runTag = randomBytes(3).toString('hex');
    const started = performance.now();
    for (let call = 0; call < calls; call += 1) {
      const userIds = Array.from({ length: idsPerCall }, (_, index) => `imp-${runTag}-${call * idsPerCall + index}`);
      const payload = JSON.stringify({ userIds });
      const callStarted = performance.now();
      const response = await http.inject({ method: 'POST', url: `/api/admin/sales/${saleId}/reservations/import`, headers, payload });
      const elapsed = performance.now() - callStarted;
      if (response.statusCode !== 200) throw new Error(`import call ${call + 1} answered ${response.statusCode}: ${response.body}`);
      console.log(`  call ${String(call + 1).padStart(2)}: ${(elapsed / 1000).toFixed(2)} s  ${response.body}`);
    }
    const total = (performance.now() - started) / 1000;
    const view = JSON.parse((await http.inject({ method: 'GET', url: `/api/sales/${saleId}` })).body);
    console.log(`total: ${total.toFixed(2)} s for ${(calls * idsPerCall).toLocaleString('en-US')} ids (${Math.round((calls * idsPerCall) / total).toLocaleString('en-US')} ids/s); reservations in the sale: ${view.reservations.toLocaleString('en-US')}`);
  } finally {
    await app.close();
    await redis?.stop();
    await postgres?.drop();
    if (!postgres) for (const suffix of ['', '-wal', '-shm']) rmSync(sqliteFile + suffix, { force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
