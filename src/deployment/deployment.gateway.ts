import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { runScript } from '../redis/lua-scripts';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';

/** The deployment's own keys in Redis: the prefix's binding to a database, and the rebuild lock. */
@Injectable()
export class DeploymentGateway {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Binds the prefix to `databaseId` unless it is bound already; resolves to the id it is bound to. */
  async bind(databaseId: string): Promise<string | null> {
    await this.redis.set(this.keys.deployment, databaseId, 'NX');
    return this.boundId();
  }

  /** The id of the database this prefix is bound to; null when Redis holds no binding (a new or emptied Redis). */
  boundId(): Promise<string | null> {
    return this.redis.get(this.keys.deployment);
  }

  /** Takes the rebuild lock for `ttlMs` unless another process holds it. */
  async tryLockRebuild(token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.keys.rebuildLock, token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async unlockRebuild(token: string): Promise<void> {
    await runScript(this.redis, 'release-lock', [this.keys.rebuildLock], [token]);
  }
}
