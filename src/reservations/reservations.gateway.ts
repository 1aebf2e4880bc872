import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { assertConnected } from '../redis/command-outcome';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';
import { mirrorReservations } from './mirror-reservations';

/**
 * The `reservations` hash of a sale (userId → reservedAt), the hot path's copy of the database's
 * reservations. Written only with HSETNX and the database's reservedAt, so writing it again after a
 * failure converges on the same content.
 */
@Injectable()
export class ReservationsGateway {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Refuses (nothing sent) while Redis is not connected, before the caller writes the database. */
  assertConnected(): void {
    assertConnected(this.redis);
  }

  async mirror(saleId: string, reservations: Iterable<[userId: string, reservedAt: number]>): Promise<void> {
    await mirrorReservations(this.redis, this.keys.forSale(saleId).reservations, reservations);
  }

  async mirrorOne(saleId: string, userId: string, reservedAt: number): Promise<void> {
    await this.redis.hsetnx(this.keys.forSale(saleId).reservations, userId, reservedAt);
  }
}
