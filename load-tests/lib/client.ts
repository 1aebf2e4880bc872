import { sleep } from 'k6';
import exec from 'k6/execution';
import http, { type RefinedParams, type RefinedResponse } from 'k6/http';
import { Env, envChoice, envInt, envString } from './env.ts';
import type { SaleStats } from '@sellout/contract';
import { checkStock, StockCheck } from './invariants.ts';
import { mintOpsToken, mintToken } from './jwt.ts';
import { chunkRanges, importBody, IMPORT_CHUNK_MAX, rescheduleBody, saleDraft, Schedule, type SaleDraftOptions } from './payloads.ts';
import { farFutureWindow } from './scenarios.ts';

/**
 * The HTTP side of the scenarios (k6 only): where the service is, how tokens are obtained, and the
 * admin calls every setup() and teardown() makes. Admin calls that fail abort the test with the
 * service's answer, so a broken setup never turns into a load test of 401s.
 */

/** The service's development default for JWT_SECRET: minted tokens work against `npm start` as is. */
const DEV_JWT_SECRET = 'sellout-dev-secret-change-me';

export interface Connection {
  baseUrl: string;
  /** `mint`: sign tokens here with JWT_SECRET; `dev`: ask `POST /api/dev/tokens` (needs AUTH_DEV_TOKENS). */
  tokenMode: 'mint' | 'dev';
  jwtSecret: string;
  tokenTtlSeconds: number;
}

export function connectionFromEnv(env: Env): Connection {
  return {
    baseUrl: envString(env, 'BASE_URL', 'http://127.0.0.1:3000').replace(/\/+$/, ''),
    tokenMode: envChoice(env, 'TOKEN_MODE', ['mint', 'dev'] as const, 'mint'),
    jwtSecret: envString(env, 'JWT_SECRET', DEV_JWT_SECRET),
    tokenTtlSeconds: envInt(env, 'TOKEN_TTL_S', 4 * 3600, 60, 7 * 24 * 3600),
  };
}

// Dev tokens cost a request each, so every VU keeps the ones it was given.
const devTokens = new Map<string, string>();

function devToken(connection: Connection, userId: string, roles: string[]): string {
  const cacheKey = `${userId}|${roles.join(',')}`;
  const cached = devTokens.get(cacheKey);
  if (cached) return cached;
  const response = http.post(`${connection.baseUrl}/api/dev/tokens`, JSON.stringify({ userId, roles }), {
    headers: { 'content-type': 'application/json' },
    tags: { name: 'dev-token' },
  });
  if (response.status !== 201) fail(`POST /api/dev/tokens answered ${response.status} (is AUTH_DEV_TOKENS on?): ${String(response.body)}`);
  const token = (response.json() as { token: string }).token;
  devTokens.set(cacheKey, token);
  return token;
}

export function buyerToken(connection: Connection, userId: string): string {
  return connection.tokenMode === 'dev' ? devToken(connection, userId, []) : mintToken(connection.jwtSecret, userId, { ttlSeconds: connection.tokenTtlSeconds });
}

export function opsToken(connection: Connection, userId = 'k6-ops'): string {
  return connection.tokenMode === 'dev' ? devToken(connection, userId, ['ops']) : mintOpsToken(connection.jwtSecret, userId, { ttlSeconds: connection.tokenTtlSeconds });
}

/** Stops the whole test (not just the iteration) with a reason k6 prints. */
export function fail(reason: string): never {
  exec.test.abort(reason);
  throw new Error(reason);
}

export interface CallOptions {
  token?: string;
  body?: string | null;
  contentType?: string;
  headers?: Record<string, string>;
  /** The `name` tag: one series per route instead of one per sale or order id. */
  name: string;
  tags?: Record<string, string>;
  /** Statuses that are not HTTP failures (`http_req_failed`); 2xx by default. */
  expectedStatuses?: number[];
  timeout?: string;
}

export function call(connection: Connection, method: string, path: string, options: CallOptions): RefinedResponse<'text'> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined && options.body !== null) headers['content-type'] = options.contentType ?? 'application/json';
  const params: RefinedParams<'text'> = {
    headers,
    tags: { name: options.name, ...(options.tags ?? {}) },
    responseType: 'text',
    timeout: options.timeout ?? '60s',
  };
  if (options.expectedStatuses) params.responseCallback = http.expectedStatuses(...options.expectedStatuses, { min: 200, max: 299 });
  return http.request(method, `${connection.baseUrl}${path}`, options.body ?? null, params) as RefinedResponse<'text'>;
}

/** An admin call that must succeed: any other status aborts the test with the service's answer. */
export function adminCall<T>(connection: Connection, token: string, method: string, path: string, name: string, body?: string, expected: number[] = [200, 201]): T {
  const response = call(connection, method, path, { token, body, name, timeout: '300s' });
  if (!expected.includes(response.status)) fail(`${method} ${path} answered ${response.status}: ${String(response.body).slice(0, 500)}`);
  return JSON.parse(String(response.body)) as T;
}

export interface SaleView {
  id: string;
  startsAt: string;
  fcodeOpensAt: string;
  endsAt: string;
  serverTime: string;
  stock: number;
  fcodeStock: number;
  remaining: number;
  phase: string;
}

/** Milliseconds to add to this machine's clock to read the server's (phases follow the server clock). */
export function serverOffsetMs(sale: Pick<SaleView, 'serverTime'>, receivedAt: number = Date.now()): number {
  const serverTime = Date.parse(sale.serverTime);
  return Number.isFinite(serverTime) ? serverTime - receivedAt : 0;
}

export function createSale(connection: Connection, token: string, draft: Record<string, unknown>): SaleView {
  return adminCall<SaleView>(connection, token, 'POST', '/api/admin/sales', 'admin:create-sale', JSON.stringify(draft), [201]);
}

/** What a script's `setup()` hands every virtual user: the run's sale, its buyers' id prefix and an ops token. */
export interface SaleSetup {
  saleId: string;
  buyerPrefix: string;
  opsToken: string;
}

/**
 * Creates the run's sale with its start far away (`farFutureWindow`): however long the set-up takes, it
 * ends before the sale opens; `openSaleSoon` then moves the start.
 */
export function createFarFutureSale(connection: Connection, token: string, options: Omit<SaleDraftOptions, keyof ReturnType<typeof farFutureWindow>>, sellingMs?: number): SaleView {
  return createSale(connection, token, saleDraft({ ...options, ...farFutureWindow(Date.now(), sellingMs) }));
}

/**
 * Moves the sale's opening to `leadMs` from now on the server clock (the general start `priorityMs`
 * after the F-code holders'), then sleeps until it opens.
 */
export function openSaleSoon(connection: Connection, token: string, sale: SaleView, leadMs: number, priorityMs = 0): void {
  const offsetMs = serverOffsetMs(sale);
  const opensAt = Date.now() + offsetMs + leadMs;
  rescheduleSale(connection, token, sale.id, { reservationClosesAt: opensAt, fcodeOpensAt: opensAt, startsAt: opensAt + priorityMs });
  console.info(`sale ${sale.id} opens at ${new Date(opensAt).toISOString()} (server clock)`);
  sleepUntil(opensAt, offsetMs);
}

export function rescheduleSale(connection: Connection, token: string, saleId: string, schedule: Schedule): SaleView {
  return adminCall<SaleView>(connection, token, 'PATCH', `/api/admin/sales/${saleId}`, 'admin:reschedule', JSON.stringify(rescheduleBody(schedule)), [200]);
}

export interface ImportResult {
  imported: number;
  duplicates: number;
  seconds: number;
}

/** Imports buyers `<prefix>0 … <prefix><total-1>` as reserved, in chunks of at most 100,000. */
export function importReservations(connection: Connection, token: string, saleId: string, prefix: string, total: number, chunkSize = IMPORT_CHUNK_MAX): ImportResult {
  const started = Date.now();
  let imported = 0;
  let duplicates = 0;
  for (const range of chunkRanges(total, chunkSize)) {
    const result = adminCall<{ imported: number; duplicates: number }>(connection, token, 'POST', `/api/admin/sales/${saleId}/reservations/import`, 'admin:import-reservations', importBody(prefix, range), [200]);
    imported += result.imported;
    duplicates += result.duplicates;
  }
  return { imported, duplicates, seconds: (Date.now() - started) / 1000 };
}

/** Sleeps until the server clock reaches `epochMs`. */
export function sleepUntil(epochMs: number, offsetMs: number): void {
  for (;;) {
    const remainingMs = epochMs - (Date.now() + offsetMs);
    if (remainingMs <= 0) return;
    sleep(Math.min(remainingMs, 1000) / 1000);
  }
}

export function fetchStats(connection: Connection, token: string, saleId: string): SaleStats {
  return adminCall<SaleStats>(connection, token, 'GET', `/api/admin/sales/${saleId}/stats`, 'admin:stats');
}

export interface SettledStats {
  stats: SaleStats;
  check: StockCheck;
  /** How long the order writer took to persist every accepted order after the load stopped. */
  waitedSeconds: number;
}

/** Polls the stats until every accepted order is in the database (or the timeout passes). */
export function awaitSettled(connection: Connection, token: string, saleId: string, timeoutSeconds: number): SettledStats {
  const started = Date.now();
  for (;;) {
    const stats = fetchStats(connection, token, saleId);
    const check = checkStock(stats);
    const waitedSeconds = (Date.now() - started) / 1000;
    if (check.persistedAll || waitedSeconds >= timeoutSeconds) return { stats, check, waitedSeconds };
    sleep(0.25);
  }
}
