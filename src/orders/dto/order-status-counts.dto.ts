import { ApiProperty } from '@nestjs/swagger';
import type { OrderStatus } from '../../contract/responses';

/**
 * Orders of a sale per status. The stats and the report each add the total they count against
 * (`persisted`, `total`); the per-status fields and their OpenAPI text are written once here.
 */
export abstract class OrderStatusCountsDto implements Record<OrderStatus, number> {
  @ApiProperty({ example: 10 })
  pending_payment: number;
  @ApiProperty({ example: 104970 })
  paid: number;
  @ApiProperty({ example: 3 })
  expired: number;
  @ApiProperty({ example: 5 })
  cancelled: number;
}
