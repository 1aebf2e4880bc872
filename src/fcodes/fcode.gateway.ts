import { Inject, Injectable } from '@nestjs/common';
import type { ChainableCommander } from 'ioredis';
import type Redis from 'ioredis';
import { SellException } from '../common/errors/sell.exception';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';

/** Commands per pipeline round trip: big enough for speed, small enough not to stall other clients. */
const PIPELINE_CHUNK = 5000;

export interface FcodeRedisState {
  codeHash: string;
  /** '' when the code is not bound to a buyer. */
  userId: string;
  /** Epoch ms; 0 when the code never expires. */
  expiresAt: number;
}

export interface FcodeLiveState {
  /** The live order this code backs, or '' when none. */
  orderId: string;
  /** False when Redis holds no state for the code. */
  present: boolean;
  void: boolean;
}

/**
 * The F-code state in Redis (`fcode:<codeHash>` under the sale's hash tag, see redis-keys.ts), which
 * purchase.lua reads and marks. Issuance, export, summary and void go through here.
 */
@Injectable()
export class FcodeGateway {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis) {}

  /** Writes issued codes, pipelined; throws on the first failed command. */
  async writeIssued(saleId: string, codes: FcodeRedisState[]): Promise<void> {
    const keys = RedisKeys.forSale(saleId);
    for (let start = 0; start < codes.length; start += PIPELINE_CHUNK) {
      const pipeline = this.redis.pipeline();
      for (const code of codes.slice(start, start + PIPELINE_CHUNK)) {
        pipeline.hset(keys.fcode(code.codeHash), 'userId', code.userId, 'expiresAt', code.expiresAt, 'status', 'issued', 'orderId', '');
      }
      await execOrThrow(pipeline);
    }
  }

  /** Removes codes written by an issuance that did not commit. */
  async remove(saleId: string, codeHashes: string[]): Promise<void> {
    const keys = RedisKeys.forSale(saleId);
    for (let start = 0; start < codeHashes.length; start += PIPELINE_CHUNK) {
      const pipeline = this.redis.pipeline();
      for (const codeHash of codeHashes.slice(start, start + PIPELINE_CHUNK)) pipeline.del(keys.fcode(codeHash));
      await execOrThrow(pipeline);
    }
  }

  /**
   * Marks a code void and returns the live order it backs ('' for none). The field is written even when
   * Redis has lost the code's state, so that a later rebuild of missing state cannot bring it back.
   */
  async markVoid(saleId: string, codeHash: string): Promise<string> {
    const key = RedisKeys.forSale(saleId).fcode(codeHash);
    const replies = await execOrThrow(this.redis.multi().hset(key, 'status', 'void').hget(key, 'orderId'));
    return (replies[1] as string | null) ?? '';
  }

  /** The hot-path state of each code, in the order of `codeHashes`. */
  async liveStates(saleId: string, codeHashes: string[]): Promise<FcodeLiveState[]> {
    const keys = RedisKeys.forSale(saleId);
    const states: FcodeLiveState[] = [];
    for (let start = 0; start < codeHashes.length; start += PIPELINE_CHUNK) {
      const pipeline = this.redis.pipeline();
      for (const codeHash of codeHashes.slice(start, start + PIPELINE_CHUNK)) pipeline.hmget(keys.fcode(codeHash), 'status', 'orderId');
      for (const reply of await execOrThrow(pipeline)) {
        const [status, orderId] = reply as (string | null)[];
        states.push({ present: status !== null, void: status === 'void', orderId: orderId ?? '' });
      }
    }
    return states;
  }

  /** F-codes currently backing a live order of the sale (the sale hash's counter). */
  async redeemedCount(saleId: string): Promise<number> {
    return Number((await this.redis.hget(RedisKeys.forSale(saleId).sale, 'fcodesRedeemed')) ?? 0);
  }
}

/** Redis replies that mean "cannot take writes right now" rather than a bug: answered as 503. */
const UNAVAILABLE_REPLY = /^(OOM|READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY)\b/;

async function execOrThrow(pipeline: ChainableCommander): Promise<unknown[]> {
  const replies = await pipeline.exec();
  if (replies === null) throw new Error('Redis transaction was aborted');
  return replies.map(([error, reply]) => {
    if (error) throw UNAVAILABLE_REPLY.test(error.message) ? SellException.unavailable('Redis') : error;
    return reply;
  });
}
