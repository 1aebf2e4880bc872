import { Inject, Injectable, Logger } from '@nestjs/common';
import { isIPv4, isIPv6 } from 'node:net';
import { ErrorCode } from '../common/errors/error-code';
import { SellException } from '../common/errors/sell.exception';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { FcodeGateway } from './fcode.gateway';

/**
 * Brute-force brake on F-code guessing: wrong codes are counted per user and per IP address, and past a
 * threshold within a window (`FCODE_MAX_FAILURES`, `FCODE_MAX_FAILURES_PER_IP`,
 * `FCODE_FAILURE_WINDOW_SECONDS`) further F-code attempts are refused with 429 RATE_LIMITED and a
 * Retry-After saying when the window ends. Wrong codes are unknown, void, bound to someone else, of
 * another sale, malformed or mistyped; used and expired codes are real ones and do not count.
 *
 * The purchase path calls `assertAllowed` before trying a code, then `recordFailure` after a wrong code
 * or `releaseAttempt` after any other outcome. The two counters differ on purpose:
 * - per user, the attempt is counted up front, atomically with the check, and given back when the code
 *   was not wrong: a burst of parallel guesses from one account cannot all pass the check before any is
 *   counted. An honest buyer never has ten F-code purchases in flight at once.
 * - per address, wrong codes are counted after the fact: thousands of honest buyers can share one
 *   address behind a carrier NAT and all press "buy" in the same second of a launch, and counting their
 *   attempts in flight would refuse them.
 * An attempt cut short by an outage keeps its count: one attempt, never a lock-out.
 *
 * Codes carry 60 bits of randomness, so even unbraked guessing is hopeless; the brake keeps guessing
 * traffic off the hot path.
 */
@Injectable()
export class FcodeAttemptLimiter {
  private readonly logger = new Logger(FcodeAttemptLimiter.name);

  constructor(
    private readonly gateway: FcodeGateway,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Throws 429 RATE_LIMITED (with Retry-After) when this user or this address has no wrong attempts left
   * in its window; otherwise counts the attempt against the user until `releaseAttempt`.
   */
  async assertAllowed(userId: string, ip: string): Promise<void> {
    const { maxFailuresPerUser, maxFailuresPerIp, windowMs } = this.config.fcodeLimiter;
    const subject = addressSubject(ip);
    // Two calls rather than one script: the keys carry no common hash tag.
    if ((await this.gateway.addressFailures(subject)) >= maxFailuresPerIp) throw rateLimited('from your network address', await this.windowLeftMs(subject));
    const [taken, ttlMs] = await this.gateway.takeUserAttempt(userId, maxFailuresPerUser, windowMs);
    if (taken === 0) throw rateLimited('from your account', ttlMs);
  }

  /** The attempt's code was wrong: it stays counted against the user, and counts against the address. */
  async recordFailure(_userId: string, ip: string): Promise<void> {
    await this.gateway.recordAddressFailure(addressSubject(ip), this.config.fcodeLimiter.windowMs);
  }

  /**
   * The attempt's code was not wrong: gives back what `assertAllowed` counted. Never throws (the purchase
   * it follows has already been decided); a failure only leaves one attempt counted.
   */
  async releaseAttempt(userId: string, _ip: string): Promise<void> {
    try {
      await this.gateway.giveBackUserAttempt(userId);
    } catch (error) {
      this.logger.warn({ err: error }, 'Could not give back an F-code attempt');
    }
  }

  private async windowLeftMs(subject: string): Promise<number> {
    const ttlMs = await this.gateway.addressWindowLeftMs(subject);
    return ttlMs > 0 ? ttlMs : this.config.fcodeLimiter.windowMs;
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
