import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/auth.decorators';
import type { AuthUser } from '../auth/token.service';
import { OrderListResponseDto, OrderResponseDto, toOrderResponse } from './dto/order-response.dto';
import { OrdersService } from './orders.service';

@ApiTags('orders')
@ApiBearerAuth()
@Controller('api')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get('orders/:orderId')
  @ApiOperation({ summary: 'One order, for its buyer or ops; readable as soon as the purchase returned 201' })
  @ApiParam({ name: 'orderId', description: 'The id from the purchase response (`o_<ulid>.<saleId>`)' })
  @ApiOkResponse({ type: OrderResponseDto })
  @ApiResponse({ status: 401, description: 'UNAUTHENTICATED' })
  @ApiResponse({ status: 403, description: 'FORBIDDEN: the order belongs to another buyer' })
  @ApiResponse({ status: 404, description: 'ORDER_NOT_FOUND: unknown or malformed order id' })
  @ApiResponse({ status: 503, description: 'UNAVAILABLE: Redis or the database unreachable, or Redis lost the order before it was stored and its sale is being rebuilt; retry' })
  async getOrder(@Param('orderId') orderId: string, @CurrentUser() user: AuthUser): Promise<OrderResponseDto> {
    return toOrderResponse(await this.orders.getOrderFor(orderId, user));
  }

  @Get('me/orders')
  @ApiOperation({ summary: "The caller's orders, newest first (at most 500 from the record, plus the live orders of current sales)" })
  @ApiOkResponse({ type: OrderListResponseDto })
  @ApiResponse({ status: 401, description: 'UNAUTHENTICATED' })
  @ApiResponse({ status: 503, description: "UNAVAILABLE: Redis or the database unreachable, a Redis master refused the read of a sale's live orders, or Redis lost the live state of one of your current sales and it is being rebuilt; retry (a list is never answered without them)" })
  async myOrders(@CurrentUser() user: AuthUser): Promise<OrderListResponseDto> {
    return { items: (await this.orders.listFor(user.userId)).map(toOrderResponse) };
  }
}
