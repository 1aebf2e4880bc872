import { Module } from '@nestjs/common';
import { WaitingRoomGateway } from './waiting-room.gateway';
import { WaitingRoomRepository } from './waiting-room.repository';

/**
 * The waiting room's doors: its table and its Redis keys. A module of their own, with no imports, so that
 * the rebuild can put a line back without importing the waiting room feature.
 */
@Module({
  providers: [WaitingRoomGateway, WaitingRoomRepository],
  exports: [WaitingRoomGateway, WaitingRoomRepository],
})
export class WaitingRoomStoreModule {}
