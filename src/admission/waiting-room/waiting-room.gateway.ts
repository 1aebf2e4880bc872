import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { runScript } from '../../redis/lua-scripts';
import { RedisKeys } from '../../redis/redis-keys';
import { REDIS_CLIENT } from '../../redis/redis.constants';

/** Where a buyer stands in a sale's waiting room, as `waiting-room.lua` sees it. */
export interface WaitingRoomPlace {
  /** Whether this call put the buyer in line (false: they were in already). */
  joined: boolean;
  /** 0-based place in line (the front is 0). */
  rank: number;
  /** Places admitted from the front so far. */
  admitted: number;
  /** Thousandths of the next admission already earned. */
  credit: number;
  soldOut: boolean;
  paused: boolean;
  /** When the buyer first saw their admission (epoch ms); 0 while they wait. */
  admittedAt: number;
  /** True when this call showed the buyer their admission for the first time. */
  seenNow: boolean;
  /** The buyer's score in the line (what the database records as their place). */
  place: number;
}

export type JoinOutcome =
  | { outcome: 'PLACED'; place: WaitingRoomPlace }
  | { outcome: 'SALE_ENDED'; endsAt: number }
  | { outcome: 'SALE_NOT_FOUND' | 'NO_WAITING_ROOM' | 'NOT_ELIGIBLE' | 'FCODE_INVALID' };

export type StatusOutcome = { outcome: 'PLACED'; place: WaitingRoomPlace } | { outcome: 'SALE_NOT_FOUND' | 'NOT_IN_QUEUE' };

type ScriptReply = [string, ...(string | number)[]];

/**
 * The one door to a sale's waiting room in Redis (`waiting-room.lua` and the index of waiting rooms).
 * Refusals are values; the service turns them into contract errors.
 */
@Injectable()
export class WaitingRoomGateway {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async join(saleId: string, userId: string, now: number, fcodeHash: string | undefined): Promise<JoinOutcome> {
    const reply = await this.run(saleId, 'join', userId, now, fcodeHash);
    const [outcome, ...values] = reply;
    switch (outcome) {
      case 'JOINED':
      case 'IN':
        // Listed for the ticker; a repeat is harmless (a set).
        if (outcome === 'JOINED') await this.redis.sadd(this.keys.waitingRooms, saleId);
        return { outcome: 'PLACED', place: placeOf(outcome, values) };
      case 'SALE_ENDED':
        return { outcome, endsAt: Number(values[0]) };
      case 'SALE_NOT_FOUND':
      case 'NO_WAITING_ROOM':
      case 'NOT_ELIGIBLE':
      case 'FCODE_INVALID':
        return { outcome };
      default:
        throw unknownOutcome(outcome);
    }
  }

  async status(saleId: string, userId: string, now: number): Promise<StatusOutcome> {
    const [outcome, ...values] = await this.run(saleId, 'status', userId, now, undefined);
    switch (outcome) {
      case 'IN':
        return { outcome: 'PLACED', place: placeOf(outcome, values) };
      case 'SALE_NOT_FOUND':
      case 'NOT_IN_QUEUE':
        return { outcome };
      default:
        throw unknownOutcome(outcome);
    }
  }

  /** Moves a waiting room on to `now`: how many places are admitted and how long the line is; undefined for a sale Redis does not hold. */
  async advance(saleId: string, now: number): Promise<{ admitted: number; length: number; endsAt: number } | undefined> {
    const [outcome, admitted, length, endsAt] = await this.run(saleId, 'advance', '', now, undefined);
    return outcome === 'ADVANCED' ? { admitted: Number(admitted), length: Number(length), endsAt: Number(endsAt) } : undefined;
  }

  /** Sales whose waiting room has been joined. */
  waitingRooms(): Promise<string[]> {
    return this.redis.smembers(this.keys.waitingRooms);
  }

  async forgetWaitingRoom(saleId: string): Promise<void> {
    await this.redis.srem(this.keys.waitingRooms, saleId);
  }

  private run(saleId: string, action: 'join' | 'status' | 'advance', userId: string, now: number, fcodeHash: string | undefined): Promise<ScriptReply> {
    const keys = this.keys.forSale(saleId);
    return runScript<ScriptReply>(
      this.redis,
      'waiting-room',
      [keys.sale, keys.queue, keys.queueState, keys.queueAdmittedAt, keys.reservations, keys.fcode(fcodeHash ?? '')],
      [action, userId, now, action === 'join' ? randomPlace() : '0', fcodeHash ?? ''],
    );
  }
}

/**
 * A uniformly random number in [0, 1) with 53 random bits (every double of that form is equally likely),
 * from the operating system's generator: a place nobody can predict or improve by asking again.
 */
export function randomPlace(): string {
  const bits = randomBytes(8).readBigUInt64BE() >> 11n;
  return (Number(bits) / 2 ** 53).toString();
}

function placeOf(outcome: string, values: (string | number)[]): WaitingRoomPlace {
  const [rank, admitted, credit, soldOut, admittedAt, paused, place, seenNow] = values.map(Number);
  return { joined: outcome === 'JOINED', rank, admitted, credit, soldOut: soldOut === 1, paused: paused === 1, admittedAt, seenNow: seenNow === 1, place };
}

function unknownOutcome(outcome: unknown): Error {
  return new Error(`waiting-room.lua answered an unknown outcome: ${String(outcome)}`);
}
