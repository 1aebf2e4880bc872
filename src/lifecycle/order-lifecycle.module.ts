import { Module } from '@nestjs/common';
import { PaymentsModule } from './payments/payments.module';
import { OrdersStoreModule } from '../orders/orders-store.module';
import { RebuildModule } from '../rebuild/rebuild.module';
import { ExpirySweeper } from './expiry-sweeper';
import { OrderLifecycleController } from './order-lifecycle.controller';
import { OrderLifecycleGateway } from './order-lifecycle.gateway';
import { OrderLifecycleService } from './order-lifecycle.service';

/** After the purchase: pay, cancel, and expiry of unpaid orders (the payment window). */
@Module({
  imports: [PaymentsModule, OrdersStoreModule, RebuildModule],
  controllers: [OrderLifecycleController],
  providers: [OrderLifecycleGateway, OrderLifecycleService, ExpirySweeper],
  exports: [OrderLifecycleService, ExpirySweeper],
})
export class OrderLifecycleModule {}
