import { ApiProperty } from '@nestjs/swagger';
import { SALE_PHASES, type SalePhase } from '../sale-rules';
import { OrderStatusCountsDto } from '../../orders/dto/order-status-counts.dto';
import type { SaleStats } from '../../contract/responses';

export class StockStatsDto {
  @ApiProperty({ example: 100000, description: 'Units ever loaded into the general pool' })
  general: number;
  @ApiProperty({ example: 5000 })
  fcode: number;
  @ApiProperty({ example: 0 })
  generalRemaining: number;
  @ApiProperty({ example: 12 })
  fcodeRemaining: number;
}

export class OrderStatsDto extends OrderStatusCountsDto {
  @ApiProperty({ example: 104988, description: 'Orders of the sale in the database' })
  persisted: number;
}

export class FcodeStatsDto {
  @ApiProperty({ example: 6000, description: 'F-codes of the sale in the database' })
  issued: number;
  @ApiProperty({ example: 4988, description: 'F-codes currently backing a live order' })
  redeemed: number;
}

export class OrderWriterStatsDto {
  @ApiProperty({ example: 0, description: "Entries of the sale's order stream not yet acknowledged by the order writers" })
  lag: number;
  @ApiProperty({ example: 0, description: 'Entries the order writer gave up on and parked' })
  parked: number;
}

export class SaleStatsDto implements SaleStats {
  @ApiProperty()
  saleId: string;
  @ApiProperty({ enum: SALE_PHASES })
  phase: SalePhase;
  @ApiProperty({ type: StockStatsDto })
  stock: StockStatsDto;
  @ApiProperty({ example: 104988, description: 'Units in pending_payment or paid orders' })
  unitsSold: number;
  @ApiProperty({ example: 7500000 })
  reservations: number;
  @ApiProperty({ type: OrderStatsDto })
  orders: OrderStatsDto;
  @ApiProperty({ type: FcodeStatsDto })
  fcodes: FcodeStatsDto;
  @ApiProperty({ example: 104988, description: 'Orders ever accepted with 201; equals orders.persisted once the order pipeline is idle' })
  accepted: number;
  @ApiProperty({ description: 'general + fcode − generalRemaining − fcodeRemaining = unitsSold' })
  stockEquationHolds: boolean;
  @ApiProperty({ type: OrderWriterStatsDto })
  orderWriter: OrderWriterStatsDto;
}
