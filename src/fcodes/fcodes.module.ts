import { Module } from '@nestjs/common';
import { FcodeAttemptLimiter } from './fcode-attempt-limiter';
import { FcodeGateway } from './fcode.gateway';
import { FcodeRepository } from './fcode.repository';
import { FcodesController } from './fcodes.controller';
import { FcodesService } from './fcodes.service';

@Module({
  controllers: [FcodesController],
  providers: [FcodesService, FcodeRepository, FcodeGateway, FcodeAttemptLimiter],
  // The purchase hot path counts wrong codes with the limiter; the end-of-sale report counts codes.
  exports: [FcodeAttemptLimiter, FcodesService],
})
export class FcodesModule {}
