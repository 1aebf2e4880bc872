import { ApiProperty } from '@nestjs/swagger';
import type { ImportResult, Reservation } from '../../contract/responses';

export class ReservationResponseDto implements Reservation {
  @ApiProperty({ example: 's_01jd8x3v7q9m2k4p6r8t0w2y4z' })
  saleId: string;

  @ApiProperty({ example: 'u1' })
  userId: string;

  @ApiProperty({ example: '2026-01-01T00:00:00.000Z', description: 'When the place was first reserved (a repeat keeps the first time)' })
  reservedAt: string;
}

export class ImportResultDto implements ImportResult {
  @ApiProperty({ example: 99_990, description: 'Ids newly reserved' })
  imported: number;

  @ApiProperty({ example: 10, description: 'Ids already reserved, or repeated within the request' })
  duplicates: number;
}

export function toReservationResponse(saleId: string, userId: string, reservedAt: number): ReservationResponseDto {
  return { saleId, userId, reservedAt: new Date(reservedAt).toISOString() };
}
