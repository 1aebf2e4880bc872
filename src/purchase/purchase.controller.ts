import { Body, Controller, Headers, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiHeader, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentUser } from '../auth/auth.decorators';
import type { AuthUser } from '../auth/token.service';
import { SellException } from '../common/errors/sell.exception';
import { ID_PATTERN } from '../common/ids';
import { OrderResponseDto, toOrderResponse } from '../orders/dto/order-response.dto';
import { PurchaseDto } from './dto/purchase.dto';
import { PurchaseService } from './purchase.service';

const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,128}$/;

@ApiTags('purchase')
@ApiBearerAuth()
@Controller('api/sales')
export class PurchaseController {
  constructor(private readonly purchases: PurchaseService) {}

  @Post(':saleId/purchase')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Buy units of a live sale (the hot path)',
    description:
      'All checks and the stock change are one atomic step. With an Idempotency-Key, a repeat of an ACCEPTED purchase by the same buyer ' +
      'for the same sale with the same body (same quantity and F-code) within 24 h returns the first 201 response again, byte for byte, ' +
      'with the header `Idempotent-Replayed: true`, and sells nothing more; a different body with that key is 422 IDEMPOTENCY_KEY_REUSED. ' +
      'Refused purchases are not remembered: a request refused (sold out, paused, not started, …) may be retried with the same key.',
  })
  @ApiParam({ name: 'saleId', description: 'The sale (1-100 characters of letters, digits, _ . -)' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: '1–128 printable ASCII characters; one key per intended purchase, reused on retries' })
  @ApiBody({ type: PurchaseDto, required: false })
  @ApiCreatedResponse({
    type: OrderResponseDto,
    description: 'Order accepted, status pending_payment; pay it before payBy',
    headers: {
      Location: { description: 'The order: /api/orders/{orderId}', schema: { type: 'string' } },
      'Idempotent-Replayed': { description: '`true` when this answers a repeat of an accepted Idempotency-Key', schema: { type: 'string' } },
    },
  })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED (body, sale id or Idempotency-Key)' })
  @ApiResponse({ status: 401, description: 'UNAUTHENTICATED' })
  @ApiResponse({ status: 403, description: 'NOT_ELIGIBLE (no reservation and no F-code) or FCODE_INVALID (unknown, void, mistyped or bound to another buyer)' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND' })
  @ApiResponse({ status: 409, description: 'SALE_NOT_STARTED, SALE_ENDED, SALE_PAUSED, SOLD_OUT, LIMIT_REACHED, FCODE_USED, FCODE_EXPIRED' })
  @ApiResponse({ status: 422, description: 'IDEMPOTENCY_KEY_REUSED' })
  @ApiResponse({ status: 429, description: 'RATE_LIMITED (too many wrong F-codes), with Retry-After' })
  @ApiResponse({ status: 503, description: 'UNAVAILABLE: Redis unreachable; nothing was sold. Retry with the same Idempotency-Key' })
  async purchase(
    @Param('saleId') saleId: string,
    @Body() body: PurchaseDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @CurrentUser() user: AuthUser,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<OrderResponseDto> {
    const problems = [];
    if (!ID_PATTERN.test(saleId)) problems.push({ field: 'saleId', message: 'must be 1-100 characters of letters, digits, _ . -' });
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) problems.push({ field: 'Idempotency-Key', message: 'must be 1-128 printable ASCII characters' });
    if (problems.length > 0) throw SellException.validation(problems);

    const { order, replayed } = await this.purchases.purchase({
      saleId,
      userId: user.userId,
      ip: request.ip,
      quantity: body.quantity ?? 1,
      fcode: body.fcode,
      idempotencyKey,
    });
    void reply.header('location', `/api/orders/${order.id}`);
    if (replayed) void reply.header('idempotent-replayed', 'true');
    return toOrderResponse(order);
  }
}
