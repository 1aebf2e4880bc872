import { Module } from '@nestjs/common';
import { FcodesModule } from '../fcodes/fcodes.module';
import { PurchaseController } from './purchase.controller';
import { PurchaseGateway } from './purchase.gateway';
import { PurchaseService } from './purchase.service';
import { SoldOutCache } from './sold-out-cache';

@Module({
  imports: [FcodesModule],
  controllers: [PurchaseController],
  providers: [PurchaseGateway, PurchaseService, SoldOutCache],
  exports: [PurchaseService, SoldOutCache],
})
export class PurchaseModule {}
