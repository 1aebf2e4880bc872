import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '../common/errors/error-code';
import { SellException } from '../common/errors/sell.exception';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { FcodeAttemptLimiter } from '../fcodes/fcode-attempt-limiter';
import { hashFcode, parseFcode } from '../fcodes/fcode-codec';

/**
 * An F-code offered with a purchase, or to join a waiting room or enter a lottery (instead of a
 * reservation), behind one brute-force brake: a join must not become a cheaper way to test guessed codes.
 */
@Injectable()
export class FcodeEligibility {
  constructor(
    private readonly limiter: FcodeAttemptLimiter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Runs `check` with the keyed hash of the code (undefined without one) and counts a wrong code
   * against the buyer and their address; `isWrong` tells from its result whether the script found the
   * code wrong.
   */
  async check<T>(userId: string, ip: string, fcode: string | undefined, check: (fcodeHash: string | undefined) => Promise<T>, isWrong: (result: T) => boolean): Promise<T> {
    if (fcode === undefined) return check(undefined);
    await this.limiter.assertAllowed(userId, ip);
    const parsed = parseFcode(fcode);
    if (!parsed.ok) {
      await this.limiter.recordFailure(userId, ip);
      throw parsed.reason === 'typo'
        ? new SellException(ErrorCode.FcodeInvalid, 'This F-code looks mistyped: its check character does not match. Please check each character and try again', [{ field: 'fcode', message: 'check character does not match' }])
        : new SellException(ErrorCode.FcodeInvalid, 'This is not a valid F-code', [{ field: 'fcode', message: 'not an F-code' }]);
    }
    const result = await check(hashFcode(this.config.fcodeSecret, parsed.normalized));
    if (isWrong(result)) await this.limiter.recordFailure(userId, ip);
    else await this.limiter.releaseAttempt(userId, ip);
    return result;
  }
}

/** The refusal of a code that is unknown, void, expired or bound to another buyer. */
export function fcodeInvalidError(): SellException {
  return new SellException(ErrorCode.FcodeInvalid, 'This F-code is not valid for this sale and buyer', [{ field: 'fcode', message: 'unknown, void, expired, or assigned to another buyer' }]);
}
