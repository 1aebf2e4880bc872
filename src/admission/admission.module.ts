import { Module } from '@nestjs/common';
import { LotteryModule } from './lottery/lottery.module';
import { WaitingRoomModule } from './waiting-room/waiting-room.module';

/** Fair admission to a sale: its waiting room and its lottery (the purchase route checks their tokens). */
@Module({
  imports: [WaitingRoomModule, LotteryModule],
})
export class AdmissionModule {}
