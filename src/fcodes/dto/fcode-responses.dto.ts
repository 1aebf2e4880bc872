import { ApiProperty } from '@nestjs/swagger';
import type { FcodeBatchList, FcodeBatchSummary, FcodeSummary, IssuedFcodes, VoidedFcode } from '../../contract/responses';

export class IssuedFcodesDto implements IssuedFcodes {
  @ApiProperty({ example: 'fb_01jd8x3v7q9m2k4p6r8t0w2y4z', description: 'Pass it to the CSV export to get this batch again' })
  batchId: string;

  @ApiProperty({ example: 's_01jd8x0000000000000000000' })
  saleId: string;

  @ApiProperty({ example: 2 })
  count: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null, description: 'When the codes stop working; null if only the sale end limits them' })
  expiresAt: string | null;

  @ApiProperty({
    type: [String],
    example: ['7K3M-Q9XD-2RTW-F', 'B4NP-8HZC-6VJE-0'],
    description: 'The codes, in the order of `userIds` when given. Shown in full only here and in the CSV export.',
  })
  codes: string[];
}

export class VoidedFcodeDto implements VoidedFcode {
  @ApiProperty({ example: '7K3M-Q9XD-2RTW-F' })
  code: string;

  @ApiProperty({ enum: ['void'] })
  status: 'void';

  @ApiProperty({ example: 's_01jd8x0000000000000000000' })
  saleId: string;

  @ApiProperty({ type: String, format: 'date-time' })
  voidedAt: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'The live order the code backed when it was voided. That order keeps its unit and can still be paid; if it expires or is cancelled the code does not come back.',
  })
  orderId: string | null;
}

export class FcodeSummaryDto implements FcodeSummary {
  @ApiProperty({ example: 6000, description: 'Every code ever issued for the sale (the three counts below are part of it)' })
  issued: number;

  @ApiProperty({ example: 4988, description: 'Codes backing a live order (pending_payment or paid) right now' })
  redeemed: number;

  @ApiProperty({ example: 10, description: 'Codes voided by ops' })
  void: number;

  @ApiProperty({ example: 2, description: 'Codes not void, not backing a live order, and past their expiresAt' })
  expired: number;
}

export class FcodeBatchSummaryDto implements FcodeBatchSummary {
  @ApiProperty({ example: 'fb_01jd8x3v7q9m2k4p6r8t0w2y4z' })
  batchId: string;

  @ApiProperty({ example: 1000, description: 'Codes issued in the batch' })
  count: number;

  @ApiProperty({ example: 0, description: 'Codes of the batch bound to a user' })
  bound: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null, description: 'When the codes stop working; null if only the sale end limits them' })
  expiresAt: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: string;

  @ApiProperty({ example: 740, description: 'Codes backing a live order (pending_payment or paid) right now, void ones excepted' })
  redeemed: number;

  @ApiProperty({ example: 3, description: 'Codes voided by ops (a void code that still backs an order counts here, not as redeemed)' })
  void: number;

  @ApiProperty({ example: 0, description: 'Codes past expiresAt that are neither void nor redeemed' })
  expired: number;
}

export class FcodeBatchListDto implements FcodeBatchList {
  @ApiProperty({ type: [FcodeBatchSummaryDto], description: 'Newest batch first' })
  items: FcodeBatchSummaryDto[];
}
