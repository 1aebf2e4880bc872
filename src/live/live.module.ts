import { Module } from '@nestjs/common';
import { SalesModule } from '../sales/sales.module';
import { LiveRecordingModule } from './live-recording.module';
import { SaleEventsHub } from './sale-events.hub';
import { SaleEventsRoute } from './sale-events.route';
import { TimelineController } from './timeline.controller';
import { TimelineService } from './timeline.service';

/** Live updates over Server-Sent Events and the sale timeline. */
@Module({
  imports: [SalesModule, LiveRecordingModule],
  controllers: [TimelineController],
  providers: [SaleEventsHub, SaleEventsRoute, TimelineService],
})
export class LiveModule {}
