import { Injectable } from '@nestjs/common';

/**
 * Brute-force brake on F-code guessing: wrong-code attempts are counted per user and per IP, and past
 * a threshold further F-code attempts are refused with 429 RATE_LIMITED and a Retry-After.
 *
 * The purchase path calls `assertAllowed` before trying a code and `recordFailure` after a wrong one.
 * (Interface fixed here; the counting is implemented with the F-code feature.)
 */
@Injectable()
export class FcodeAttemptLimiter {
  async assertAllowed(_userId: string, _ip: string): Promise<void> {
    // Implemented with the F-code feature.
  }

  async recordFailure(_userId: string, _ip: string): Promise<void> {
    // Implemented with the F-code feature.
  }
}
