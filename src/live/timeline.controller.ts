import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { OpsApi } from '../auth/ops-api.decorator';
import { SaleIdPipe } from '../common/pipes/sale-id.pipe';
import { TimelineQueryDto } from './dto/timeline-query.dto';
import { TimelineResponseDto } from './dto/timeline-response.dto';
import { DEFAULT_STEP_SECONDS, TimelineService } from './timeline.service';

@OpsApi()
@Controller('api/admin/sales')
export class TimelineController {
  constructor(private readonly timelines: TimelineService) {}

  @Get(':saleId/timeline')
  @ApiOperation({
    summary: 'The sell-out curve and the outcome mix, from the first purchase attempt on',
    description:
      'Recorded by every process (counts per second and outcome, added to the database about once a second) and kept after the sale ends. ' +
      'Each point is a step of `stepSeconds` with at least one attempt: units sold at its end and attempts by outcome (CREATED or the error code).',
  })
  @ApiOkResponse({ type: TimelineResponseDto })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED: malformed sale id, or stepSeconds not a whole number from 1 to 86400' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND' })
  timeline(@Param('saleId', SaleIdPipe) saleId: string, @Query() query: TimelineQueryDto): Promise<TimelineResponseDto> {
    return this.timelines.timeline(saleId, query.stepSeconds === undefined ? DEFAULT_STEP_SECONDS : Number(query.stepSeconds));
  }
}
