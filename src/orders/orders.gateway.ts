import { Inject, Injectable } from '@nestjs/common';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';
import { execPerNode, type RedisClient } from '../redis/redis-topology';

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
   * The hashes of the buyer's orders in these sales (two round trips, per master on a cluster); a sale or
   * order whose read failed is left out.
   */
  async buyerOrderHashes(userId: string, saleIds: string[]): Promise<Record<string, string>[]> {
    const membership = await execPerNode(
      this.redis,
      saleIds,
      (saleId) => this.keys.forSale(saleId).userOrders(userId),
      (pipeline, saleId) => pipeline.smembers(this.keys.forSale(saleId).userOrders(userId)),
    );
    const orderKeys = membership.flatMap(([error, ids], index) => (error ? [] : (ids as string[]).map((orderId) => this.keys.forSale(saleIds[index]).order(orderId))));
    const hashes = await execPerNode(this.redis, orderKeys, (key) => key, (pipeline, key) => pipeline.hgetall(key));
    return hashes.flatMap(([error, hash]) => (error ? [] : [hash as Record<string, string>]));
  }
}
