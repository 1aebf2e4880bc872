import { Body, Controller, Get, HttpCode, Ip, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentUser } from '../../auth/auth.decorators';
import type { AuthUser } from '../../auth/token.service';
import { ObjectBodyPipe } from '../../common/pipes/object-body.pipe';
import { SaleIdPipe } from '../../common/pipes/sale-id.pipe';
import { AdmissionFcodeDto } from '../dto/admission-fcode.dto';
import { QueueStatusDto } from './dto/queue-status.dto';
import { WaitingRoomService } from './waiting-room.service';

@ApiTags('admission')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'UNAUTHENTICATED' })
@Controller('api/sales/:saleId/queue')
export class WaitingRoomController {
  constructor(private readonly waitingRoom: WaitingRoomService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: "Join the sale's waiting room (sales with admission `queue`)",
    description: '201 when joined now; 200 when already in line (the place never changes). Everyone who joins before startsAt gets a uniformly random place among them.',
  })
  @ApiCreatedResponse({ type: QueueStatusDto })
  @ApiOkResponse({ type: QueueStatusDto, description: 'Already in line' })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED' })
  @ApiResponse({ status: 403, description: 'NOT_ELIGIBLE (no reservation and no F-code) or FCODE_INVALID' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND, or NOT_FOUND: the sale has no waiting room' })
  @ApiResponse({ status: 409, description: 'SALE_NOT_STARTED (before queueOpensAt) or SALE_ENDED' })
  @ApiResponse({ status: 429, description: 'RATE_LIMITED: too many wrong F-codes' })
  async join(
    @Param('saleId', SaleIdPipe) saleId: string,
    @CurrentUser() user: AuthUser,
    @Body(new ObjectBodyPipe()) body: AdmissionFcodeDto,
    @Ip() ip: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QueueStatusDto> {
    const { status, created } = await this.waitingRoom.join(saleId, user.userId, ip, body.fcode);
    if (!created) void reply.status(200);
    return status;
  }

  @Get('me')
  @ApiOperation({ summary: "The caller's place in the waiting room, and their admission token once admitted" })
  @ApiOkResponse({ type: QueueStatusDto })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND, or NOT_FOUND: not in line, or the sale has no waiting room' })
  mine(@Param('saleId', SaleIdPipe) saleId: string, @CurrentUser() user: AuthUser): Promise<QueueStatusDto> {
    return this.waitingRoom.mine(saleId, user.userId);
  }
}
