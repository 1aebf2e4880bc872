import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Where the caller stands in a sale's waiting room (`POST …/queue`, `GET …/queue/me`). */
export class QueueStatusDto {
  @ApiProperty({ example: 1234, description: 'Place among those still waiting (1 = next); 0 once admitted' })
  position: number;

  @ApiProperty({ example: 1233, description: 'Buyers still waiting in front of the caller' })
  ahead: number;

  @ApiProperty({
    example: 2,
    description:
      'Seconds until the caller is admitted at the sale\'s admission rate, counted from the start before it; 0 once admitted. Before the start a ' +
      'place is not final: everyone who joins before the start is shuffled in at a random place. A pause or a sell-out stops the line',
  })
  etaSeconds: number;

  @ApiProperty({ example: false })
  admitted: boolean;

  @ApiPropertyOptional({ description: 'Once admitted and until it expires: send it as the Admission-Token header of the purchase' })
  admissionToken?: string;

  @ApiPropertyOptional({ example: '2026-01-02T12:02:00.000Z', description: 'Once admitted: until when the admission lasts' })
  admissionExpiresAt?: string;

  @ApiProperty({ example: false, description: 'Both pools are empty: nobody is admitted until units come back' })
  soldOut: boolean;
}
