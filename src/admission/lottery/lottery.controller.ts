import { Body, Controller, Get, HttpCode, Ip, Param, Post, Res, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { CurrentUser, Public } from '../../auth/auth.decorators';
import type { AuthUser } from '../../auth/token.service';
import { ObjectBodyPipe } from '../../common/pipes/object-body.pipe';
import { SaleIdPipe } from '../../common/pipes/sale-id.pipe';
import { AdmissionFcodeDto } from '../dto/admission-fcode.dto';
import { LotteryEntryDto, LotteryResultDto, LotteryStatusDto } from './dto/lottery.dto';
import { paced } from './lottery-ranking';
import { LotteryService, resultJson } from './lottery.service';

@ApiTags('admission')
@Controller('api/sales/:saleId/lottery')
export class LotteryController {
  constructor(private readonly lottery: LotteryService) {}

  @Post('entries')
  @HttpCode(201)
  @ApiBearerAuth()
  @ApiOperation({ summary: "Enter the sale's lottery (sales with admission `lottery`, before lotteryClosesAt)", description: '201 when entered now; 200 with the first entry on a repeat.' })
  @ApiCreatedResponse({ type: LotteryEntryDto })
  @ApiOkResponse({ type: LotteryEntryDto, description: 'Entered before' })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED' })
  @ApiResponse({ status: 401, description: 'UNAUTHENTICATED' })
  @ApiResponse({ status: 403, description: 'NOT_ELIGIBLE (no reservation and no F-code) or FCODE_INVALID' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND, or NOT_FOUND: the sale has no lottery' })
  @ApiResponse({ status: 409, description: 'RESERVATION_NOT_OPEN (before reservationOpensAt) or RESERVATION_CLOSED (from lotteryClosesAt)' })
  async enter(
    @Param('saleId', SaleIdPipe) saleId: string,
    @CurrentUser() user: AuthUser,
    @Body(new ObjectBodyPipe()) body: AdmissionFcodeDto,
    @Ip() ip: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LotteryEntryDto> {
    const { entry, created } = await this.lottery.enter(saleId, user.userId, ip, body.fcode);
    if (!created) void reply.status(200);
    return entry;
  }

  @Get('result')
  @Public()
  @ApiOperation({
    summary: 'The draw, for anyone to check',
    description: 'SHA-256(seed) must equal the seedHash shown since the commit; ranking the entrants by SHA-256(seed + ":" + userId) ascending gives the winners in order.',
  })
  @ApiOkResponse({ type: LotteryResultDto })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND, or NOT_FOUND: no lottery, or not drawn yet' })
  async result(@Param('saleId', SaleIdPipe) saleId: string): Promise<StreamableFile> {
    return resultStream(await this.lottery.result(saleId));
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({ summary: "The caller's entry, place in the draw and, while a winner may buy, their admission token" })
  @ApiOkResponse({ type: LotteryStatusDto })
  @ApiResponse({ status: 401, description: 'UNAUTHENTICATED' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND, or NOT_FOUND: the sale has no lottery' })
  mine(@Param('saleId', SaleIdPipe) saleId: string, @CurrentUser() user: AuthUser): Promise<LotteryStatusDto> {
    return this.lottery.mine(saleId, user.userId);
  }
}

/** The result, written into the response chunk by chunk (see `resultJson`). */
export function resultStream(result: Awaited<ReturnType<LotteryService['result']>>): StreamableFile {
  return new StreamableFile(Readable.from(paced(resultJson(result))), { type: 'application/json; charset=utf-8' });
}
