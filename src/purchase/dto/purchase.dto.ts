import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

export class PurchaseDto {
  @ApiPropertyOptional({ type: 'integer', default: 1, minimum: 1, maximum: 100, description: 'Units to buy; the sale\'s perUserLimit applies on top (409 LIMIT_REACHED)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  quantity?: number;

  @ApiPropertyOptional({
    example: 'ABCD-EFGH-JKMN-P',
    description: 'An F-code for this sale: buy from fcodeOpensAt on without a reservation, drawing first from the F-code pool. Case, spaces and dashes are ignored.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  fcode?: string;
}
