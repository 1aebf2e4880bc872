import { Module } from '@nestjs/common';
import { SalesModule } from '../sales/sales.module';
import { AdminReservationsController } from './admin-reservations.controller';
import { ReservationsController } from './reservations.controller';
import { ReservationsGateway } from './reservations.gateway';
import { ReservationsRepository } from './reservations.repository';
import { ReservationsService } from './reservations.service';

@Module({
  imports: [SalesModule],
  controllers: [ReservationsController, AdminReservationsController],
  providers: [ReservationsService, ReservationsRepository, ReservationsGateway],
  exports: [ReservationsService],
})
export class ReservationsModule {}
