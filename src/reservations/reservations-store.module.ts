import { Module } from '@nestjs/common';
import { ReservationsGateway } from './reservations.gateway';
import { ReservationsRepository } from './reservations.repository';

/** The reservations' doors: the `reservations` table and its Redis copy (the sale stats and the rebuild read them too). */
@Module({
  providers: [ReservationsRepository, ReservationsGateway],
  exports: [ReservationsRepository, ReservationsGateway],
})
export class ReservationsStoreModule {}
