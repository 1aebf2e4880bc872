import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { runScriptAtMostOnce } from '../redis/command-outcome';
import { execPerNode, type RedisClient } from '../redis/redis-topology';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';
import type { SaleLiveNumbers } from './dto/sale-response.dto';
import type { SaleEntity } from './sale.entity';

/** The counters of a sale's `sale` hash (src/redis/redis-keys.ts), as numbers. */
export interface SaleCounters {
  general: number;
  fcode: number;
  generalRemaining: number;
  fcodeRemaining: number;
  unitsSold: number;
  accepted: number;
  pending_payment: number;
  paid: number;
  expired: number;
  cancelled: number;
  fcodesRedeemed: number;
  stockVersion: number;
}

export const COUNTER_FIELDS: readonly (keyof SaleCounters)[] = [
  'general',
  'fcode',
  'generalRemaining',
  'fcodeRemaining',
  'unitsSold',
  'accepted',
  'pending_payment',
  'paid',
  'expired',
  'cancelled',
  'fcodesRedeemed',
  'stockVersion',
];

/** The counters of a sale that has sold nothing yet. */
export function freshCounters(sale: Pick<SaleEntity, 'stock' | 'fcodeStock'>): SaleCounters {
  return {
    general: sale.stock,
    fcode: sale.fcodeStock,
    generalRemaining: sale.stock,
    fcodeRemaining: sale.fcodeStock,
    unitsSold: 0,
    accepted: 0,
    pending_payment: 0,
    paid: 0,
    expired: 0,
    cancelled: 0,
    fcodesRedeemed: 0,
    stockVersion: 0,
  };
}

/** The settings part of the `sale` hash: what the hot path reads, in the units the scripts expect. */
export function settingsFields(sale: SaleEntity): Record<string, string | number> {
  return {
    startsAt: sale.startsAt,
    endsAt: sale.endsAt,
    fcodeOpensAt: sale.fcodeOpensAt,
    reservationOpensAt: sale.reservationOpensAt,
    reservationClosesAt: sale.reservationClosesAt,
    paused: sale.paused ? 1 : 0,
    reservationRequired: sale.reservationRequired ? 1 : 0,
    perUserLimit: sale.perUserLimit,
    priceCents: sale.priceCents,
    currency: sale.currency,
    paymentWindowMs: sale.paymentWindowSeconds * 1000,
    admission: sale.admission,
    admissionRatePerSecond: sale.admissionRatePerSecond,
  };
}

/** Every field of the `sale` hash. */
export function saleHashFields(sale: SaleEntity, counters: SaleCounters): Record<string, string | number> {
  return { ...settingsFields(sale), ...counters };
}

export type StockPool = 'general' | 'fcode';

/** What `adjust-stock.lua` did. */
export type StockAdjustment =
  | { outcome: 'ADJUSTED'; applied: number; total: number; remaining: number; stockVersion: number }
  | { outcome: 'SALE_NOT_FOUND' }
  | { outcome: 'OVER_CAPACITY'; total: number };

const LIVE_FIELDS = ['general', 'fcode', 'generalRemaining', 'fcodeRemaining', 'paused'] as const;

const toInteger = (value: string | null | undefined) => (value === null || value === undefined || value === '' ? 0 : Number(value));

/**
 * The sales feature's door to Redis: the sale-admin scripts and the reads of a sale's hash. Keys come
 * from `RedisKeys`; replies come back typed.
 */
@Injectable()
export class SalesGateway {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: RedisKeys,
  ) {}

  /**
   * Creates the `sale` hash if absent (init-sale.lua) and lists the sale in the index. True when created.
   * The writes here and below are idempotent (a hash created only if absent, fields set to values, a change
   * recorded under its id), so an unanswered one is sent again until Redis answers: the caller learns
   * what happened, or gets OutcomeUnknownError after `REDIS_OUTCOME_PROBE_MS`.
   */
  async initSale(saleId: string, fields: Record<string, string | number>): Promise<boolean> {
    const created = await runScriptAtMostOnce<number>(this.redis, 'init-sale', [this.keys.forSale(saleId).sale], Object.entries(fields).flat(), this.config.redisOutcomeProbeMs, `Creating sale ${saleId}`);
    await this.index(saleId);
    return created === 1;
  }

  /** Lists a sale in the index of sales (which the order writer and the sweeper read). */
  async index(saleId: string): Promise<void> {
    await this.redis.sadd(this.keys.salesIndex, saleId);
  }

  /**
   * Undoes `initSale` for a sale whose database row was never committed. Two commands: the index and the
   * sale's hash lie in different slots on a cluster.
   */
  async removeSale(saleId: string): Promise<void> {
    await this.redis.del(this.keys.forSale(saleId).sale);
    await this.redis.srem(this.keys.salesIndex, saleId);
  }

  async saleExists(saleId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.forSale(saleId).sale)) === 1;
  }

  /** The live numbers of each sale (one pipeline round trip per master); undefined where the sale has no Redis state. */
  async liveNumbers(saleIds: string[]): Promise<(SaleLiveNumbers | undefined)[]> {
    const reads = saleIds.flatMap((saleId) => [
      { keys: this.keys.forSale(saleId), read: 'sale' },
      { keys: this.keys.forSale(saleId), read: 'reservations' },
    ]);
    const replies = await execPerNode(
      this.redis,
      reads,
      ({ keys }) => keys.sale,
      (pipeline, { keys, read }) => (read === 'sale' ? pipeline.hmget(keys.sale, ...LIVE_FIELDS) : pipeline.hlen(keys.reservations)),
    );
    return saleIds.map((_saleId, index) => {
      const [hashError, values] = replies[index * 2];
      const [countError, reservations] = replies[index * 2 + 1];
      if (hashError) throw hashError;
      if (countError) throw countError;
      const [general, fcode, generalRemaining, fcodeRemaining, paused] = values as (string | null)[];
      if (general === null) return undefined;
      return {
        general: toInteger(general),
        fcode: toInteger(fcode),
        generalRemaining: toInteger(generalRemaining),
        fcodeRemaining: toInteger(fcodeRemaining),
        paused: paused === '1',
        reservations: Number(reservations),
      };
    });
  }

  /** Every counter of the `sale` hash; undefined when the sale has no Redis state. */
  async counters(saleId: string): Promise<SaleCounters | undefined> {
    const values = await this.redis.hmget(this.keys.forSale(saleId).sale, ...COUNTER_FIELDS);
    if (values[0] === null) return undefined;
    return Object.fromEntries(COUNTER_FIELDS.map((field, index) => [field, toInteger(values[index])])) as unknown as SaleCounters;
  }

  /** Sets settings fields of an existing `sale` hash (update-sale.lua). False when the sale has no hash. */
  async updateSettings(saleId: string, fields: Record<string, string | number>): Promise<boolean> {
    if (Object.keys(fields).length === 0) return this.saleExists(saleId);
    const written = await runScriptAtMostOnce<number>(this.redis, 'update-sale', [this.keys.forSale(saleId).sale], Object.entries(fields).flat(), this.config.redisOutcomeProbeMs, `Changing sale ${saleId}`);
    return written === 1;
  }

  /**
   * Adds (or, negative, removes unsold) units of one pool atomically (adjust-stock.lua). `adjustmentId`
   * names this change: sent again, it is not applied again.
   */
  async adjustStock(saleId: string, pool: StockPool, add: number, maxTotal: number, adjustmentId: string): Promise<StockAdjustment> {
    const keys = this.keys.forSale(saleId);
    const reply = await runScriptAtMostOnce<[string, ...number[]]>(
      this.redis,
      'adjust-stock',
      [keys.sale, keys.adjustment(adjustmentId)],
      [pool, add, maxTotal, saleId, this.keys.soldOutChannel],
      this.config.redisOutcomeProbeMs,
      `Changing the stock of sale ${saleId}`,
    );
    switch (reply[0]) {
      case 'ADJUSTED':
        return { outcome: 'ADJUSTED', applied: Number(reply[1]), total: Number(reply[2]), remaining: Number(reply[3]), stockVersion: Number(reply[4]) };
      case 'OVER_CAPACITY':
        return { outcome: 'OVER_CAPACITY', total: Number(reply[1]) };
      case 'SALE_NOT_FOUND':
        return { outcome: 'SALE_NOT_FOUND' };
      default:
        throw new Error(`adjust-stock.lua answered ${String(reply[0])}`);
    }
  }

  /**
   * What is left in each pool of every indexed sale that has not ended (the `sellout_stock_remaining`
   * gauge); undefined for a sale that ended or whose hash is missing or unreadable.
   */
  async stockRemaining(now: number): Promise<{ saleId: string; remaining?: { general: number; fcode: number } }[]> {
    const saleIds = await this.redis.smembers(this.keys.salesIndex);
    const replies = await execPerNode(
      this.redis,
      saleIds,
      (saleId) => this.keys.forSale(saleId).sale,
      (pipeline, saleId) => pipeline.hmget(this.keys.forSale(saleId).sale, 'generalRemaining', 'fcodeRemaining', 'endsAt'),
    );
    return saleIds.map((saleId, index) => {
      const [error, values] = replies[index] ?? [];
      const [general, fcode, endsAt] = (values as (string | null)[] | undefined) ?? [];
      if (error || endsAt === null || endsAt === undefined || Number(endsAt) <= now) return { saleId };
      return { saleId, remaining: { general: Number(general ?? 0), fcode: Number(fcode ?? 0) } };
    });
  }
}
