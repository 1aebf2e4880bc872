import { setTimeout as sleep } from 'node:timers/promises';
import { hashFcode, formatFcode, generateFcode } from '../src/fcodes/fcode-codec';
import { ExpirySweeper } from '../src/lifecycle/expiry-sweeper';
import { PAYMENT_PROVIDER } from '../src/lifecycle/payments/payment-provider';
import { TestPaymentProvider } from '../src/lifecycle/payments/test-payment.provider';
import { COUNTER_FIELDS, SaleCounters } from '../src/sales/sales.gateway';
import { createSale, openSale } from './support/sales';
import { TestApp, TestResponse } from './support/test-app';

/** Shared set-up of the order lifecycle tests: a live sale, buyers, and views of its Redis state. */

export interface LiveSaleOptions {
  stock: number;
  fcodeStock?: number;
  perUserLimit?: number;
  paymentWindowSeconds?: number;
  priceCents?: number;
}

export interface LiveSale {
  saleId: string;
  paymentWindowMs: number;
}

/**
 * A sale created through the admin API, open to every buyer (no reservation needed), with the app's
 * clock moved to its start so that it is live.
 */
export async function createLiveSale(app: TestApp, options: LiveSaleOptions): Promise<LiveSale> {
  const sale = await createSale(app, {
    stock: options.stock,
    fcodeStock: options.fcodeStock ?? 0,
    perUserLimit: options.perUserLimit ?? 1,
    reservationRequired: false,
    priceCents: options.priceCents,
    paymentWindowSeconds: options.paymentWindowSeconds ?? 900,
  });
  openSale(app, sale);
  return { saleId: sale.id, paymentWindowMs: sale.paymentWindowSeconds * 1000 };
}

/** Issues an F-code for the sale (as the F-code module stores it) and returns it as a buyer types it. */
export async function issueFcode(app: TestApp, saleId: string, options: { userId?: string; expiresAt?: number } = {}): Promise<string> {
  const normalized = generateFcode();
  const codeHash = hashFcode(app.config.fcodeSecret, normalized);
  await app.redis.hset(app.keys.forSale(saleId).fcode(codeHash), { userId: options.userId ?? '', expiresAt: options.expiresAt ?? 0, status: 'issued', orderId: '' });
  return formatFcode(normalized);
}

export function fcodeHashOf(app: TestApp, code: string): string {
  return hashFcode(app.config.fcodeSecret, code.replace(/-/g, ''));
}

export function buy(app: TestApp, saleId: string, userId: string, body: Record<string, unknown> = {}): Promise<TestResponse> {
  return app.request('POST', `/api/sales/${saleId}/purchase`, { token: app.token(userId), body });
}

/** Buys one unit and fails the test unless it is accepted; returns the order id. */
export async function buyOrFail(app: TestApp, saleId: string, userId: string, body: Record<string, unknown> = {}): Promise<string> {
  const response = await buy(app, saleId, userId, body);
  if (response.status !== 201) throw new Error(`purchase by ${userId} answered ${response.status} ${response.text}`);
  return response.body.id as string;
}

export function pay(app: TestApp, orderId: string, userId: string, body: Record<string, unknown> = { method: 'test-card' }, headers: Record<string, string> = {}): Promise<TestResponse> {
  return app.request('POST', `/api/orders/${orderId}/pay`, { token: app.token(userId), body, headers });
}

export function cancel(app: TestApp, orderId: string, userId: string): Promise<TestResponse> {
  return app.request('POST', `/api/orders/${orderId}/cancel`, { token: app.token(userId) });
}

export function paymentProvider(app: TestApp): TestPaymentProvider {
  return app.app.get<TestPaymentProvider>(PAYMENT_PROVIDER);
}

export function sweeper(app: TestApp): ExpirySweeper {
  return app.app.get(ExpirySweeper);
}

export type { SaleCounters };

export async function saleCounters(app: TestApp, saleId: string): Promise<SaleCounters> {
  const sale = await app.redis.hgetall(app.keys.forSale(saleId).sale);
  return Object.fromEntries(COUNTER_FIELDS.map((field) => [field, Number(sale[field] ?? 0)])) as unknown as SaleCounters;
}

/** The stock equation of the HTTP contract (README): general + fcode − generalRemaining − fcodeRemaining = unitsSold. */
export function stockEquationHolds(counters: SaleCounters): boolean {
  return counters.general + counters.fcode - counters.generalRemaining - counters.fcodeRemaining === counters.unitsSold && counters.generalRemaining >= 0 && counters.fcodeRemaining >= 0;
}

export async function redisOrderStatus(app: TestApp, saleId: string, orderId: string): Promise<string | null> {
  return app.redis.hget(app.keys.forSale(saleId).order(orderId), 'status');
}

/** Every `status` event of the sale's outbox, per order, in stream order. */
export async function statusEventsByOrder(app: TestApp, saleId: string): Promise<Map<string, string[]>> {
  const entries = await app.redis.xrange(app.keys.forSale(saleId).events, '-', '+');
  const byOrder = new Map<string, string[]>();
  for (const [, fields] of entries) {
    const values = new Map<string, string>();
    for (let index = 0; index + 1 < fields.length; index += 2) values.set(fields[index], fields[index + 1]);
    if (values.get('type') !== 'status') continue;
    const orderId = values.get('orderId') as string;
    byOrder.set(orderId, [...(byOrder.get(orderId) ?? []), values.get('status') as string]);
  }
  return byOrder;
}

export async function deadlineOf(app: TestApp, saleId: string, orderId: string): Promise<number | null> {
  const score = await app.redis.zscore(app.keys.forSale(saleId).deadlines, orderId);
  return score === null ? null : Number(score);
}

/** Polls `probe` until it returns true (bounded), for outcomes produced by background work. */
export async function waitUntil(description: string, probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting until ${description}`);
    await sleep(20);
  }
}

export function userIds(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_unused, index) => `${prefix}-${index}`);
}
