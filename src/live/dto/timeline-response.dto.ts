import { ApiProperty } from '@nestjs/swagger';
import type { SaleTimeline, TimelinePoint } from '../../contract/responses';

export class TimelinePointDto implements TimelinePoint {
  @ApiProperty({ example: '2026-11-29T10:00:01.000Z', description: 'Start of the step' })
  at: string;

  @ApiProperty({ example: 41250, description: 'Units in live orders (pending or paid) at the end of the step, as sampled' })
  unitsSold: number;

  @ApiProperty({ example: { CREATED: 4100, SOLD_OUT: 0, LIMIT_REACHED: 12 }, description: 'Purchase attempts in the step by outcome: CREATED or the error code answered' })
  attempts: Record<string, number>;
}

export class TimelineResponseDto implements SaleTimeline {
  @ApiProperty()
  saleId: string;

  @ApiProperty({ example: 1 })
  stepSeconds: number;

  @ApiProperty({ type: [TimelinePointDto], description: 'Steps with at least one attempt, oldest first, from the first attempt on' })
  points: TimelinePointDto[];
}
