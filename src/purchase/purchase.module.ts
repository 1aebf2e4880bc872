import { Module } from '@nestjs/common';
import { FcodesModule } from '../fcodes/fcodes.module';
import { SalesModule } from '../sales/sales.module';
import { PurchaseGateway } from './purchase.gateway';
import { PurchaseRoute } from './purchase.route';
import { PurchaseService } from './purchase.service';
import { SoldOutCache } from './sold-out-cache';

@Module({
  imports: [FcodesModule, SalesModule],
  providers: [PurchaseGateway, PurchaseService, SoldOutCache, PurchaseRoute],
  exports: [PurchaseService, SoldOutCache],
})
export class PurchaseModule {}
