import { ApiProperty } from '@nestjs/swagger';
import { SALE_PHASES, type SalePhase } from '../../sales/sale-rules';
import { OrderStatusCountsDto } from '../../orders/dto/order-status-counts.dto';
import type { OrderCounts, PoolUnits, ReportDifference, SaleReport } from '../../contract/responses';

export class PoolUnitsDto implements PoolUnits {
  @ApiProperty({ example: 100000 })
  general: number;
  @ApiProperty({ example: 5000 })
  fcode: number;
}

export class ReportUnitsDto {
  @ApiProperty({ type: PoolUnitsDto, description: 'Units ever loaded per pool (the sale row)' })
  loaded: PoolUnitsDto;
  @ApiProperty({ example: 105000 })
  loadedTotal: number;
  @ApiProperty({ type: PoolUnitsDto, nullable: true, description: 'Unsold units per pool in Redis; null when Redis holds no state for the sale' })
  remaining: PoolUnitsDto | null;
  @ApiProperty({ example: 104988, description: 'Units in live orders (pending_payment + paid), from the database' })
  sold: number;
  @ApiProperty({ example: 10, description: 'Units in orders awaiting payment' })
  pending: number;
  @ApiProperty({ example: 104978 })
  paid: number;
  @ApiProperty({ example: 7 })
  expired: number;
  @ApiProperty({ example: 5 })
  cancelled: number;
  @ApiProperty({ example: 12, description: 'Units that went back to their pool: expired + cancelled' })
  returned: number;
}

export class OrderCountsDto extends OrderStatusCountsDto implements OrderCounts {
  @ApiProperty({ example: 104988, description: 'Every order (Redis: every order accepted with 201)' })
  total: number;
}

export class ReportOrdersDto {
  @ApiProperty({ type: OrderCountsDto, nullable: true, description: "Redis's counters; null when Redis holds no state for the sale" })
  redis: OrderCountsDto | null;
  @ApiProperty({ type: OrderCountsDto })
  database: OrderCountsDto;
}

export class ReportPaymentsDto {
  @ApiProperty({ example: 104975, description: 'Successful charges recorded in the payments ledger' })
  charges: number;
  @ApiProperty({ example: 7337752500 })
  chargedCents: number;
  @ApiProperty({ example: 40, description: 'Charges the provider declined (no money moved)' })
  declined: number;
  @ApiProperty({ example: 5 })
  refunds: number;
  @ApiProperty({ example: 349500 })
  refundedCents: number;
  @ApiProperty({ example: 7337403000, description: 'chargedCents − refundedCents' })
  netCents: number;
  @ApiProperty({ example: 7337403000, description: 'What the paid orders in the database add up to; equals netCents when consistent' })
  paidOrdersCents: number;
  @ApiProperty({ example: 'CNY' })
  currency: string;
}

export class ReportFcodesDto {
  @ApiProperty({ example: 6000 })
  issued: number;
  @ApiProperty({ example: 4988 })
  redeemed: number;
  @ApiProperty({ example: 10 })
  void: number;
  @ApiProperty({ example: 2 })
  expired: number;
}

export class ReportReservationsDto {
  @ApiProperty({ example: 7500000, nullable: true, type: Number, description: 'Held in Redis; null when Redis holds no state for the sale' })
  redis: number | null;
  @ApiProperty({ example: 7500000, description: 'Recorded in the database (buyer reservations reach it a moment later)' })
  database: number;
}

export class ReportBuyersDto {
  @ApiProperty({ example: 104990, description: 'Distinct buyers with an order of any status' })
  withOrders: number;
  @ApiProperty({ example: 104988 })
  withLiveOrders: number;
  @ApiProperty({ example: 104970 })
  withPaidOrders: number;
}

export class ReportPipelineDto {
  @ApiProperty({ example: 0, description: 'Accepted orders not yet written to the database' })
  lag: number;
  @ApiProperty({ example: 0, description: 'Order events the writer gave up on' })
  parked: number;
}

export class ReportDifferenceDto implements ReportDifference {
  @ApiProperty({ example: 'orders.pending_payment', description: 'Which check found it' })
  check: string;
  @ApiProperty({ example: 'Redis counts 3 orders pending_payment, the database 2' })
  message: string;
  @ApiProperty({ example: 3, required: false, description: 'The figure on the side that is taken as the reference (Redis, or what the status implies)' })
  expected?: number;
  @ApiProperty({ example: 2, required: false })
  actual?: number;
  @ApiProperty({ example: 'o_01jd8x….s_01jd8x…', required: false, description: 'The order concerned, for checks of single orders' })
  orderId?: string;
}

export class SaleReportDto implements SaleReport {
  @ApiProperty()
  saleId: string;
  @ApiProperty()
  sku: string;
  @ApiProperty()
  name: string;
  @ApiProperty({ enum: SALE_PHASES })
  phase: SalePhase;
  @ApiProperty({ type: String, format: 'date-time' })
  startsAt: string;
  @ApiProperty({ type: String, format: 'date-time' })
  endsAt: string;
  @ApiProperty({ type: String, format: 'date-time', description: 'When this report was made (the server clock)' })
  generatedAt: string;
  @ApiProperty({ type: ReportUnitsDto })
  units: ReportUnitsDto;
  @ApiProperty({ type: ReportOrdersDto })
  orders: ReportOrdersDto;
  @ApiProperty({ type: ReportPaymentsDto })
  payments: ReportPaymentsDto;
  @ApiProperty({ type: ReportFcodesDto })
  fcodes: ReportFcodesDto;
  @ApiProperty({ type: ReportReservationsDto })
  reservations: ReportReservationsDto;
  @ApiProperty({ type: ReportBuyersDto })
  buyers: ReportBuyersDto;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the last unit still sold was taken (the newest live order), if both pools are empty now; null while units are left',
  })
  soldOutAt: string | null;
  @ApiProperty({ type: ReportPipelineDto, nullable: true })
  orderPipeline: ReportPipelineDto | null;
  @ApiProperty({ description: 'True when no difference was found' })
  consistent: boolean;
  @ApiProperty({ type: [ReportDifferenceDto] })
  differences: ReportDifferenceDto[];
  @ApiProperty({ type: [String], description: 'What the report could not check, and why (e.g. no Redis state for a long-ended sale)' })
  notes: string[];
}
