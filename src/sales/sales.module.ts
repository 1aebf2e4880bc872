import { Module } from '@nestjs/common';
import { AdminSalesController } from './admin-sales.controller';
import { PublicSalesController } from './public-sales.controller';
import { SalesGateway } from './sales.gateway';
import { SalesRepository } from './sales.repository';
import { SalesService } from './sales.service';

@Module({
  controllers: [AdminSalesController, PublicSalesController],
  providers: [SalesService, SalesRepository, SalesGateway],
  exports: [SalesService],
})
export class SalesModule {}
