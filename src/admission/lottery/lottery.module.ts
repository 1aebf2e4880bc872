import { Module } from '@nestjs/common';
import { SalesModule } from '../../sales/sales.module';
import { AdmissionSharedModule } from '../admission-shared.module';
import { AdminLotteryController } from './admin-lottery.controller';
import { LotteryController } from './lottery.controller';
import { LotteryStoreModule } from './lottery-store.module';
import { LotteryService } from './lottery.service';

@Module({
  imports: [AdmissionSharedModule, SalesModule, LotteryStoreModule],
  controllers: [LotteryController, AdminLotteryController],
  providers: [LotteryService],
  exports: [LotteryService],
})
export class LotteryModule {}
