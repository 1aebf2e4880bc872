import { Body, Controller, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentUser } from '../auth/auth.decorators';
import type { AuthUser } from '../auth/token.service';
import { ErrorDetail, SellException } from '../common/errors/sell.exception';
import { ID_PATTERN } from '../common/ids';
import { ID_RULE, IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE } from '../contract/ids';
import { OrderResponseDto, toOrderResponse } from '../orders/dto/order-response.dto';
import { OrderLifecycleService } from './order-lifecycle.service';
import { PaymentRequestDto } from './dto/payment-request.dto';

function checkOrderId(orderId: string, problems: ErrorDetail[] = []): void {
  if (!ID_PATTERN.test(orderId)) problems.push({ field: 'orderId', message: ID_RULE });
  if (problems.length > 0) throw SellException.validation(problems);
}

@ApiTags('orders')
@ApiBearerAuth()
@Controller('api/orders')
export class OrderLifecycleController {
  constructor(private readonly lifecycle: OrderLifecycleService) {}

  @Post(':orderId/pay')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Pay your pending order before its payBy',
    description:
      'Charges the order amount through the payment provider and marks the order paid. Pay and expiry race safely: exactly one wins, and ' +
      'nothing is charged once payBy has passed. With an Idempotency-Key, a repeat of a payment that went through, by the same buyer for ' +
      'the same order with the same body, within 24 h returns the first 200 response again (header `Idempotent-Replayed: true`) and ' +
      'charges nothing more; a different body with that key is 422 IDEMPOTENCY_KEY_REUSED. Declined payments are not remembered.',
  })
  @ApiParam({ name: 'orderId', description: 'The order id returned by the purchase' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: '1–128 printable ASCII characters; one key per intended payment, reused on retries' })
  @ApiBody({ type: PaymentRequestDto })
  @ApiOkResponse({ type: OrderResponseDto, description: 'Order paid' })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED (body, order id or Idempotency-Key)' })
  @ApiResponse({ status: 401, description: 'UNAUTHENTICATED' })
  @ApiResponse({ status: 402, description: 'PAYMENT_DECLINED: nothing was charged; the order still awaits payment until payBy' })
  @ApiResponse({ status: 403, description: 'FORBIDDEN: the order belongs to another buyer' })
  @ApiResponse({ status: 404, description: 'ORDER_NOT_FOUND' })
  @ApiResponse({ status: 409, description: 'ORDER_EXPIRED (payBy has passed; nothing charged) or ORDER_NOT_PENDING (paid, cancelled, or a payment in progress)' })
  @ApiResponse({ status: 422, description: 'IDEMPOTENCY_KEY_REUSED' })
  @ApiResponse({ status: 503, description: 'UNAVAILABLE: Redis or the payment provider is unreachable, or Redis lost the order before it was stored and its sale is being rebuilt; retry with the same Idempotency-Key' })
  async pay(
    @Param('orderId') orderId: string,
    @Body() body: PaymentRequestDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<OrderResponseDto> {
    const problems: ErrorDetail[] = [];
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) problems.push({ field: 'Idempotency-Key', message: IDEMPOTENCY_KEY_RULE });
    checkOrderId(orderId, problems);
    const { order, replayed } = await this.lifecycle.pay({ orderId, userId: user.userId, method: body.method, outcome: body.outcome ?? 'succeed', idempotencyKey });
    if (replayed) void reply.header('idempotent-replayed', 'true');
    return toOrderResponse(order);
  }

  @Post(':orderId/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Cancel your pending order',
    description:
      'Gives the units back to the pool they came from, restores your allowance and frees the F-code that backed the order. ' +
      'After payBy the order expires instead (409 ORDER_EXPIRED), with the same effect on stock.',
  })
  @ApiParam({ name: 'orderId', description: 'The order id returned by the purchase' })
  @ApiOkResponse({ type: OrderResponseDto, description: 'Order cancelled' })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED (order id)' })
  @ApiResponse({ status: 401, description: 'UNAUTHENTICATED' })
  @ApiResponse({ status: 403, description: 'FORBIDDEN: the order belongs to another buyer' })
  @ApiResponse({ status: 404, description: 'ORDER_NOT_FOUND' })
  @ApiResponse({ status: 409, description: 'ORDER_EXPIRED or ORDER_NOT_PENDING (paid, cancelled, or a payment in progress)' })
  @ApiResponse({ status: 503, description: 'UNAVAILABLE: Redis unreachable, or Redis lost the order before it was stored and its sale is being rebuilt; nothing was changed' })
  async cancel(@Param('orderId') orderId: string, @CurrentUser() user: AuthUser): Promise<OrderResponseDto> {
    checkOrderId(orderId);
    return toOrderResponse(await this.lifecycle.cancel(orderId, user.userId));
  }
}
