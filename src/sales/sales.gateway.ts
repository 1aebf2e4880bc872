import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { runScript } from '../redis/lua-scripts';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';
import type { SaleLiveNumbers } from './dto/sale-response.dto';
import { COUNTER_FIELDS, type SaleCounters } from './sale-redis-state';

const LIVE_FIELDS = ['general', 'fcode', 'generalRemaining', 'fcodeRemaining', 'paused'] as const;

const toInteger = (value: string | null | undefined) => (value === null || value === undefined || value === '' ? 0 : Number(value));

/**
 * The sales feature's door to Redis: the sale-admin scripts and the reads of a sale's hash. Keys come
 * from `RedisKeys`; replies come back typed.
 */
@Injectable()
export class SalesGateway {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis) {}

  /** Creates the `sale` hash if absent (init-sale.lua) and lists the sale in the index. True when created. */
  async initSale(saleId: string, fields: Record<string, string | number>): Promise<boolean> {
    const created = await runScript<number>(this.redis, 'init-sale', [RedisKeys.forSale(saleId).sale], Object.entries(fields).flat());
    await this.redis.sadd(RedisKeys.salesIndex, saleId);
    return created === 1;
  }

  /** Undoes `initSale` for a sale whose database row was never committed. */
  async removeSale(saleId: string): Promise<void> {
    await this.redis.multi().del(RedisKeys.forSale(saleId).sale).srem(RedisKeys.salesIndex, saleId).exec();
  }

  async saleExists(saleId: string): Promise<boolean> {
    return (await this.redis.exists(RedisKeys.forSale(saleId).sale)) === 1;
  }

  /** The live numbers of each sale (one pipeline round trip); undefined where the sale has no Redis state. */
  async liveNumbers(saleIds: string[]): Promise<(SaleLiveNumbers | undefined)[]> {
    if (saleIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const saleId of saleIds) {
      const keys = RedisKeys.forSale(saleId);
      pipeline.hmget(keys.sale, ...LIVE_FIELDS);
      pipeline.hlen(keys.reservations);
    }
    const replies = await pipeline.exec();
    if (!replies) throw new Error('Redis pipeline was discarded');
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
    const values = await this.redis.hmget(RedisKeys.forSale(saleId).sale, ...COUNTER_FIELDS);
    if (values[0] === null) return undefined;
    return Object.fromEntries(COUNTER_FIELDS.map((field, index) => [field, toInteger(values[index])])) as unknown as SaleCounters;
  }
}
