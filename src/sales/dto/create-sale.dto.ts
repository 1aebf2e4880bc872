import { ADMISSION_LIMITS } from '../../admission/admission-mode';
import { AdmissionSettingsDto } from '../../admission/dto/admission-settings.dto';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsString, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { CURRENCY_PATTERN, SALE_LIMITS } from '../../contract/sale-limits';
import type { SaleSettings } from '../sale-rules';
import { epochOf, IsIsoDateTime, IsOptionalNotNull, IsPlainText, IsSingleLineText } from './validators';

/**
 * `POST /api/admin/sales`. Field rules live here; the rules between fields (time order, stock + fcodeStock
 * ≥ 1) are checked on the whole sale, defaults applied, by `saleRuleViolations`.
 */
export class CreateSaleDto extends AdmissionSettingsDto {
  @ApiProperty({ example: 'redmi-1s-grey', maxLength: SALE_LIMITS.textMax })
  @IsString()
  @Length(1, SALE_LIMITS.textMax)
  @IsSingleLineText('sku')
  sku: string;

  @ApiProperty({ example: 'Redmi 1S', maxLength: SALE_LIMITS.textMax })
  @IsString()
  @Length(1, SALE_LIMITS.textMax)
  @IsSingleLineText('name')
  name: string;

  @ApiPropertyOptional({ example: 'Grey, 8 GB', maxLength: SALE_LIMITS.descriptionMax, default: '' })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(SALE_LIMITS.descriptionMax)
  @IsPlainText('description')
  description?: string;

  @ApiProperty({ example: 69900, minimum: 0, maximum: SALE_LIMITS.priceCentsMax, description: 'Price of one unit in minor units' })
  @IsInt()
  @Min(0)
  @Max(SALE_LIMITS.priceCentsMax)
  priceCents: number;

  @ApiPropertyOptional({ example: 'CNY', default: SALE_LIMITS.defaultCurrency, description: 'ISO 4217: three upper-case letters' })
  @IsOptionalNotNull()
  @IsString()
  @Matches(CURRENCY_PATTERN, { message: 'currency must be three upper-case letters (ISO 4217)' })
  currency?: string;

  @ApiProperty({ example: 100000, minimum: 0, maximum: SALE_LIMITS.stockMax, description: 'Units in the general pool; stock + fcodeStock must be at least 1' })
  @IsInt()
  @Min(0)
  @Max(SALE_LIMITS.stockMax)
  stock: number;

  @ApiPropertyOptional({ example: 5000, minimum: 0, maximum: SALE_LIMITS.stockMax, default: 0, description: 'Units reserved for F-code holders' })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(SALE_LIMITS.stockMax)
  fcodeStock?: number;

  @ApiPropertyOptional({ example: 1, minimum: SALE_LIMITS.perUserLimitMin, maximum: SALE_LIMITS.perUserLimitMax, default: SALE_LIMITS.defaultPerUserLimit })
  @IsOptionalNotNull()
  @IsInt()
  @Min(SALE_LIMITS.perUserLimitMin)
  @Max(SALE_LIMITS.perUserLimitMax)
  perUserLimit?: number;

  @ApiPropertyOptional({ example: true, default: true, description: 'Only buyers with a reservation (or an F-code) may buy' })
  @IsOptionalNotNull()
  @IsBoolean()
  reservationRequired?: boolean;

  @ApiPropertyOptional({ example: '2026-01-01T00:00:00Z', description: 'Default: now. Must be ≤ reservationClosesAt' })
  @IsOptionalNotNull()
  @IsIsoDateTime('reservationOpensAt')
  reservationOpensAt?: string;

  @ApiPropertyOptional({ example: '2026-01-02T10:00:00Z', description: 'Default: startsAt. Must be ≤ startsAt' })
  @IsOptionalNotNull()
  @IsIsoDateTime('reservationClosesAt')
  reservationClosesAt?: string;

  @ApiPropertyOptional({ example: '2026-01-02T11:00:00Z', description: 'Default: startsAt. Must be ≤ startsAt' })
  @IsOptionalNotNull()
  @IsIsoDateTime('fcodeOpensAt')
  fcodeOpensAt?: string;

  @ApiProperty({ example: '2026-01-02T12:00:00Z' })
  @IsIsoDateTime('startsAt')
  startsAt: string;

  @ApiPropertyOptional({ example: '2026-01-03T12:00:00Z', description: 'Default: startsAt + 24 h. Must be after startsAt' })
  @IsOptionalNotNull()
  @IsIsoDateTime('endsAt')
  endsAt?: string;

  @ApiPropertyOptional({ example: 900, minimum: SALE_LIMITS.paymentWindowSecondsMin, maximum: SALE_LIMITS.paymentWindowSecondsMax, default: SALE_LIMITS.defaultPaymentWindowSeconds })
  @IsOptionalNotNull()
  @IsInt()
  @Min(SALE_LIMITS.paymentWindowSecondsMin)
  @Max(SALE_LIMITS.paymentWindowSecondsMax)
  paymentWindowSeconds?: number;
}

/** Applies the contract's defaults to a validated create request; `now` is when it was received. */
export function settingsFromCreate(request: CreateSaleDto, now: number): SaleSettings {
  const startsAt = epochOf(request.startsAt);
  const reservationClosesAt = request.reservationClosesAt === undefined ? startsAt : epochOf(request.reservationClosesAt);
  return {
    sku: request.sku,
    name: request.name,
    description: request.description ?? '',
    priceCents: request.priceCents,
    currency: request.currency ?? SALE_LIMITS.defaultCurrency,
    stock: request.stock,
    fcodeStock: request.fcodeStock ?? 0,
    perUserLimit: request.perUserLimit ?? SALE_LIMITS.defaultPerUserLimit,
    reservationRequired: request.reservationRequired ?? true,
    // "Now" by default, but never after the close: a sale set up after its window gets an empty one rather than an error about a field nobody sent.
    reservationOpensAt: request.reservationOpensAt === undefined ? Math.min(now, reservationClosesAt) : epochOf(request.reservationOpensAt),
    reservationClosesAt,
    fcodeOpensAt: request.fcodeOpensAt === undefined ? startsAt : epochOf(request.fcodeOpensAt),
    startsAt,
    endsAt: request.endsAt === undefined ? startsAt + SALE_LIMITS.defaultDurationMs : epochOf(request.endsAt),
    paymentWindowSeconds: request.paymentWindowSeconds ?? SALE_LIMITS.defaultPaymentWindowSeconds,
    admission: request.admission ?? ADMISSION_LIMITS.defaultMode,
    queueOpensAt: request.queueOpensAt === undefined ? null : epochOf(request.queueOpensAt),
    admissionRatePerSecond: request.admissionRatePerSecond ?? ADMISSION_LIMITS.defaultRatePerSecond,
    admissionTtlSeconds: request.admissionTtlSeconds ?? ADMISSION_LIMITS.defaultTtlSeconds,
    lotteryClosesAt: request.lotteryClosesAt === undefined ? null : epochOf(request.lotteryClosesAt),
    purchaseWindowSeconds: request.purchaseWindowSeconds ?? ADMISSION_LIMITS.defaultPurchaseWindowSeconds,
  };
}
