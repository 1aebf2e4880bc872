import { ApiProperty } from '@nestjs/swagger';
import { SALE_PHASES, type SalePhase } from '../sale-phase';

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

export class OrderStatsDto {
  @ApiProperty({ example: 10 })
  pending_payment: number;
  @ApiProperty({ example: 104970 })
  paid: number;
  @ApiProperty({ example: 3 })
  expired: number;
  @ApiProperty({ example: 5 })
  cancelled: number;
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

export class SaleStatsDto {
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
