import { Module } from '@nestjs/common';
import { OrderWriterService } from './order-writer.service';
import { OrdersRepository } from './orders.repository';

/** The order writer alone: what both the service and the `start:worker` process need to persist orders. */
@Module({
  providers: [OrdersRepository, OrderWriterService],
  exports: [OrdersRepository, OrderWriterService],
})
export class OrderWriterModule {}
