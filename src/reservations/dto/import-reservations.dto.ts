import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, Matches } from 'class-validator';

/** A user id: what a token's `sub` may be (the HTTP contract, "Authentication"). */
export const USER_ID_PATTERN = /^[\x21-\x7e]{1,64}$/;
export const IMPORT_MAX_IDS = 100_000;

export class ImportReservationsDto {
  @ApiProperty({ type: [String], example: ['u1', 'u2'], minItems: 1, maxItems: IMPORT_MAX_IDS, description: 'User ids (1-64 printable characters, no spaces)' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(IMPORT_MAX_IDS)
  @IsString({ each: true })
  @Matches(USER_ID_PATTERN, { each: true, message: 'each user id must be 1-64 printable characters without spaces' })
  userIds: string[];
}
