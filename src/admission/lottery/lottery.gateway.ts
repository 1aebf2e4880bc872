import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { hash } from 'node:crypto';
import { runScript } from '../../redis/lua-scripts';
import { RedisKeys } from '../../redis/redis-keys';
import { REDIS_CLIENT } from '../../redis/redis.constants';
import { BUCKET_BYTES, bucketField, type RankBuckets, rankInBucket } from './lottery-ranking.core';

export type EntryOutcome =
  | { outcome: 'ENTERED' | 'IN'; enteredAt: number }
  | { outcome: 'SALE_NOT_FOUND' | 'NO_LOTTERY' | 'NOT_ELIGIBLE' | 'FCODE_INVALID' };

/** One admission round of a drawn lottery: ranks below `admittedUpTo` may buy until `buyBy`. */
export interface LotteryRound {
  admittedUpTo: number;
  buyBy: number;
}

export interface LotteryRounds {
  /** Ranks admitted so far (every round together). */
  admitted: number;
  entries: number;
  rounds: LotteryRound[];
}

/**
 * Rank buckets written per command at the draw: some hundred kilobytes, quick for Redis to take in while
 * every other sale's commands wait behind it.
 */
const BUCKETS_PER_COMMAND = 256;
/** Commands sent together: each batch is one round trip, which a busy machine makes slow. */
const COMMANDS_IN_FLIGHT = 16;
/** Entries written per command when the rebuild puts a lottery's entries back (COMMANDS_IN_FLIGHT at a time). */
const ENTRIES_PER_COMMAND = 2000;

/**
 * The one door to a sale's lottery in Redis: its copy of the entries (which the entry script checks
 * against), the ranking of the draw, and its rounds. The database holds the record of all three
 * (LotteryRepository).
 */
@Injectable()
export class LotteryGateway {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async enter(saleId: string, userId: string, now: number, fcodeHash: string | undefined): Promise<EntryOutcome> {
    const keys = this.keys.forSale(saleId);
    const [outcome, enteredAt] = await runScript<[string, number?]>(
      this.redis,
      'lottery-entry',
      [keys.sale, keys.lotteryEntries, keys.reservations, keys.fcode(fcodeHash ?? '')],
      [userId, now, fcodeHash ?? ''],
    );
    switch (outcome) {
      case 'ENTERED':
      case 'IN':
        return { outcome, enteredAt: Number(enteredAt) };
      case 'SALE_NOT_FOUND':
      case 'NO_LOTTERY':
      case 'NOT_ELIGIBLE':
      case 'FCODE_INVALID':
        return { outcome };
      default:
        throw new Error(`lottery-entry.lua answered an unknown outcome: ${outcome}`);
    }
  }

  /** Removes an entry the database refused (the draw had started): it is in no draw. */
  async withdraw(saleId: string, userId: string): Promise<void> {
    await this.redis.hdel(this.keys.forSale(saleId).lotteryEntries, userId);
  }

  /** Drops Redis's copy of the entries once the draw is in Redis (freed in the background). */
  async dropEntries(saleId: string): Promise<void> {
    await this.redis.unlink(this.keys.forSale(saleId).lotteryEntries);
  }

  async enteredAt(saleId: string, userId: string): Promise<number | undefined> {
    const value = await this.redis.hget(this.keys.forSale(saleId).lotteryEntries, userId);
    return value === null ? undefined : Number(value);
  }

  /**
   * Puts entries back from the database (the rebuild, before the sale's hash exists, so that no entry
   * script runs meanwhile): `lines` is `<userId>\t<enteredAt>` lines.
   */
  async mirrorEntries(saleId: string, lines: string): Promise<void> {
    const key = this.keys.forSale(saleId).lotteryEntries;
    const all = lines.split('\n');
    for (let batch = 0; batch < all.length; batch += ENTRIES_PER_COMMAND * COMMANDS_IN_FLIGHT) {
      const pipeline = this.redis.pipeline();
      for (let start = batch; start < Math.min(all.length, batch + ENTRIES_PER_COMMAND * COMMANDS_IN_FLIGHT); start += ENTRIES_PER_COMMAND) {
        const fields: string[] = [];
        for (const line of all.slice(start, start + ENTRIES_PER_COMMAND)) {
          const tab = line.lastIndexOf('\t');
          fields.push(line.slice(0, tab), line.slice(tab + 1));
        }
        pipeline.hset(key, ...fields);
      }
      await execOrThrow(pipeline);
    }
  }

  /** Units left in the general pool: what the winners buy from. */
  async generalRemaining(saleId: string): Promise<number | undefined> {
    const value = await this.redis.hget(this.keys.forSale(saleId).sale, 'generalRemaining');
    return value === null ? undefined : Number(value);
  }

  /** Writes the ranking of the draw (see RankBuckets). Idempotent: a draw always ranks the same way. */
  async writeRanks(saleId: string, buckets: RankBuckets): Promise<void> {
    const key = this.keys.forSale(saleId).lotteryRanks;
    const { offsets, records } = buckets;
    const values = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
    const filled: number[] = [];
    for (let bucket = 0; bucket + 1 < offsets.length; bucket += 1) if (offsets[bucket + 1] > offsets[bucket]) filled.push(bucket);
    // A few commands in flight at a time, so that none waits behind a long queue of others.
    for (let batch = 0; batch < filled.length; batch += BUCKETS_PER_COMMAND * COMMANDS_IN_FLIGHT) {
      const pipeline = this.redis.pipeline();
      for (let start = batch; start < Math.min(filled.length, batch + BUCKETS_PER_COMMAND * COMMANDS_IN_FLIGHT); start += BUCKETS_PER_COMMAND) {
        const fields: (string | Buffer)[] = [];
        for (const bucket of filled.slice(start, start + BUCKETS_PER_COMMAND)) fields.push(bucketField(bucket), values.subarray(offsets[bucket], offsets[bucket + 1]));
        pipeline.hset(key, ...fields);
      }
      await execOrThrow(pipeline);
    }
  }

  /** The buyer's 0-based rank in the draw, or undefined (not entered, or not drawn). */
  async rank(saleId: string, userId: string): Promise<number | undefined> {
    const userHash = hash('sha256', userId, 'buffer');
    const records = await this.redis.hgetBuffer(this.keys.forSale(saleId).lotteryRanks, userHash.subarray(0, BUCKET_BYTES).toString('hex'));
    return records === null ? undefined : rankInBucket(records, userHash);
  }

  /** Records the drawn lottery's rounds (the first, or every one so far after a rebuild), unless Redis has them. */
  async recordDraw(saleId: string, entries: number, rounds: readonly LotteryRound[]): Promise<void> {
    await runScript<string>(this.redis, 'lottery-draw', [this.keys.forSale(saleId).lotteryState], [entries, ...rounds.map((round) => `${round.admittedUpTo}:${round.buyBy}`)]);
  }

  /** The rounds so far, opening the next one when it is due. */
  async advance(saleId: string, now: number, windowMs: number): Promise<LotteryRounds | 'SALE_NOT_FOUND' | 'NOT_DRAWN'> {
    const keys = this.keys.forSale(saleId);
    const [outcome, ...values] = await runScript<[string, ...(string | number)[]]>(this.redis, 'lottery-rounds', [keys.sale, keys.lotteryState], [now, windowMs]);
    if (outcome === 'SALE_NOT_FOUND' || outcome === 'NOT_DRAWN') return outcome;
    const [admitted, entryCount, ...rounds] = values;
    return {
      admitted: Number(admitted),
      entries: Number(entryCount),
      rounds: rounds.map((round) => {
        const [admittedUpTo, buyBy] = String(round).split(':').map(Number);
        return { admittedUpTo, buyBy };
      }),
    };
  }
}

async function execOrThrow(pipeline: ReturnType<Redis['pipeline']>): Promise<void> {
  const replies = (await pipeline.exec()) ?? [];
  const failed = replies.find(([error]) => error);
  if (failed) throw failed[0];
}
