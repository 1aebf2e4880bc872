import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';

/** `GET /api/admin/sales/:saleId/timeline`: `stepSeconds`, a whole number of seconds from 1 to 86,400 (a day). */
export class TimelineQueryDto {
  @ApiPropertyOptional({ example: 1, description: 'Width of each point in seconds, 1–86400; default 1' })
  @IsOptional()
  @IsString()
  @Matches(/^(?:[1-9]\d{0,3}|[1-7]\d{4}|8[0-5]\d{3}|86[0-3]\d{2}|86400)$/, { message: 'stepSeconds must be a whole number from 1 to 86400' })
  stepSeconds?: string;
}
