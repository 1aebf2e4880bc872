import { Inject, Injectable } from '@nestjs/common';
import { isCluster, keySlot, type RedisClient } from '../redis/redis-topology';
import { runScript } from '../redis/lua-scripts';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';

/**
 * The deployment's own keys in Redis: the prefix's binding to a database, and the rebuild lock. On a Redis
 * Cluster the binding also has a copy on every master, so that one master that restarts empty (or is
 * flushed, or fails over to an empty replica) reads as a lost binding, and its sales are rebuilt, even
 * though the master holding `<prefix>:deployment` kept its memory.
 */
@Injectable()
export class DeploymentGateway {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  /** Binds the prefix to `databaseId` unless it is bound already; resolves to the id it is bound to. */
  async bind(databaseId: string): Promise<string | null> {
    await this.redis.set(this.keys.deployment, databaseId, 'NX');
    const boundTo = await this.redis.get(this.keys.deployment);
    if (boundTo !== null) await Promise.all(this.markerKeys().map((key) => this.redis.set(key, boundTo, 'NX')));
    return this.boundId();
  }

  /**
   * The id of the database this prefix is bound to; null when Redis holds no binding (a new or emptied
   * Redis), or when a master of the cluster lacks its copy (it lost its memory).
   */
  async boundId(): Promise<string | null> {
    const boundTo = await this.redis.get(this.keys.deployment);
    if (boundTo === null) return null;
    const copies = await Promise.all(this.markerKeys().map((key) => this.redis.get(key)));
    return copies.every((copy) => copy !== null) ? boundTo : null;
  }

  /** One key per master of the cluster's current slot map, each in a slot of its master; none on one node. */
  private markerKeys(): string[] {
    if (!isCluster(this.redis)) return [];
    const slots = this.redis.slots;
    const masters = new Set(slots.map((nodes) => nodes[0]).filter((node) => node !== undefined));
    const keys: string[] = [];
    for (let n = 0; masters.size > 0 && n < 100_000; n += 1) {
      const key = this.keys.deploymentMarker(n);
      const master = slots[keySlot(key)]?.[0];
      if (master !== undefined && masters.delete(master)) keys.push(key);
    }
    return keys;
  }

  /** Takes the rebuild lock for `ttlMs` unless another process holds it. */
  async tryLockRebuild(token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.keys.rebuildLock, token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async unlockRebuild(token: string): Promise<void> {
    await runScript(this.redis, 'release-lock', [this.keys.rebuildLock], [token]);
  }
}
