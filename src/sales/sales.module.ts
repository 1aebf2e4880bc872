import { Module } from '@nestjs/common';
import { AdminSalesController } from './admin-sales.controller';
import { PublicSalesController } from './public-sales.controller';
import { SaleRecordsRepository } from './sale-records.repository';
import { SaleRebuildService } from './sale-rebuild.service';
import { SaleRestoreGateway } from './sale-restore.gateway';
import { SaleRestoreService } from './sale-restore.service';
import { SalesGateway } from './sales.gateway';
import { SalesRepository } from './sales.repository';
import { SalesService } from './sales.service';

@Module({
  controllers: [AdminSalesController, PublicSalesController],
  providers: [SalesService, SalesRepository, SalesGateway, SaleRecordsRepository, SaleRestoreGateway, SaleRestoreService, SaleRebuildService],
  exports: [SalesService, SaleRestoreService, SaleRebuildService],
})
export class SalesModule {}
