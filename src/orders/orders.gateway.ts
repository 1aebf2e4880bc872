import { Inject, Injectable } from '@nestjs/common';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';
import { execPerNode, type RedisClient, valuesOrThrow } from '../redis/redis-topology';

/**
 * The live orders in Redis: each `order:<id>` hash and each buyer's set of order ids per sale (written by
 * the purchase and lifecycle scripts, read here). Hashes come back raw; `orderFromFields` reads them.
 */
@Injectable()
export class OrdersGateway {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  /** The order's hash; empty when Redis holds no live state for it. */
  orderHash(saleId: string, orderId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.forSale(saleId).order(orderId));
  }

  /**
   * The hashes of the buyer's orders in these sales (two round trips, per master on a cluster). A read
   * that fails fails the whole call, with its error (an unreachable or refusing master is answered 503):
   * a list without one sale's live orders would read as the whole truth.
   */
  async buyerOrderHashes(userId: string, saleIds: string[]): Promise<Record<string, string>[]> {
    const membership = await execPerNode(
      this.redis,
      saleIds,
      (saleId) => this.keys.forSale(saleId).userOrders(userId),
      (pipeline, saleId) => pipeline.smembers(this.keys.forSale(saleId).userOrders(userId)),
    );
    const orderKeys = (valuesOrThrow(membership) as string[][]).flatMap((ids, index) => ids.map((orderId) => this.keys.forSale(saleIds[index]).order(orderId)));
    const hashes = await execPerNode(this.redis, orderKeys, (key) => key, (pipeline, key) => pipeline.hgetall(key));
    return valuesOrThrow(hashes) as Record<string, string>[];
  }
}
