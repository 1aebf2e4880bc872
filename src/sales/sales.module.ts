import { Module } from '@nestjs/common';
import { FcodesStoreModule } from '../fcodes/fcodes-store.module';
import { LiveRecordingModule } from '../live/live-recording.module';
import { OrderWriterModule } from '../order-writer/order-writer.module';
import { OrdersStoreModule } from '../orders/orders-store.module';
import { ReservationsStoreModule } from '../reservations/reservations-store.module';
import { AdminSalesController } from './admin-sales.controller';
import { PublicSalesController } from './public-sales.controller';
import { SalesStoreModule } from './sales-store.module';
import { SalesService } from './sales.service';

/** Sales: CRUD, the public and admin views, and the stats (which count orders, F-codes, reservations and the writer's backlog). */
@Module({
  imports: [SalesStoreModule, OrdersStoreModule, FcodesStoreModule, ReservationsStoreModule, OrderWriterModule, LiveRecordingModule],
  controllers: [AdminSalesController, PublicSalesController],
  providers: [SalesService],
  exports: [SalesService],
})
export class SalesModule {}
