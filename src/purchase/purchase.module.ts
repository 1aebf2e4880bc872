import { Module } from '@nestjs/common';
import { AdmissionSharedModule } from '../admission/admission-shared.module';
import { FcodesModule } from '../fcodes/fcodes.module';
import { LiveRecordingModule } from '../live/live-recording.module';
import { RebuildModule } from '../rebuild/rebuild.module';
import { SalesStoreModule } from '../sales/sales-store.module';
import { PurchaseGateway } from './purchase.gateway';
import { PurchaseRoute } from './purchase.route';
import { PurchaseService } from './purchase.service';
import { SoldOutCache } from './sold-out-cache';

@Module({
  imports: [AdmissionSharedModule, FcodesModule, SalesStoreModule, RebuildModule, LiveRecordingModule],
  providers: [PurchaseGateway, PurchaseService, SoldOutCache, PurchaseRoute],
  exports: [PurchaseService, SoldOutCache],
})
export class PurchaseModule {}
