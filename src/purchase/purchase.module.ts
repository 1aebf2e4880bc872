import { Module } from '@nestjs/common';
import { FcodeAttemptLimiter } from '../fcodes/fcode-attempt-limiter';
import { PurchaseController } from './purchase.controller';
import { PurchaseGateway } from './purchase.gateway';
import { PurchaseService } from './purchase.service';
import { SoldOutCache } from './sold-out-cache';

@Module({
  controllers: [PurchaseController],
  // FcodeAttemptLimiter is provided here until the F-code module exports its implementation.
  providers: [PurchaseGateway, PurchaseService, SoldOutCache, FcodeAttemptLimiter],
  exports: [PurchaseService, SoldOutCache],
})
export class PurchaseModule {}
