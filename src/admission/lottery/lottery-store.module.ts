import { Module } from '@nestjs/common';
import { LotteryGateway } from './lottery.gateway';
import { LotteryRepository } from './lottery.repository';

/**
 * The lottery's doors: its tables and its Redis keys. A module of their own, with no imports, so that the
 * rebuild can put a lottery back without importing the lottery feature.
 */
@Module({
  providers: [LotteryGateway, LotteryRepository],
  exports: [LotteryGateway, LotteryRepository],
})
export class LotteryStoreModule {}
