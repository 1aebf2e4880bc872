import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class LotteryEntryDto {
  @ApiProperty()
  saleId: string;

  @ApiProperty()
  userId: string;

  @ApiProperty({ example: '2026-01-02T10:00:00.000Z' })
  enteredAt: string;
}

export class LotteryCommitmentDto {
  @ApiProperty({ example: '3f0a…', description: 'SHA-256 (hex) of the secret seed, revealed at the draw' })
  seedHash: string;
}

export class LotteryRoundDto {
  @ApiProperty({ example: 1000, description: 'Entries ranked below this are admitted (every round so far together)' })
  winners: number;

  @ApiProperty({ example: '2026-01-02T13:00:00.000Z', description: "End of this round's purchase window" })
  buyBy: string;
}

export class LotteryResultDto {
  @ApiProperty({ description: 'The secret seed, revealed: SHA-256(seed) is seedHash' })
  seed: string;

  @ApiProperty()
  seedHash: string;

  @ApiProperty({ type: [String], description: 'SHA-256 (hex) of every entrant\'s user id, sorted' })
  entries: string[];

  @ApiProperty({
    type: [String],
    description: 'SHA-256 (hex) of the user id of every admitted entry, in draw order: the entries ranked by SHA-256(seed + ":" + userId) ascending',
  })
  winners: string[];

  @ApiProperty({ type: [LotteryRoundDto], description: 'Round 1 is the draw; later rounds pass units left after a purchase window down the ranking' })
  rounds: LotteryRoundDto[];
}

export class LotteryStatusDto {
  @ApiProperty()
  entered: boolean;

  @ApiProperty()
  drawn: boolean;

  @ApiProperty({ description: 'Admitted to buy (in the draw, or in a later round)' })
  won: boolean;

  @ApiProperty({ type: Number, nullable: true, example: 17, description: '1-based place in the draw; null before the draw or without an entry' })
  rank: number | null;

  @ApiPropertyOptional({ description: 'While a winner may buy: send it as the Admission-Token header of the purchase' })
  admissionToken?: string;

  @ApiPropertyOptional({ example: '2026-01-02T13:00:00.000Z', description: "A winner's purchase deadline" })
  buyBy?: string;
}
