import { writeFileSync } from 'node:fs';
import { envDurationSeconds, envInt, envString } from '../load-tests/lib/env';
import { buyerId, chunkRanges, FCODE_BATCH_MAX, importBody, runTag, saleDraft } from '../load-tests/lib/payloads';
import { AdminClient } from '../bench/admin-client';
import { mintToken } from '../bench/tokens';

/**
 * Seeds a launch rehearsal on a running service: creates a sale, imports RESERVED reserved buyers
 * (1,000,000 by default, 100,000 a call) and issues FCODES F-codes (100,000 by default), printing how
 * long each step took. Buyers are `<prefix><n>` for n from 0, so a load test can name any of them.
 *
 *   BASE_URL=http://127.0.0.1:3000 JWT_SECRET=… npm run seed:rehearsal
 *   TOKEN_MODE=dev npm run seed:rehearsal            (asks POST /api/dev/tokens instead)
 *
 * Variables: BASE_URL, TOKEN_MODE (mint|dev), JWT_SECRET, STOCK (100000), FCODE_STOCK (5000), RESERVED
 * (1000000), FCODES (100000), STARTS_IN (1h), BUYER_PREFIX (rehearsal-<tag>-), FCODES_FILE (write the codes
 * there, one a line: they are shown only once).
 */
const env = process.env;
const DEV_JWT_SECRET = 'sellout-dev-secret-change-me';

async function opsToken(baseUrl: string): Promise<string> {
  if (envString(env, 'TOKEN_MODE', 'mint') !== 'dev') return mintToken(envString(env, 'JWT_SECRET', DEV_JWT_SECRET), 'rehearsal-ops', ['ops']);
  const response = await fetch(`${baseUrl}/api/dev/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'rehearsal-ops', roles: ['ops'] }) });
  if (response.status !== 201) throw new Error(`POST /api/dev/tokens answered ${response.status} (is AUTH_DEV_TOKENS on?)`);
  return ((await response.json()) as { token: string }).token;
}

const seconds = (since: number) => (Date.now() - since) / 1000;
const count = (value: number) => Math.round(value).toLocaleString('en-US');

async function main(): Promise<void> {
  const baseUrl = envString(env, 'BASE_URL', 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const stock = envInt(env, 'STOCK', 100_000, 0);
  const fcodeStock = envInt(env, 'FCODE_STOCK', 5_000, 0);
  const reserved = envInt(env, 'RESERVED', 1_000_000, 0);
  const fcodes = envInt(env, 'FCODES', 100_000, 0);
  const startsInSeconds = envDurationSeconds(env, 'STARTS_IN', 3600);
  const prefix = envString(env, 'BUYER_PREFIX', `rehearsal-${runTag()}-`);
  const admin = new AdminClient(baseUrl, await opsToken(baseUrl));
  const overall = Date.now();

  const now = Date.now();
  const startsAt = now + startsInSeconds * 1000;
  let step = Date.now();
  const sale = await admin.createSale(
    saleDraft({ label: `rehearsal-${prefix.replace(/-$/, '')}`, stock, fcodeStock, reservationOpensAt: now, reservationClosesAt: startsAt, fcodeOpensAt: startsAt, startsAt, endsAt: startsAt + 24 * 3600_000 }),
  );
  process.stdout.write(`sale ${sale.id} created in ${seconds(step).toFixed(2)} s (starts ${new Date(startsAt).toISOString()})\n`);

  step = Date.now();
  let imported = 0;
  let duplicates = 0;
  for (const range of chunkRanges(reserved)) {
    const chunkStarted = Date.now();
    const result = await admin.call<{ imported: number; duplicates: number }>('POST', `/api/admin/sales/${sale.id}/reservations/import`, importBody(prefix, range), [200]);
    imported += result.imported;
    duplicates += result.duplicates;
    process.stdout.write(`  reservations ${count(range.from + range.count)}/${count(reserved)}: ${seconds(chunkStarted).toFixed(2)} s\n`);
  }
  const importSeconds = seconds(step);
  process.stdout.write(`imported ${count(imported)} reservations (${count(duplicates)} duplicates) in ${importSeconds.toFixed(1)} s (${count(reserved / Math.max(importSeconds, 0.001))}/s)\n`);

  step = Date.now();
  const codes: string[] = [];
  for (const range of chunkRanges(fcodes, FCODE_BATCH_MAX)) {
    const batchStarted = Date.now();
    const batch = await admin.call<{ batchId: string; codes: string[] }>('POST', `/api/admin/sales/${sale.id}/fcodes`, JSON.stringify({ count: range.count }), [201]);
    codes.push(...batch.codes);
    process.stdout.write(`  F-code batch ${batch.batchId}: ${count(batch.codes.length)} codes in ${seconds(batchStarted).toFixed(2)} s\n`);
  }
  const fcodeSeconds = seconds(step);
  process.stdout.write(`issued ${count(codes.length)} F-codes in ${fcodeSeconds.toFixed(1)} s (${count(codes.length / Math.max(fcodeSeconds, 0.001))}/s)\n`);
  const fcodesFile = env.FCODES_FILE;
  if (fcodesFile) {
    writeFileSync(fcodesFile, `${codes.join('\n')}\n`, { mode: 0o600 });
    process.stdout.write(`codes written to ${fcodesFile}\n`);
  }

  const view = await admin.call<{ reservations: number; remaining: number; fcodeRemaining: number; phase: string }>('GET', `/api/admin/sales/${sale.id}`);
  process.stdout.write(
    `done in ${seconds(overall).toFixed(1)} s: sale ${sale.id} (${view.phase}), ${count(view.reservations)} reservations, ${count(view.remaining)} + ${count(view.fcodeRemaining)} units, buyers ${buyerId(prefix, 0)}…${buyerId(prefix, Math.max(0, reserved - 1))}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`seed:rehearsal failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
