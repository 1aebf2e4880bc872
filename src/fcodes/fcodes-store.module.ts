import { Module } from '@nestjs/common';
import { FcodeGateway } from './fcode.gateway';
import { FcodeRepository } from './fcode.repository';

/** The F-codes' doors: the `fcodes` and `fcode_batches` tables and the codes' Redis state (the sale stats and the rebuild read them too). */
@Module({
  providers: [FcodeRepository, FcodeGateway],
  exports: [FcodeRepository, FcodeGateway],
})
export class FcodesStoreModule {}
