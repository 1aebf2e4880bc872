import { Module } from '@nestjs/common';
import { OrdersGateway } from './orders.gateway';
import { OrdersRepository } from './orders.repository';

/** The orders' doors: the `orders` table and the live order hashes in Redis, for every stage that reads or writes an order. */
@Module({
  providers: [OrdersRepository, OrdersGateway],
  exports: [OrdersRepository, OrdersGateway],
})
export class OrdersStoreModule {}
