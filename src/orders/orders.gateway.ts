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
   * The hashes of the buyer's orders in these sales, and the sales among them that have no state in Redis
   * (two round trips, per master on a cluster). A read that fails fails the whole call, with its error (an
   * unreachable or refusing master is answered 503): a list without one sale's live orders would read as
   * the whole truth.
   */
  async buyerLiveOrders(userId: string, saleIds: string[]): Promise<{ hashes: Record<string, string>[]; missingSales: string[] }> {
    // Per sale, its set of the buyer's orders and whether its state exists (one slot: one hash tag).
    const reads = saleIds.flatMap((saleId) => [
      { keys: this.keys.forSale(saleId), read: 'orders' },
      { keys: this.keys.forSale(saleId), read: 'sale' },
    ]);
    const replies = valuesOrThrow(
      await execPerNode(
        this.redis,
        reads,
        ({ keys }) => keys.sale,
        (pipeline, { keys, read }) => (read === 'orders' ? pipeline.smembers(keys.userOrders(userId)) : pipeline.exists(keys.sale)),
      ),
    );
    const orderKeys = saleIds.flatMap((saleId, index) => (replies[index * 2] as string[]).map((orderId) => this.keys.forSale(saleId).order(orderId)));
    const missingSales = saleIds.filter((_saleId, index) => replies[index * 2 + 1] === 0);
    const hashes = await execPerNode(this.redis, orderKeys, (key) => key, (pipeline, key) => pipeline.hgetall(key));
    return { hashes: valuesOrThrow(hashes) as Record<string, string>[], missingSales };
  }
}
