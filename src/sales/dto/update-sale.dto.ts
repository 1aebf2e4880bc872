import { AdmissionSettingsDto } from '../../admission/dto/admission-settings.dto';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsString, Length, Max, MaxLength, Min } from 'class-validator';
import { SALE_LIMITS } from '../../contract/sale-limits';
import { IsIsoDateTime, IsOptionalNotNull, IsPlainText, IsSingleLineText } from './validators';

/**
 * `PATCH /api/admin/sales/:saleId`: any subset of these fields. The result, merged with the current sale,
 * must satisfy the same time rules as a new sale. `sku`, `currency` and stock are not editable here
 * (stock has its own route), so sending them is 400 like any unknown field.
 */
export class UpdateSaleDto extends AdmissionSettingsDto {
  @ApiPropertyOptional({ maxLength: SALE_LIMITS.textMax })
  @IsOptionalNotNull()
  @IsString()
  @Length(1, SALE_LIMITS.textMax)
  @IsSingleLineText('name')
  name?: string;

  @ApiPropertyOptional({ maxLength: SALE_LIMITS.descriptionMax })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(SALE_LIMITS.descriptionMax)
  @IsPlainText('description')
  description?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: SALE_LIMITS.priceCentsMax })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(SALE_LIMITS.priceCentsMax)
  priceCents?: number;

  @ApiPropertyOptional({ minimum: SALE_LIMITS.perUserLimitMin, maximum: SALE_LIMITS.perUserLimitMax })
  @IsOptionalNotNull()
  @IsInt()
  @Min(SALE_LIMITS.perUserLimitMin)
  @Max(SALE_LIMITS.perUserLimitMax)
  perUserLimit?: number;

  @ApiPropertyOptional()
  @IsOptionalNotNull()
  @IsBoolean()
  reservationRequired?: boolean;

  @ApiPropertyOptional({ minimum: SALE_LIMITS.paymentWindowSecondsMin, maximum: SALE_LIMITS.paymentWindowSecondsMax })
  @IsOptionalNotNull()
  @IsInt()
  @Min(SALE_LIMITS.paymentWindowSecondsMin)
  @Max(SALE_LIMITS.paymentWindowSecondsMax)
  paymentWindowSeconds?: number;

  @ApiPropertyOptional({ example: '2026-01-01T00:00:00Z' })
  @IsOptionalNotNull()
  @IsIsoDateTime('reservationOpensAt')
  reservationOpensAt?: string;

  @ApiPropertyOptional({ example: '2026-01-02T12:00:00Z' })
  @IsOptionalNotNull()
  @IsIsoDateTime('reservationClosesAt')
  reservationClosesAt?: string;

  @ApiPropertyOptional({ example: '2026-01-02T12:00:00Z' })
  @IsOptionalNotNull()
  @IsIsoDateTime('fcodeOpensAt')
  fcodeOpensAt?: string;

  @ApiPropertyOptional({ example: '2026-01-02T12:00:00Z' })
  @IsOptionalNotNull()
  @IsIsoDateTime('startsAt')
  startsAt?: string;

  @ApiPropertyOptional({ example: '2026-01-03T12:00:00Z' })
  @IsOptionalNotNull()
  @IsIsoDateTime('endsAt')
  endsAt?: string;
}
