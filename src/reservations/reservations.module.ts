import { Module } from '@nestjs/common';
import { SalesModule } from '../sales/sales.module';
import { AdminReservationsController } from './admin-reservations.controller';
import { ReservationsController } from './reservations.controller';
import { ReservationsService } from './reservations.service';
import { ReservationsStoreModule } from './reservations-store.module';

@Module({
  imports: [SalesModule, ReservationsStoreModule],
  controllers: [ReservationsController, AdminReservationsController],
  providers: [ReservationsService],
  exports: [ReservationsService],
})
export class ReservationsModule {}
