import { Module } from '@nestjs/common';
import { PaymentsModule } from '../payments/payments.module';
import { SalesModule } from '../sales/sales.module';
import { ExpirySweeper } from './expiry-sweeper';
import { OrderLifecycleController } from './order-lifecycle.controller';
import { OrderLifecycleGateway } from './order-lifecycle.gateway';
import { OrderLifecycleService } from './order-lifecycle.service';

/** After the purchase: pay, cancel, and expiry of unpaid orders (the payment window). */
@Module({
  imports: [PaymentsModule, SalesModule],
  controllers: [OrderLifecycleController],
  providers: [OrderLifecycleGateway, OrderLifecycleService, ExpirySweeper],
  exports: [OrderLifecycleService, ExpirySweeper],
})
export class OrderLifecycleModule {}
