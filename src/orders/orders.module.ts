import { Module, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import { OrderWriterModule } from '../order-writer/order-writer.module';
import { OrderWriterService } from '../order-writer/order-writer.service';
import { OrdersController } from './orders.controller';
import { SalesStoreModule } from '../sales/sales-store.module';
import { OrdersService } from './orders.service';
import { OrdersStoreModule } from './orders-store.module';
import { RebuildModule } from '../rebuild/rebuild.module';

@Module({
  imports: [OrdersStoreModule, SalesStoreModule, OrderWriterModule, RebuildModule],
  controllers: [OrdersController],
  providers: [OrdersService],
  exports: [OrdersService, OrderWriterModule],
})
export class OrdersModule implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly writer: OrderWriterService,
  ) {}

  onModuleInit(): void {
    // The lag is read from Redis, so the service reports it even when the writer runs in a worker.
    this.metrics.addCollector(this.writer.onLagCollect);
  }
}
