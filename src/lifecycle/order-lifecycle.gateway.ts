import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../redis/redis-topology';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { runScriptAtMostOnce } from '../redis/command-outcome';
import type { ScriptCall } from '../redis/lua-scripts';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';
import { orderFromJson, OrderRecord } from '../orders/order-record';

export const PAY_IDEMPOTENCY_SCOPE = 'pay';
export const PAY_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** How long a payment attempt holds an order against the sweeper and other attempts. */
export const PAYMENT_LEASE_MS = 30_000;

export interface BeginPaymentAttempt {
  saleId: string;
  orderId: string;
  userId: string;
  now: number;
  attemptId: string;
  idempotencyKey?: string;
  /** Request fingerprint; only used with an idempotency key. */
  fingerprint: string;
}

/** What `pay-order.lua` decided. */
export type BeginPaymentOutcome =
  | { outcome: 'BEGUN'; order: OrderRecord }
  | { outcome: 'REPLAYED'; order: OrderRecord }
  | { outcome: 'ORDER_EXPIRED'; payBy: number }
  | { outcome: 'PAYMENT_IN_PROGRESS'; payingUntil: number }
  | { outcome: 'ORDER_NOT_PENDING'; status: string }
  | { outcome: 'ORDER_NOT_FOUND' }
  | { outcome: 'FORBIDDEN' }
  | { outcome: 'IDEMPOTENCY_KEY_REUSED' };

export interface SettlePaymentRequest {
  saleId: string;
  orderId: string;
  userId: string;
  attemptId: string;
  now: number;
  /** `declined` also ends an attempt whose provider failed: the order becomes payable again. */
  result: 'paid' | 'declined';
  reference: string;
  idempotencyKey?: string;
  fingerprint: string;
}

/** What `settle-payment.lua` decided. */
export type SettlePaymentOutcome =
  | { outcome: 'PAID'; order: OrderRecord }
  | { outcome: 'DECLINED'; order: OrderRecord }
  | { outcome: 'LEASE_LOST'; status: string };

export interface ReleaseRequest {
  saleId: string;
  orderId: string;
  mode: 'cancel' | 'expire';
  now: number;
  /** The caller in `cancel` mode (only the owner may cancel). */
  userId?: string;
  /** A fresh id naming a cancel request, so that a resend of it is a replay; '' for the sweeper. */
  releaseId?: string;
  /** The order's F-code hash if the caller already read it; read from Redis otherwise. */
  fcodeHash?: string;
}

/** What `release-order.lua` decided. */
export type ReleaseOutcome =
  | { outcome: 'RELEASED'; status: 'expired' | 'cancelled'; order: OrderRecord; stockVersion: number }
  | { outcome: 'ORDER_EXPIRED'; payBy: number }
  | { outcome: 'ORDER_NOT_PENDING'; status: string }
  | { outcome: 'PAYMENT_IN_PROGRESS'; payingUntil: number }
  | { outcome: 'NOT_DUE'; payBy: number }
  | { outcome: 'ORDER_NOT_FOUND' }
  | { outcome: 'FORBIDDEN' };

type ScriptReply = [string, ...(string | number)[]];

/**
 * The one door to the order lifecycle scripts: builds their keys and arguments and types their replies.
 * Each script replays a second run of the same attempt (payment attempt id, cancel id), so an unanswered
 * call is sent again to learn what it did; OutcomeUnknownError when Redis stays silent.
 */
@Injectable()
export class OrderLifecycleGateway {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: RedisKeys,
  ) {}

  private run(...[name, keys, args, what]: [...ScriptCall, what: string]): Promise<ScriptReply> {
    return runScriptAtMostOnce<ScriptReply>(this.redis, ...([name, keys, args] as ScriptCall), this.config.redisOutcomeProbeMs, what);
  }

  async beginPayment(attempt: BeginPaymentAttempt): Promise<BeginPaymentOutcome> {
    const keys = this.keys.forSale(attempt.saleId);
    const [outcome, ...values] = await this.run(
      'pay-order',
      [keys.order(attempt.orderId), keys.deadlines, keys.idempotency(PAY_IDEMPOTENCY_SCOPE, attempt.userId, attempt.idempotencyKey ?? '')],
      [attempt.orderId, attempt.userId, attempt.now, attempt.attemptId, PAYMENT_LEASE_MS, attempt.idempotencyKey === undefined ? '' : attempt.fingerprint],
      `The payment of order ${attempt.orderId}`,
    );
    switch (outcome) {
      case 'BEGUN':
      case 'REPLAYED':
        return { outcome, order: orderFromJson(String(values[0])) };
      case 'ORDER_EXPIRED':
        return { outcome, payBy: Number(values[0]) };
      case 'PAYMENT_IN_PROGRESS':
        return { outcome, payingUntil: Number(values[0]) };
      case 'ORDER_NOT_PENDING':
        return { outcome, status: String(values[0]) };
      case 'ORDER_NOT_FOUND':
      case 'FORBIDDEN':
      case 'IDEMPOTENCY_KEY_REUSED':
        return { outcome };
      default:
        throw new Error(`pay-order.lua answered an unknown outcome: ${String(outcome)}`);
    }
  }

  async settlePayment(request: SettlePaymentRequest): Promise<SettlePaymentOutcome> {
    const keys = this.keys.forSale(request.saleId);
    const [outcome, ...values] = await this.run(
      'settle-payment',
      [keys.sale, keys.order(request.orderId), keys.deadlines, keys.events, keys.idempotency(PAY_IDEMPOTENCY_SCOPE, request.userId, request.idempotencyKey ?? '')],
      [request.orderId, request.attemptId, request.now, request.result, request.idempotencyKey === undefined ? '' : request.fingerprint, PAY_IDEMPOTENCY_TTL_MS, request.reference],
      `Recording the payment of order ${request.orderId}`,
    );
    switch (outcome) {
      case 'PAID':
      case 'DECLINED':
        return { outcome, order: orderFromJson(String(values[0])) };
      case 'LEASE_LOST':
        return { outcome, status: String(values[0]) };
      default:
        throw new Error(`settle-payment.lua answered an unknown outcome: ${String(outcome)}`);
    }
  }

  async release(request: ReleaseRequest): Promise<ReleaseOutcome> {
    let fcodeHash = request.fcodeHash ?? (await this.fcodeHashOf(request.saleId, request.orderId));
    // The F-code key must be named up front (Redis Cluster); the script checks the guess and, if the
    // hash was read before the order existed in full, says which one it is. It never changes after.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const reply = await this.runRelease(request, fcodeHash);
      if (reply[0] !== 'FCODE_MISMATCH') return parseRelease(reply);
      fcodeHash = String(reply[1]);
    }
    throw new Error(`release-order.lua kept refusing the F-code hash of order ${request.orderId}`);
  }

  /** F-code hashes of many orders of one sale, in one round trip ('' for none or a missing order). */
  async fcodeHashesOf(saleId: string, orderIds: string[]): Promise<string[]> {
    const keys = this.keys.forSale(saleId);
    const pipeline = this.redis.pipeline();
    for (const orderId of orderIds) pipeline.hget(keys.order(orderId), 'fcodeHash');
    const replies = (await pipeline.exec()) ?? [];
    return orderIds.map((_orderId, index) => {
      const [error, value] = replies[index] ?? [];
      if (error) throw error;
      return typeof value === 'string' ? value : '';
    });
  }

  /** Ids of orders of one sale whose payment deadline is at or before `now`, oldest first. */
  async dueOrderIds(saleId: string, now: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.forSale(saleId).deadlines, '-inf', now, 'LIMIT', 0, limit);
  }

  async saleIds(): Promise<string[]> {
    return this.redis.smembers(this.keys.salesIndex);
  }

  private async fcodeHashOf(saleId: string, orderId: string): Promise<string> {
    return (await this.redis.hget(this.keys.forSale(saleId).order(orderId), 'fcodeHash')) ?? '';
  }

  private runRelease(request: ReleaseRequest, fcodeHash: string): Promise<ScriptReply> {
    const keys = this.keys.forSale(request.saleId);
    return this.run(
      'release-order',
      [keys.sale, keys.buyers, keys.order(request.orderId), keys.deadlines, keys.events, keys.fcode(fcodeHash)],
      [request.orderId, request.mode, request.now, request.userId ?? '', fcodeHash, request.saleId, this.keys.soldOutChannel, request.releaseId ?? ''],
      `The ${request.mode === 'cancel' ? 'cancellation' : 'expiry'} of order ${request.orderId}`,
    );
  }
}

function parseRelease([outcome, ...values]: ScriptReply): ReleaseOutcome {
  switch (outcome) {
    // The sale's state is being rebuilt: to the caller the order is not live in Redis (yet), which the
    // lifecycle answers 503 for a pending order and the sweeper skips.
    case 'SALE_NOT_READY':
      return { outcome: 'ORDER_NOT_FOUND' };
    case 'RELEASED': {
      const status = String(values[0]);
      if (status !== 'expired' && status !== 'cancelled') throw new Error(`release-order.lua released into an unknown status: ${status}`);
      return { outcome, status, order: orderFromJson(String(values[1])), stockVersion: Number(values[2]) };
    }
    case 'ORDER_EXPIRED':
    case 'NOT_DUE':
      return { outcome, payBy: Number(values[0]) };
    case 'ORDER_NOT_PENDING':
      return { outcome, status: String(values[0]) };
    case 'PAYMENT_IN_PROGRESS':
      return { outcome, payingUntil: Number(values[0]) };
    case 'ORDER_NOT_FOUND':
    case 'FORBIDDEN':
      return { outcome };
    default:
      throw new Error(`release-order.lua answered an unknown outcome: ${String(outcome)}`);
  }
}
