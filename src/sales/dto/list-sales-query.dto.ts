import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { SALE_PHASES } from '../sale-rules';

const PHASE_LIST = new RegExp(`^(${SALE_PHASES.join('|')})(,(${SALE_PHASES.join('|')}))*$`);

/** `GET /api/admin/sales`: every parameter optional; each is checked and named in `details` when wrong. */
export class ListSalesQueryDto {
  @ApiPropertyOptional({ example: 'live,sold_out', description: `Comma-separated phases, any of: ${SALE_PHASES.join(', ')}` })
  @IsOptional()
  @IsString()
  @Matches(PHASE_LIST, { message: `phase must be a comma-separated list of: ${SALE_PHASES.join(', ')}` })
  phase?: string;

  @ApiPropertyOptional({ example: 'redmi', description: 'Part of the sku or the name, any case' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ example: 50, description: '1–200; default 50' })
  @IsOptional()
  @IsString()
  @Matches(/^(?:[1-9]\d?|1\d\d|200)$/, { message: 'limit must be a whole number from 1 to 200' })
  limit?: string;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page, as it was given' })
  @IsOptional()
  @IsString()
  @MaxLength(300)
  cursor?: string;
}
