import { ApiProperty } from '@nestjs/swagger';
import type { OrderStatus, StockPool } from '../order.entity';
import type { OrderRecord } from '../order-record';
import type { Order, OrderList } from '../../contract/responses';

/** The `Order` of the HTTP contract (`GET /api/orders/:orderId`). */
export class OrderResponseDto implements Order {
  @ApiProperty({ example: 'o_01jd8x3v7q9m2k4p6r8t0w2y4z.s_01jd8x0000000000000000000' })
  id: string;

  @ApiProperty({ example: 's_01jd8x0000000000000000000' })
  saleId: string;

  @ApiProperty({ example: 'u1' })
  userId: string;

  @ApiProperty({ example: 1, minimum: 1 })
  quantity: number;

  @ApiProperty({ example: 69900, description: 'Price of one unit at purchase time, in minor units' })
  unitPriceCents: number;

  @ApiProperty({ example: 69900, description: 'quantity × unitPriceCents, in minor units' })
  amountCents: number;

  @ApiProperty({ example: 'CNY' })
  currency: string;

  @ApiProperty({ enum: ['pending_payment', 'paid', 'expired', 'cancelled'] })
  status: OrderStatus;

  @ApiProperty({ enum: ['general', 'fcode'], description: 'The stock pool the units came from' })
  pool: StockPool;

  @ApiProperty({ example: '2025-11-23T12:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ example: '2025-11-23T12:15:00.000Z', description: 'Unpaid after this moment, the order expires and its units go back on sale' })
  payBy: string;

  @ApiProperty({ type: String, nullable: true, example: null })
  paidAt: string | null;
}

export class OrderListResponseDto implements OrderList {
  @ApiProperty({ type: [OrderResponseDto] })
  items: OrderResponseDto[];
}

/**
 * Renders an order as the contract's JSON. Deterministic in its input (key order included), so that a
 * replayed idempotent purchase answers with the same bytes as the first one.
 */
export function toOrderResponse(order: OrderRecord): OrderResponseDto {
  return {
    id: order.id,
    saleId: order.saleId,
    userId: order.userId,
    quantity: order.quantity,
    unitPriceCents: order.unitPriceCents,
    amountCents: order.amountCents,
    currency: order.currency,
    status: order.status,
    pool: order.pool,
    createdAt: new Date(order.createdAt).toISOString(),
    payBy: new Date(order.payBy).toISOString(),
    paidAt: order.paidAt === null ? null : new Date(order.paidAt).toISOString(),
  };
}

/** The purchase route's answer body: an order as the contract's JSON. */
export function orderResponseJson(order: OrderRecord): string {
  return JSON.stringify(toOrderResponse(order));
}
