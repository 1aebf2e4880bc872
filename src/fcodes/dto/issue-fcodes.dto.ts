import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, IsISO8601, IsString, Matches, Max, Min } from 'class-validator';
import { IsOptionalNotNull } from '../../sales/dto/validators';

export const MAX_FCODES_PER_BATCH = 100_000;

/** The user ids a token may carry (printable ASCII without spaces, 1–64 characters). */
const USER_ID_PATTERN = /^[\x21-\x7e]{1,64}$/;

export class IssueFcodesDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_FCODES_PER_BATCH,
    example: 1000,
    description: 'How many codes to issue. Required without `userIds`; with `userIds` it may be omitted, and if given must equal the number of user ids.',
  })
  @IsOptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(MAX_FCODES_PER_BATCH)
  count?: number;

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-12-01T12:00:00.000Z',
    description: 'When the codes stop working (409 FCODE_EXPIRED from then on). Must be in the future. Omitted: they work until the sale ends.',
  })
  @IsOptionalNotNull()
  @IsISO8601({ strict: true, strictSeparator: true })
  expiresAt?: string;

  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_FCODES_PER_BATCH,
    example: ['u1', 'u2'],
    description: 'Issue one code per user, bound to that user (anyone else presenting it gets 403 FCODE_INVALID). No duplicates. Omitted: unbound codes anyone may redeem.',
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_FCODES_PER_BATCH)
  @IsString({ each: true })
  @Matches(USER_ID_PATTERN, { each: true, message: 'each value in userIds must be a user id of 1-64 printable characters without spaces' })
  userIds?: string[];
}
