import { Module } from '@nestjs/common';
import { LotteryStoreModule } from '../admission/lottery/lottery-store.module';
import { WaitingRoomStoreModule } from '../admission/waiting-room/waiting-room-store.module';
import { FcodesStoreModule } from '../fcodes/fcodes-store.module';
import { OrderWriterModule } from '../order-writer/order-writer.module';
import { OrdersStoreModule } from '../orders/orders-store.module';
import { ReservationsStoreModule } from '../reservations/reservations-store.module';
import { SalesStoreModule } from '../sales/sales-store.module';
import { SaleRebuildService } from './sale-rebuild.service';
import { SaleRestoreGateway } from './sale-restore.gateway';
import { SaleRestoreService } from './sale-restore.service';

/**
 * The rebuild of a sale's Redis state from the database, at boot and when Redis lost it. It reads each
 * feature through that feature's doors (the store modules) and asks the order writer how far behind it is.
 */
@Module({
  imports: [SalesStoreModule, OrdersStoreModule, FcodesStoreModule, ReservationsStoreModule, LotteryStoreModule, WaitingRoomStoreModule, OrderWriterModule],
  providers: [SaleRestoreGateway, SaleRestoreService, SaleRebuildService],
  exports: [SaleRestoreService, SaleRebuildService],
})
export class RebuildModule {}
