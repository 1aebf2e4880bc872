import { Controller, HttpCode, Param, Post, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { OpsApi } from '../../auth/ops-api.decorator';
import { SaleIdPipe } from '../../common/pipes/sale-id.pipe';
import { LotteryCommitmentDto, LotteryResultDto } from './dto/lottery.dto';
import { resultStream } from './lottery.controller';
import { LotteryService } from './lottery.service';

@OpsApi('admission (ops)')
@ApiResponse({ status: 404, description: 'SALE_NOT_FOUND, or NOT_FOUND: the sale has no lottery' })
@Controller('api/admin/sales/:saleId/lottery')
export class AdminLotteryController {
  constructor(private readonly lottery: LotteryService) {}

  @Post('commit')
  @HttpCode(200)
  @ApiOperation({ summary: 'Commit to a secret seed the service draws (before lotteryClosesAt); its SHA-256 is public from now on', description: 'Once; a repeat answers the same hash.' })
  @ApiOkResponse({ type: LotteryCommitmentDto })
  @ApiResponse({ status: 409, description: 'SALE_LOCKED: entries have closed' })
  commit(@Param('saleId', SaleIdPipe) saleId: string): Promise<LotteryCommitmentDto> {
    return this.lottery.commit(saleId);
  }

  @Post('draw')
  @HttpCode(200)
  @ApiOperation({ summary: 'Draw (after lotteryClosesAt): reveals the seed and ranks the entries', description: 'A repeat gives the same ranking.' })
  @ApiOkResponse({ type: LotteryResultDto })
  @ApiResponse({ status: 409, description: 'SALE_NOT_STARTED (entries still open) or SALE_LOCKED (no seed was committed)' })
  async draw(@Param('saleId', SaleIdPipe) saleId: string): Promise<StreamableFile> {
    return resultStream(await this.lottery.draw(saleId));
  }
}
