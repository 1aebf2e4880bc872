import { Inject, Injectable } from '@nestjs/common';
import { REDIS_CLIENT } from '../redis/redis.constants';
import { masterNodes, type RedisClient } from '../redis/redis-topology';

/** The health check's door to Redis: a PING on the shared client, or on every master of a cluster. */
@Injectable()
export class HealthGateway {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: RedisClient) {}

  /** On a cluster every master answers: a sale on a master that is down cannot be sold. */
  async ping(): Promise<void> {
    await Promise.all(masterNodes(this.redis).map((node) => node.ping()));
  }
}
