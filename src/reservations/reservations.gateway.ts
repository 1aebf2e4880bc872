import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { runScript } from '../redis/lua-scripts';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';

/** Reservations per mirror-reservations.lua call: about a millisecond of Redis time. */
const CHUNK = 2_000;
/** Script calls in flight at once during a bulk mirror. */
const CALLS_IN_FLIGHT = 4;

/**
 * The `reservations` hash of a sale (userId → reservedAt), the hot path's copy of the database's
 * reservations. Written only with HSETNX and the database's reservedAt, so writing it again after a
 * failure converges on the same content.
 */
@Injectable()
export class ReservationsGateway {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis) {}

  /** Mirrors many reservations, in chunks (a few script calls in flight at a time). */
  async mirror(saleId: string, reservations: Iterable<[userId: string, reservedAt: number]>): Promise<void> {
    const key = RedisKeys.forSale(saleId).reservations;
    let inFlight: Promise<unknown>[] = [];
    let chunk: (string | number)[] = [];
    for (const [userId, reservedAt] of reservations) {
      chunk.push(userId, reservedAt);
      if (chunk.length < CHUNK * 2) continue;
      inFlight.push(runScript(this.redis, 'mirror-reservations', [key], chunk));
      chunk = [];
      if (inFlight.length >= CALLS_IN_FLIGHT) {
        await Promise.all(inFlight);
        inFlight = [];
      }
    }
    if (chunk.length > 0) inFlight.push(runScript(this.redis, 'mirror-reservations', [key], chunk));
    await Promise.all(inFlight);
  }

  async mirrorOne(saleId: string, userId: string, reservedAt: number): Promise<void> {
    await this.redis.hsetnx(RedisKeys.forSale(saleId).reservations, userId, reservedAt);
  }
}
