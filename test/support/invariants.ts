import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisKeys } from '../../src/redis/redis-keys';
import { masterNodes, type RedisClient } from '../../src/redis/redis-topology';
import { OrderEntity } from '../../src/orders/order.entity';
import { OrderWriterService } from '../../src/order-writer/order-writer.service';
import { TestApp } from './test-app';

/**
 * The five invariants of the README, checked against the real Redis state and database of a sale. Tests
 * call `assertInvariants` after every concurrency, load and fault scenario.
 */

/** An order as found in Redis or the database, with the raw status ('paying' is a pending payment). */
export interface ObservedOrder {
  id: string;
  userId: string;
  quantity: number;
  status: string;
  pool: string;
  fcodeHash: string;
  createdAt: number;
}

export interface InvariantReport {
  unitsSold: number;
  accepted: number;
  redisOrders: ObservedOrder[];
  databaseOrders: ObservedOrder[];
}

export interface InvariantOptions {
  /** Wait for the order writer and check the database (invariant 4). Default true. */
  checkDatabase?: boolean;
  /** The app whose order writer persists this sale, if not `app` (e.g. a worker in another app). */
  writerApp?: TestApp;
  idleTimeoutMs?: number;
}

/**
 * Where the invariants read a sale's state: a test app in this process, or (the fault suite) a service
 * running as its own process, read through its Redis and its database directly.
 */
export interface InvariantSource {
  redis: RedisClient;
  /** The deployment's keys (its REDIS_KEY_PREFIX). */
  keys: RedisKeys;
  databaseOrders(saleId: string): Promise<ObservedOrder[]>;
  waitForOrderWriter(saleId: string, timeoutMs?: number): Promise<void>;
}

function sourceOf(app: TestApp | InvariantSource): InvariantSource {
  if (!(app instanceof TestApp)) return app;
  return { redis: app.redis, keys: app.keys, databaseOrders: (saleId) => databaseOrdersOf(app, saleId), waitForOrderWriter: (saleId, timeoutMs) => waitForOrderWriter(app, saleId, timeoutMs) };
}

const LIVE = new Set(['pending_payment', 'paying', 'paid']);

/** Polls the order writer's lag for this sale until it is 0 (bounded). */
export async function waitForOrderWriter(app: TestApp, saleId: string, timeoutMs = 30_000): Promise<void> {
  const writer = app.app.get(OrderWriterService);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lag = await writer.lag(saleId);
    if (lag === 0) return;
    if (Date.now() > deadline) throw new Error(`order writer still has ${lag} event(s) of sale ${saleId} after ${timeoutMs} ms`);
    await sleep(10);
  }
}

/**
 * Every `order:<id>` hash of the sale in Redis (found by scanning the sale's hash tag; on a Redis Cluster,
 * on every master, as SCAN lists one node's keys).
 */
export async function redisOrdersOf(app: { redis: RedisClient; keys: RedisKeys }, saleId: string): Promise<ObservedOrder[]> {
  const keys = app.keys.forSale(saleId);
  const orderKeys: string[] = [];
  for (const node of masterNodes(app.redis)) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', keys.order('*'), 'COUNT', 10_000);
      orderKeys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  if (orderKeys.length === 0) return [];
  const pipeline = app.redis.pipeline();
  for (const key of orderKeys) pipeline.hgetall(key);
  const hashes = ((await pipeline.exec()) ?? []).map(([, hash]) => hash as Record<string, string>);
  return hashes.map((hash) => ({
    id: hash.id,
    userId: hash.userId,
    quantity: Number(hash.quantity),
    status: hash.status,
    pool: hash.pool,
    fcodeHash: hash.fcodeHash ?? '',
    createdAt: Number(hash.createdAt),
  }));
}

export async function databaseOrdersOf(app: TestApp, saleId: string): Promise<ObservedOrder[]> {
  const rows = await app.database.manager.find(OrderEntity, { where: { saleId } });
  return rows.map((row) => ({ id: row.id, userId: row.userId, quantity: row.quantity, status: row.status, pool: row.pool, fcodeHash: row.fcodeHash ?? '', createdAt: row.createdAt }));
}

function sumBy<T>(items: T[], key: (item: T) => string, value: (item: T) => number): Map<string, number> {
  const sums = new Map<string, number>();
  for (const item of items) sums.set(key(item), (sums.get(key(item)) ?? 0) + value(item));
  return sums;
}

export async function assertInvariants(target: TestApp | InvariantSource, saleId: string, options: InvariantOptions = {}): Promise<InvariantReport> {
  const checkDatabase = options.checkDatabase ?? true;
  const app = sourceOf(target);
  if (checkDatabase) await sourceOf(options.writerApp ?? target).waitForOrderWriter(saleId, options.idleTimeoutMs);

  const keys = app.keys.forSale(saleId);
  const violations: string[] = [];
  const sale = await app.redis.hgetall(keys.sale);
  if (Object.keys(sale).length === 0) throw new Error(`sale ${saleId} has no Redis state`);
  const number = (field: string) => Number(sale[field] ?? 0);
  const redisOrders = await redisOrdersOf(app, saleId);
  const databaseOrders = checkDatabase ? await app.databaseOrders(saleId) : [];
  const liveRedis = redisOrders.filter((order) => LIVE.has(order.status));

  // 1. Stock equation, and each pool's sold units are exactly its live orders.
  const unitsSold = number('unitsSold');
  if (number('general') + number('fcode') - number('generalRemaining') - number('fcodeRemaining') !== unitsSold) {
    violations.push(`stock equation: ${number('general')} + ${number('fcode')} - ${number('generalRemaining')} - ${number('fcodeRemaining')} != unitsSold ${unitsSold}`);
  }
  if (number('generalRemaining') < 0 || number('fcodeRemaining') < 0) violations.push(`a pool is below zero: general ${number('generalRemaining')}, fcode ${number('fcodeRemaining')}`);
  const liveByPool = sumBy(liveRedis, (order) => order.pool, (order) => order.quantity);
  for (const pool of ['general', 'fcode']) {
    const sold = number(pool) - number(`${pool}Remaining`);
    if (sold !== (liveByPool.get(pool) ?? 0)) violations.push(`pool ${pool}: ${sold} units gone but live orders hold ${liveByPool.get(pool) ?? 0}`);
  }
  if ((liveByPool.get('general') ?? 0) + (liveByPool.get('fcode') ?? 0) !== unitsSold) violations.push(`unitsSold ${unitsSold} != units of live orders`);

  // 2. No buyer over the limit, in Redis or in the database (Redis status wins where both know an order).
  const perUserLimit = number('perUserLimit');
  const merged = new Map(databaseOrders.map((order) => [order.id, order]));
  for (const order of redisOrders) merged.set(order.id, order);
  const heldByUser = sumBy([...merged.values()].filter((order) => LIVE.has(order.status)), (order) => order.userId, (order) => order.quantity);
  for (const [userId, held] of heldByUser) if (held > perUserLimit) violations.push(`buyer ${userId} holds ${held} > perUserLimit ${perUserLimit}`);
  const buyers = await app.redis.hgetall(keys.buyers);
  const redisHeld = sumBy(liveRedis, (order) => order.userId, (order) => order.quantity);
  for (const userId of new Set([...Object.keys(buyers), ...redisHeld.keys()])) {
    if (Number(buyers[userId] ?? 0) !== (redisHeld.get(userId) ?? 0)) violations.push(`buyers[${userId}] = ${buyers[userId] ?? 0} but live orders hold ${redisHeld.get(userId) ?? 0}`);
  }

  // 3. No F-code backs two live orders, and each redeemed code points at its order.
  const byCode = new Map<string, string[]>();
  for (const order of [...merged.values()].filter((candidate) => LIVE.has(candidate.status) && candidate.fcodeHash !== '')) {
    byCode.set(order.fcodeHash, [...(byCode.get(order.fcodeHash) ?? []), order.id]);
  }
  for (const [codeHash, orderIds] of byCode) {
    if (orderIds.length > 1) violations.push(`F-code ${codeHash} backs ${orderIds.length} live orders: ${orderIds.join(', ')}`);
    const backs = await app.redis.hget(keys.fcode(codeHash), 'orderId');
    if (!orderIds.includes(backs ?? '')) violations.push(`F-code ${codeHash} points at "${backs}" instead of its live order ${orderIds[0]}`);
  }
  if (number('fcodesRedeemed') !== byCode.size) violations.push(`fcodesRedeemed ${number('fcodesRedeemed')} != ${byCode.size} codes backing live orders`);

  // 4. Once the writer is idle, every accepted order is in the database once, in its current status.
  const accepted = number('accepted');
  if (checkDatabase) {
    const parked = await app.redis.xlen(keys.deadEvents);
    if (parked > 0) violations.push(`${parked} order event(s) parked in events:dead`);
    if (databaseOrders.length !== accepted) violations.push(`database holds ${databaseOrders.length} orders, Redis accepted ${accepted}`);
    if (new Set(databaseOrders.map((order) => order.id)).size !== databaseOrders.length) violations.push('an order id appears twice in the database');
    const stored = new Map(databaseOrders.map((order) => [order.id, order]));
    for (const order of redisOrders) {
      const row = stored.get(order.id);
      if (!row) violations.push(`order ${order.id} is in Redis but not in the database`);
      else if (row.status !== (order.status === 'paying' ? 'pending_payment' : order.status)) violations.push(`order ${order.id} is ${order.status} in Redis but ${row.status} in the database`);
    }
  }
  const statusCounts = ['pending_payment', 'paid', 'expired', 'cancelled'].reduce((sum, status) => sum + number(status), 0);
  if (statusCounts !== accepted) violations.push(`orders by status add up to ${statusCounts}, accepted is ${accepted}`);

  // 5. No order outside its window or without eligibility.
  const startsAt = number('startsAt');
  const fcodeOpensAt = number('fcodeOpensAt');
  const endsAt = number('endsAt');
  const reservationRequired = sale.reservationRequired === '1';
  const withoutCode = [...merged.values()].filter((order) => order.fcodeHash === '');
  const reserved = withoutCode.length > 0 && reservationRequired ? await app.redis.hmget(keys.reservations, ...withoutCode.map((order) => order.userId)) : [];
  withoutCode.forEach((order, index) => {
    if (reservationRequired && reserved[index] === null) violations.push(`order ${order.id} of ${order.userId} has neither a reservation nor an F-code`);
  });
  for (const order of merged.values()) {
    const opensAt = order.fcodeHash === '' ? startsAt : fcodeOpensAt;
    if (order.createdAt < opensAt || order.createdAt >= endsAt) violations.push(`order ${order.id} created at ${order.createdAt}, outside [${opensAt}, ${endsAt})`);
  }

  if (violations.length > 0) throw new Error(`Invariants broken for sale ${saleId}:\n  - ${violations.slice(0, 30).join('\n  - ')}`);
  return { unitsSold, accepted, redisOrders, databaseOrders };
}
