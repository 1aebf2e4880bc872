import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { FcodesModule } from '../fcodes/fcodes.module';
import { AdmissionTokens } from './admission-token';
import { FcodeEligibility } from './fcode-eligibility';

/** What the purchase route, the waiting room and the lottery share: the token signer (keyed once per process from JWT_SECRET) and the F-code check. */
@Module({
  imports: [FcodesModule],
  providers: [{ provide: AdmissionTokens, useFactory: (config: AppConfig) => new AdmissionTokens(config.jwtSecret), inject: [APP_CONFIG] }, FcodeEligibility],
  exports: [AdmissionTokens, FcodeEligibility],
})
export class AdmissionSharedModule {}
