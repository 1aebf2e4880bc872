import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, Max, Min } from 'class-validator';
import { IsIsoDateTime, IsOptionalNotNull } from '../../sales/dto/validators';
import { ADMISSION_LIMITS, ADMISSION_MODES, type AdmissionMode } from '../admission-mode';

/**
 * The admission fields of a sale, the same on create and on PATCH (both DTOs extend this). The rules
 * between them and the sale's times are checked on the whole sale by `timeRuleViolations`.
 */
export class AdmissionSettingsDto {
  @ApiPropertyOptional({ enum: ADMISSION_MODES, default: ADMISSION_LIMITS.defaultMode, description: 'open: eligible buyers buy at once; queue: a waiting room; lottery: a draw' })
  @IsOptionalNotNull()
  @IsIn(ADMISSION_MODES, { message: `admission must be one of ${ADMISSION_MODES.join(', ')}` })
  admission?: AdmissionMode;

  @ApiPropertyOptional({ example: '2026-01-02T11:00:00Z', description: 'When the waiting room opens. Default: reservationClosesAt. Must be ≤ startsAt' })
  @IsOptionalNotNull()
  @IsIsoDateTime('queueOpensAt')
  queueOpensAt?: string;

  @ApiPropertyOptional({ example: 1000, minimum: ADMISSION_LIMITS.ratePerSecondMin, maximum: ADMISSION_LIMITS.ratePerSecondMax, default: ADMISSION_LIMITS.defaultRatePerSecond, description: 'Buyers the waiting room admits per second' })
  @IsOptionalNotNull()
  @IsInt()
  @Min(ADMISSION_LIMITS.ratePerSecondMin)
  @Max(ADMISSION_LIMITS.ratePerSecondMax)
  admissionRatePerSecond?: number;

  @ApiPropertyOptional({ example: 120, minimum: ADMISSION_LIMITS.ttlSecondsMin, maximum: ADMISSION_LIMITS.ttlSecondsMax, default: ADMISSION_LIMITS.defaultTtlSeconds, description: 'How long an admission from the waiting room lasts' })
  @IsOptionalNotNull()
  @IsInt()
  @Min(ADMISSION_LIMITS.ttlSecondsMin)
  @Max(ADMISSION_LIMITS.ttlSecondsMax)
  admissionTtlSeconds?: number;

  @ApiPropertyOptional({ example: '2026-01-02T11:00:00Z', description: 'When lottery entries close. Default: startsAt. Must be ≤ startsAt' })
  @IsOptionalNotNull()
  @IsIsoDateTime('lotteryClosesAt')
  lotteryClosesAt?: string;

  @ApiPropertyOptional({ example: 3600, minimum: ADMISSION_LIMITS.purchaseWindowSecondsMin, maximum: ADMISSION_LIMITS.purchaseWindowSecondsMax, default: ADMISSION_LIMITS.defaultPurchaseWindowSeconds, description: 'How long lottery winners may buy, from startsAt' })
  @IsOptionalNotNull()
  @IsInt()
  @Min(ADMISSION_LIMITS.purchaseWindowSecondsMin)
  @Max(ADMISSION_LIMITS.purchaseWindowSecondsMax)
  purchaseWindowSeconds?: number;
}
