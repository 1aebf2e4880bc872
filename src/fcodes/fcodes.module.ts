import { Module } from '@nestjs/common';
import { SalesStoreModule } from '../sales/sales-store.module';
import { FcodeAttemptLimiter } from './fcode-attempt-limiter';
import { FcodesController } from './fcodes.controller';
import { FcodesService } from './fcodes.service';
import { FcodesStoreModule } from './fcodes-store.module';

@Module({
  imports: [FcodesStoreModule, SalesStoreModule],
  controllers: [FcodesController],
  providers: [FcodesService, FcodeAttemptLimiter],
  // The purchase hot path counts wrong codes with the limiter; the end-of-sale report counts codes.
  exports: [FcodeAttemptLimiter, FcodesService],
})
export class FcodesModule {}
