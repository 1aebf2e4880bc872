import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../redis/redis-topology';
import { assertConnected } from '../redis/command-outcome';
import { runScript } from '../redis/lua-scripts';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';

/** Reservations per mirror-reservations.lua call: about a millisecond of Redis time. */
const CHUNK = 2_000;
/** Script calls in flight at once during a bulk mirror. */
const CALLS_IN_FLIGHT = 4;

/** Copies reservations into the hash at `key` in chunks, CALLS_IN_FLIGHT script calls at a time. */
async function mirrorReservations(redis: RedisClient, key: string, reservations: Iterable<[userId: string, reservedAt: number]>): Promise<number> {
  let added = 0;
  let inFlight: Promise<number>[] = [];
  const settle = async () => {
    for (const count of await Promise.all(inFlight)) added += count;
    inFlight = [];
  };
  let chunk: (string | number)[] = [];
  for (const [userId, reservedAt] of reservations) {
    chunk.push(userId, reservedAt);
    if (chunk.length < CHUNK * 2) continue;
    inFlight.push(runScript<number>(redis, 'mirror-reservations', [key], chunk));
    chunk = [];
    if (inFlight.length >= CALLS_IN_FLIGHT) await settle();
  }
  if (chunk.length > 0) inFlight.push(runScript<number>(redis, 'mirror-reservations', [key], chunk));
  await settle();
  return added;
}

/**
 * The `reservations` hash of a sale (userId → reservedAt), the hot path's copy of the database's
 * reservations. Written only with HSETNX and the database's reservedAt, so writing it again after a
 * failure converges on the same content.
 */
@Injectable()
export class ReservationsGateway {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  /** Refuses (nothing sent) while Redis is not connected, before the caller writes the database. */
  assertConnected(): void {
    assertConnected(this.redis);
  }

  /**
   * Copies reservations (userId, reservedAt from the database) into the sale's hash with HSETNX, in
   * chunks: the import and the rebuild of a sale's state. Writing the same entries twice is harmless.
   */
  async mirror(saleId: string, reservations: Iterable<[userId: string, reservedAt: number]>): Promise<void> {
    await mirrorReservations(this.redis, this.keys.forSale(saleId).reservations, reservations);
  }

  async mirrorOne(saleId: string, userId: string, reservedAt: number): Promise<void> {
    await this.redis.hsetnx(this.keys.forSale(saleId).reservations, userId, reservedAt);
  }
}
