import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { ID_PATTERN } from '../../common/ids';
import { ID_RULE } from '../../contract/ids';

export class ExportFcodesQueryDto {
  @ApiPropertyOptional({ example: 'fb_01jd8x3v7q9m2k4p6r8t0w2y4z', description: 'Only this batch of the sale. Omitted: every code of the sale, oldest batch first.' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: `batchId ${ID_RULE}` })
  batchId?: string;
}
