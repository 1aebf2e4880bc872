import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../redis/redis-topology';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { orderFromJson, OrderRecord } from '../orders/order-record';
import { runScriptAtMostOnce } from '../redis/command-outcome';
import type { CallOf } from '../redis/lua-scripts';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
const IDEMPOTENCY_SCOPE = 'purchase';

export interface PurchaseAttempt {
  saleId: string;
  userId: string;
  orderId: string;
  now: number;
  quantity: number;
  /** Keyed hash of a well-formed F-code, or undefined without one. */
  fcodeHash?: string;
  idempotencyKey?: string;
  /** The caller carries a valid admission token for this buyer and sale (needed by queue and lottery sales). */
  admitted?: boolean;
}

/** What `purchase.lua` decided. Refusals are values: only the service turns them into HTTP errors. */
export type PurchaseOutcome =
  | { outcome: 'CREATED'; order: OrderRecord }
  | { outcome: 'REPLAYED'; order: OrderRecord }
  | { outcome: 'SOLD_OUT'; generalRemaining: number; fcodeRemaining: number; stockVersion: number }
  | { outcome: 'LIMIT_REACHED'; held: number; perUserLimit: number }
  | { outcome: 'SALE_NOT_STARTED'; opensAt: number }
  | { outcome: 'SALE_ENDED'; endsAt: number }
  | { outcome: 'FCODE_EXPIRED'; expiresAt: number }
  | { outcome: 'SALE_NOT_FOUND' | 'IDEMPOTENCY_KEY_REUSED' | 'SALE_PAUSED' | 'FCODE_INVALID' | 'FCODE_USED' | 'NOT_ELIGIBLE' | 'NOT_ADMITTED' };

type ScriptReply = [string, ...(string | number)[]];

/**
 * The fingerprint of a purchase request for idempotency: who asked, for how many, with which code. The
 * user is part of it so that two users whose id and key happen to concatenate to the same Redis key can
 * never be handed each other's order.
 */
export function purchaseFingerprint(attempt: Pick<PurchaseAttempt, 'userId' | 'quantity' | 'fcodeHash'>): string {
  return JSON.stringify([attempt.userId, attempt.quantity, attempt.fcodeHash ?? '']);
}

/** The keys and arguments of `purchase.lua` for one attempt (the benchmark's baseline server sends the same). */
export function purchaseScriptCall(redisKeys: RedisKeys, attempt: PurchaseAttempt): CallOf<'purchase'> {
  const keys = redisKeys.forSale(attempt.saleId);
  return [
    'purchase',
    [
      keys.sale,
      keys.reservations,
      keys.buyers,
      keys.order(attempt.orderId),
      keys.userOrders(attempt.userId),
      keys.deadlines,
      keys.idempotency(IDEMPOTENCY_SCOPE, attempt.userId, attempt.idempotencyKey ?? ''),
      keys.events,
      keys.fcode(attempt.fcodeHash ?? ''),
    ],
    [
      attempt.userId,
      attempt.orderId,
      attempt.now,
      attempt.quantity,
      attempt.fcodeHash ?? '',
      attempt.idempotencyKey === undefined ? '' : purchaseFingerprint(attempt),
      IDEMPOTENCY_TTL_MS,
      attempt.saleId,
      attempt.admitted ? '1' : '0',
    ],
  ];
}

/**
 * The one door to `purchase.lua`: builds its keys and arguments and types its reply. A purchase is
 * carried out at most once: the script replays a second run with the same order id, so an unanswered
 * call is sent again to learn what it did (OutcomeUnknownError when Redis stays silent).
 */
@Injectable()
export class PurchaseGateway {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: RedisKeys,
  ) {}

  async purchase(attempt: PurchaseAttempt): Promise<PurchaseOutcome> {
    const reply = await runScriptAtMostOnce<ScriptReply>(this.redis, ...purchaseScriptCall(this.keys, attempt), this.config.redisOutcomeProbeMs, 'The purchase');
    return parseReply(reply);
  }

  /** Whether an accepted purchase is remembered under this Idempotency-Key (one GET, no script). */
  async hasIdempotentResponse(saleId: string, userId: string, idempotencyKey: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.forSale(saleId).idempotency(IDEMPOTENCY_SCOPE, userId, idempotencyKey))) === 1;
  }
}

export function parseReply(reply: ScriptReply): PurchaseOutcome {
  const [outcome, ...values] = reply;
  const number = (index: number) => Number(values[index]);
  switch (outcome) {
    case 'CREATED':
      return { outcome, order: orderFromJson(String(values[0])) };
    case 'REPLAYED':
      return { outcome, order: orderFromJson(String(values[0])) };
    case 'SOLD_OUT':
      return { outcome, generalRemaining: number(0), fcodeRemaining: number(1), stockVersion: number(2) };
    case 'LIMIT_REACHED':
      return { outcome, held: number(0), perUserLimit: number(1) };
    case 'SALE_NOT_STARTED':
      return { outcome, opensAt: number(0) };
    case 'SALE_ENDED':
      return { outcome, endsAt: number(0) };
    case 'FCODE_EXPIRED':
      return { outcome, expiresAt: number(0) };
    case 'SALE_NOT_FOUND':
    case 'IDEMPOTENCY_KEY_REUSED':
    case 'SALE_PAUSED':
    case 'FCODE_INVALID':
    case 'FCODE_USED':
    case 'NOT_ELIGIBLE':
    case 'NOT_ADMITTED':
      return { outcome };
    default:
      throw new Error(`purchase.lua answered an unknown outcome: ${String(outcome)}`);
  }
}
