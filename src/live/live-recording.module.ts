import { Module } from '@nestjs/common';
import { LiveGateway } from './live.gateway';
import { SaleChangeNotifier } from './sale-change-notifier';
import { TimelineRecorder } from './timeline-recorder';
import { TimelineRepository } from './timeline.repository';

/**
 * What the purchase path and the sale admin feed into live updates and the timeline: change notices and
 * attempt counts. Kept apart from `LiveModule` (which reads sales) so that sales and purchase can import it.
 */
@Module({
  providers: [LiveGateway, SaleChangeNotifier, TimelineRecorder, TimelineRepository],
  exports: [LiveGateway, SaleChangeNotifier, TimelineRecorder, TimelineRepository],
})
export class LiveRecordingModule {}
