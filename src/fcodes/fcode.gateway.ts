import { Inject, Injectable } from '@nestjs/common';
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '../redis/redis-topology';
import { SellException } from '../common/errors/sell.exception';
import { runScript } from '../redis/lua-scripts';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';

/** Commands per pipeline round trip: big enough for speed, small enough not to stall other clients. */
const PIPELINE_CHUNK = 5000;
/** Codes per fcode-issue.lua or fcode-states.lua call: about a millisecond of Redis time each. */
const SCRIPT_CHUNK = 1000;

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
  void: boolean;
}

/**
 * The F-code state in Redis (`fcode:<codeHash>` under the sale's hash tag, see redis-keys.ts), which
 * purchase.lua reads and marks. Issuance, export, summary and void go through here.
 */
@Injectable()
export class FcodeGateway {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  /** Writes issued codes (a script call per SCRIPT_CHUNK codes, all sent at once); throws on a failure. */
  async writeIssued(saleId: string, codes: FcodeRedisState[]): Promise<void> {
    const keys = this.keys.forSale(saleId);
    const calls: Promise<unknown>[] = [];
    for (let start = 0; start < codes.length; start += SCRIPT_CHUNK) {
      const chunk = codes.slice(start, start + SCRIPT_CHUNK);
      calls.push(
        runScript(
          this.redis,
          'fcode-issue',
          chunk.map((code) => keys.fcode(code.codeHash)),
          chunk.flatMap((code) => [code.userId, code.expiresAt]),
        ),
      );
    }
    // Settle every call before reporting, so that a clean-up after a failure runs after the last write.
    const outcomes = await Promise.allSettled(calls);
    const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure) throw asUnavailable(failure.reason);
  }

  /** Removes codes written by an issuance that did not commit. */
  async remove(saleId: string, codeHashes: string[]): Promise<void> {
    const keys = this.keys.forSale(saleId);
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
    const key = this.keys.forSale(saleId).fcode(codeHash);
    const replies = await execOrThrow(this.redis.multi().hset(key, 'status', 'void').hget(key, 'orderId'));
    return (replies[1] as string | null) ?? '';
  }

  /** The hot-path state of each code, in the order of `codeHashes`. */
  async liveStates(saleId: string, codeHashes: string[]): Promise<FcodeLiveState[]> {
    const keys = this.keys.forSale(saleId);
    const calls: Promise<string[]>[] = [];
    for (let start = 0; start < codeHashes.length; start += SCRIPT_CHUNK) {
      calls.push(runScript<string[]>(this.redis, 'fcode-states', codeHashes.slice(start, start + SCRIPT_CHUNK).map((codeHash) => keys.fcode(codeHash)), []));
    }
    const states: FcodeLiveState[] = [];
    for (const reply of await Promise.all(calls)) {
      for (let index = 0; index < reply.length; index += 2) states.push({ void: reply[index] === 'void', orderId: reply[index + 1] });
    }
    return states;
  }

  /** F-codes currently backing a live order of the sale (the sale hash's counter). */
  async redeemedCount(saleId: string): Promise<number> {
    return Number((await this.redis.hget(this.keys.forSale(saleId).sale, 'fcodesRedeemed')) ?? 0);
  }

  /** Wrong codes counted against the address subject in its current window. */
  async addressFailures(subject: string): Promise<number> {
    return Number((await this.redis.get(this.keys.fcodeAttempts('ip', subject))) ?? 0);
  }

  /** Milliseconds left of the address subject's window (0 or less when it has none). */
  addressWindowLeftMs(subject: string): Promise<number> {
    return this.redis.pttl(this.keys.fcodeAttempts('ip', subject));
  }

  /** Counts an attempt against the user unless `max` are counted in the window: [1 taken or 0 refused, ms left of the window]. */
  takeUserAttempt(userId: string, max: number, windowMs: number): Promise<[number, number]> {
    return runScript<[number, number]>(this.redis, 'fcode-attempt-take', [this.keys.fcodeAttempts('user', userId)], [max, windowMs]);
  }

  /** Gives back an attempt `takeUserAttempt` counted. */
  async giveBackUserAttempt(userId: string): Promise<void> {
    await runScript(this.redis, 'fcode-attempt-give-back', [this.keys.fcodeAttempts('user', userId)], []);
  }

  /** Counts a wrong code against the address subject, in a window of `windowMs` from the first. */
  async recordAddressFailure(subject: string, windowMs: number): Promise<void> {
    await runScript(this.redis, 'fcode-attempt-record', [this.keys.fcodeAttempts('ip', subject)], [windowMs]);
  }
}

/** Redis replies that mean "cannot take writes right now" rather than a bug: answered as 503. */
const UNAVAILABLE_REPLY = /^(OOM|READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY)\b/;

async function execOrThrow(pipeline: ChainableCommander): Promise<unknown[]> {
  const replies = await pipeline.exec();
  if (replies === null) throw new Error('Redis transaction was aborted');
  return replies.map(([error, reply]) => {
    if (error) throw asUnavailable(error);
    return reply;
  });
}

function asUnavailable(error: unknown): unknown {
  return error instanceof Error && UNAVAILABLE_REPLY.test(error.message) ? SellException.unavailable('Redis') : error;
}
