import { Module } from '@nestjs/common';
import { SalesModule } from '../../sales/sales.module';
import { AdmissionSharedModule } from '../admission-shared.module';
import { WaitingRoomRecorder } from './waiting-room-recorder';
import { WaitingRoomStoreModule } from './waiting-room-store.module';
import { WaitingRoomTicker } from './waiting-room-ticker';
import { WaitingRoomController } from './waiting-room.controller';
import { WaitingRoomService } from './waiting-room.service';

@Module({
  imports: [AdmissionSharedModule, SalesModule, WaitingRoomStoreModule],
  controllers: [WaitingRoomController],
  providers: [WaitingRoomService, WaitingRoomTicker, WaitingRoomRecorder],
  exports: [WaitingRoomStoreModule],
})
export class WaitingRoomModule {}
