import type { AdmissionMode } from '../../src/admission/admission-mode';
import { newSaleId } from '../../src/common/ids';
import { SaleEntity } from '../../src/sales/sale.entity';
import { freshCounters, saleHashFields } from '../../src/sales/sales.gateway';
import { TestApp, TestResponse, uniqueId } from './test-app';

/** Test helpers to set up a sale, its buyers and purchases through the HTTP API (shared by many tests). */

export interface SaleOptions {
  stock?: number;
  fcodeStock?: number;
  perUserLimit?: number;
  reservationRequired?: boolean;
  priceCents?: number;
  currency?: string;
  paymentWindowSeconds?: number;
  /** Epoch ms; default one minute after the app's clock. */
  startsAt?: number;
  endsAt?: number;
  fcodeOpensAt?: number;
  reservationOpensAt?: number;
  reservationClosesAt?: number;
  admission?: AdmissionMode;
  admissionRatePerSecond?: number;
  admissionTtlSeconds?: number;
  purchaseWindowSeconds?: number;
  /** Epoch ms; unset follows the sale's own time (reservationClosesAt, startsAt). */
  queueOpensAt?: number;
  lotteryClosesAt?: number;
}

export interface TestSale {
  id: string;
  stock: number;
  fcodeStock: number;
  perUserLimit: number;
  reservationRequired: boolean;
  priceCents: number;
  currency: string;
  paymentWindowSeconds: number;
  startsAt: number;
  endsAt: number;
  fcodeOpensAt: number;
  reservationOpensAt: number;
  reservationClosesAt: number;
  admission: AdmissionMode;
  admissionRatePerSecond: number;
  admissionTtlSeconds: number;
  purchaseWindowSeconds: number;
  queueOpensAt: number | null;
  lotteryClosesAt: number | null;
}

function withDefaults(app: TestApp, options: SaleOptions): TestSale {
  const startsAt = options.startsAt ?? app.clock.now() + 60_000;
  return {
    id: '',
    stock: options.stock ?? 10,
    fcodeStock: options.fcodeStock ?? 0,
    perUserLimit: options.perUserLimit ?? 1,
    reservationRequired: options.reservationRequired ?? true,
    priceCents: options.priceCents ?? 69900,
    currency: options.currency ?? 'CNY',
    paymentWindowSeconds: options.paymentWindowSeconds ?? 900,
    startsAt,
    endsAt: options.endsAt ?? startsAt + 24 * 3600_000,
    fcodeOpensAt: options.fcodeOpensAt ?? startsAt,
    reservationOpensAt: options.reservationOpensAt ?? Math.min(app.clock.now(), options.reservationClosesAt ?? startsAt),
    reservationClosesAt: options.reservationClosesAt ?? startsAt,
    admission: options.admission ?? 'open',
    admissionRatePerSecond: options.admissionRatePerSecond ?? 1000,
    admissionTtlSeconds: options.admissionTtlSeconds ?? 120,
    purchaseWindowSeconds: options.purchaseWindowSeconds ?? 3600,
    queueOpensAt: options.queueOpensAt ?? null,
    lotteryClosesAt: options.lotteryClosesAt ?? null,
  };
}

const iso = (epochMs: number) => new Date(epochMs).toISOString();

/** The `POST /api/admin/sales` body of a sale with these options (times default to a start one minute from the app's clock). */
export function saleRequestBody(app: TestApp, options: SaleOptions = {}): Record<string, unknown> {
  return requestBodyOf(withDefaults(app, options));
}

function requestBodyOf(sale: TestSale): Record<string, unknown> {
  return {
    sku: uniqueId('sku-'),
    name: 'Test phone',
    priceCents: sale.priceCents,
    currency: sale.currency,
    stock: sale.stock,
    fcodeStock: sale.fcodeStock,
    perUserLimit: sale.perUserLimit,
    reservationRequired: sale.reservationRequired,
    reservationOpensAt: iso(sale.reservationOpensAt),
    reservationClosesAt: iso(sale.reservationClosesAt),
    fcodeOpensAt: iso(sale.fcodeOpensAt),
    startsAt: iso(sale.startsAt),
    endsAt: iso(sale.endsAt),
    paymentWindowSeconds: sale.paymentWindowSeconds,
    admission: sale.admission,
    admissionRatePerSecond: sale.admissionRatePerSecond,
    admissionTtlSeconds: sale.admissionTtlSeconds,
    purchaseWindowSeconds: sale.purchaseWindowSeconds,
    ...(sale.queueOpensAt === null ? {} : { queueOpensAt: iso(sale.queueOpensAt) }),
    ...(sale.lotteryClosesAt === null ? {} : { lotteryClosesAt: iso(sale.lotteryClosesAt) }),
  };
}

/** Creates a sale through `POST /api/admin/sales` (times default to a start one minute from the app's clock). */
export async function createSale(app: TestApp, options: SaleOptions = {}): Promise<TestSale> {
  const sale = withDefaults(app, options);
  const response = await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body: requestBodyOf(sale) });
  if (response.status !== 201) throw new Error(`creating a sale failed: ${response.status} ${response.text}`);
  return { ...sale, id: response.body.id };
}

/**
 * Writes a sale's Redis state directly, as the sales feature lays it out (src/redis/redis-keys.ts), and its
 * database row (the order writer stores orders only of sales its database holds), without the admin
 * route's rules: for tests of the scripts themselves.
 */
export async function seedSaleInRedis(app: TestApp, options: SaleOptions = {}): Promise<TestSale> {
  const sale = { ...withDefaults(app, options), id: newSaleId(app.clock.now()) };
  const keys = app.keys.forSale(sale.id);
  const now = app.clock.now();
  const entity = Object.assign(new SaleEntity(), { ...sale, sku: uniqueId('sku-'), name: 'Seeded phone', description: '', paused: false, createdAt: now, updatedAt: now });
  await app.database.manager.insert(SaleEntity, entity);
  // The same field list the sales feature writes, so a seeded sale cannot drift from a created one.
  await app.redis.hset(keys.sale, saleHashFields(entity, freshCounters(entity)));
  await app.redis.sadd(app.keys.salesIndex, sale.id);
  return sale;
}

/** Reserves places for these buyers through the ops import route (chunks of 100,000). */
export async function reserveBuyers(app: TestApp, saleId: string, userIds: string[]): Promise<void> {
  for (let start = 0; start < userIds.length; start += 100_000) {
    const response = await app.request('POST', `/api/admin/sales/${saleId}/reservations/import`, { token: app.opsToken(), body: { userIds: userIds.slice(start, start + 100_000) } });
    if (response.status !== 200) throw new Error(`importing reservations failed: ${response.status} ${response.text}`);
  }
}

/** Reserves directly in Redis (for sales made with `seedSaleInRedis`). */
export async function reserveBuyersInRedis(app: TestApp, saleId: string, userIds: string[]): Promise<void> {
  const keys = app.keys.forSale(saleId);
  const now = app.clock.now();
  for (let start = 0; start < userIds.length; start += 10_000) {
    const chunk = userIds.slice(start, start + 10_000);
    await app.redis.hset(keys.reservations, Object.fromEntries(chunk.map((userId) => [userId, now])));
  }
}

/** `count` fresh buyer ids, unique to this test. */
export function buyerIds(count: number, prefix = uniqueId('b')): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
}

export interface PurchaseOptions {
  quantity?: number;
  /** The `Admission-Token` header (queue and lottery sales). */
  admissionToken?: string;
  fcode?: string;
  idempotencyKey?: string;
  /** The client address the service sees (X-Forwarded-For), e.g. to keep F-code attempt counters apart. */
  clientIp?: string;
}

/** `POST /api/sales/:saleId/purchase` as this buyer. */
export function purchase(app: TestApp, saleId: string, userId: string, options: PurchaseOptions = {}): Promise<TestResponse> {
  const body: Record<string, unknown> = {};
  if (options.quantity !== undefined) body.quantity = options.quantity;
  if (options.fcode !== undefined) body.fcode = options.fcode;
  const headers: Record<string, string> = {};
  if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
  if (options.clientIp !== undefined) headers['x-forwarded-for'] = options.clientIp;
  if (options.admissionToken !== undefined) headers['admission-token'] = options.admissionToken;
  return app.request('POST', `/api/sales/${saleId}/purchase`, { token: app.token(userId), body, headers });
}

/** A random private address, so a test's wrong F-codes count against no other test's address. */
export function privateIp(): string {
  const octet = () => Math.floor(Math.random() * 254) + 1;
  return `10.${octet()}.${octet()}.${octet()}`;
}

/**
 * Moves the app's clock to the sale's start, never back: sales created side by side each start a little
 * after the clock of their creation, and moving it back to the first one's start closed the others
 * (`SALE_NOT_STARTED` for a sale already opened).
 */
export function openSale(app: TestApp, sale: Pick<TestSale, 'startsAt'>): void {
  app.clock.set(Math.max(app.clock.now(), sale.startsAt));
}
