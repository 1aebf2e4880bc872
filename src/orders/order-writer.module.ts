import { Module } from '@nestjs/common';
import { SalesRepository } from '../sales/sales.repository';
import { OrderWriterService } from './order-writer.service';
import { OrdersRepository } from './orders.repository';

/** The order writer alone: what both the service and the `start:worker` process need to persist orders. */
@Module({
  // The sales table tells the writer which sales are this deployment's (see OrderWriterService.process).
  providers: [OrdersRepository, OrderWriterService, SalesRepository],
  exports: [OrdersRepository, OrderWriterService],
})
export class OrderWriterModule {}
