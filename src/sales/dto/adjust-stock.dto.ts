import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsInt, Max, Min, NotEquals } from 'class-validator';
import { SALE_LIMITS } from '../../contract/sale-limits';

export class AdjustStockDto {
  @ApiProperty({
    example: 500,
    minimum: -SALE_LIMITS.stockMax,
    maximum: SALE_LIMITS.stockMax,
    description:
      'Units to add to the pool (any phase, live included). Negative removes UNSOLD units only: the removal is clamped to what the pool ' +
      'still holds, so a pool never goes below 0 and units in live orders are never taken back; the response shows the resulting totals.',
  })
  @IsInt()
  @NotEquals(0, { message: 'add must not be 0' })
  @Min(-SALE_LIMITS.stockMax)
  @Max(SALE_LIMITS.stockMax)
  add: number;

  @ApiProperty({ enum: ['general', 'fcode'] })
  @IsIn(['general', 'fcode'])
  pool: 'general' | 'fcode';
}
