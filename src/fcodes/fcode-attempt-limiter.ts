import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { isIPv4, isIPv6 } from 'node:net';
import { ErrorCode } from '../common/errors/error-code';
import { SellException } from '../common/errors/sell.exception';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { runScript } from '../redis/lua-scripts';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';

/**
 * Brute-force brake on F-code guessing: wrong-code attempts are counted per user and per IP, and past
 * a threshold further F-code attempts are refused with 429 RATE_LIMITED and a Retry-After.
 *
 * The purchase path calls `assertAllowed` before trying a code and `recordFailure` after a wrong one
 * (unknown, void, bound to someone else, malformed or mistyped). Used and expired codes are not
 * failures: they are real codes, and guessing gains nothing from them.
 *
 * Each counter is a fixed window that starts at its first failure (`FCODE_FAILURE_WINDOW_SECONDS`).
 * Codes carry 60 bits of randomness, so even the per-IP threshold leaves a guesser hopeless; the brake
 * is there to keep guessing traffic off the hot path, not to make the codes safe.
 */
@Injectable()
export class FcodeAttemptLimiter {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Throws 429 RATE_LIMITED (with Retry-After) when this user or address has failed too often. */
  async assertAllowed(userId: string, ip: string): Promise<void> {
    const { maxFailuresPerUser, maxFailuresPerIp } = this.config.fcodeLimiter;
    const userKey = RedisKeys.fcodeAttempts('user', userId);
    const ipKey = RedisKeys.fcodeAttempts('ip', addressSubject(ip));
    // Two single-key reads rather than one MGET: the keys carry no common hash tag.
    const [userFailures, ipFailures] = await Promise.all([this.redis.get(userKey), this.redis.get(ipKey)]);
    const blockedKey = Number(userFailures ?? 0) >= maxFailuresPerUser ? userKey : Number(ipFailures ?? 0) >= maxFailuresPerIp ? ipKey : undefined;
    if (blockedKey === undefined) return;
    const ttlMs = await this.redis.pttl(blockedKey);
    throw rateLimited(blockedKey === userKey ? 'from your account' : 'from your network address', ttlMs > 0 ? ttlMs : this.config.fcodeLimiter.windowMs);
  }

  /** Counts one wrong F-code against this user and this address. */
  async recordFailure(userId: string, ip: string): Promise<void> {
    const windowMs = this.config.fcodeLimiter.windowMs;
    await Promise.all([
      runScript(this.redis, 'fcode-attempt-record', [RedisKeys.fcodeAttempts('user', userId)], [windowMs]),
      runScript(this.redis, 'fcode-attempt-record', [RedisKeys.fcodeAttempts('ip', addressSubject(ip))], [windowMs]),
    ]);
  }
}

function rateLimited(source: string, ttlMs: number): SellException {
  const retryAfterSeconds = Math.max(1, Math.ceil(ttlMs / 1000));
  return new SellException(
    ErrorCode.RateLimited,
    `Too many wrong F-codes ${source}; try again in ${retryAfterSeconds} s`,
    [],
    { headers: { 'retry-after': String(retryAfterSeconds) } },
  );
}

/**
 * The counter subject for an address. An IPv6 client usually owns a whole /64 and can pick a fresh
 * address from it for every request, so IPv6 is counted per /64 prefix; IPv4-mapped IPv6 addresses
 * count as their IPv4 address.
 */
export function addressSubject(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (!isIPv6(ip)) return ip;
  return `${expandIpv6(ip).slice(0, 4).join(':')}::/64`;
}

function expandIpv6(ip: string): string[] {
  const withoutZone = ip.split('%')[0];
  const [head, tail] = withoutZone.includes('::') ? withoutZone.split('::') : [withoutZone, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (e.g. 64:ff9b::1.2.3.4) takes two groups; it only ever sits past the /64.
  const tailLength = tailGroups.reduce((total, group) => total + (group.includes('.') ? 2 : 1), 0);
  const missing = tail === undefined ? 0 : 8 - headGroups.length - tailLength;
  const groups = [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
  return groups.map((group) => (group.includes('.') ? group : group.toLowerCase().replace(/^0+(?=.)/, '')));
}
