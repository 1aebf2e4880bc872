import { Injectable } from '@nestjs/common';
import { SalesService } from '../sales/sales.service';
import type { TimelinePointDto, TimelineResponseDto } from './dto/timeline-response.dto';
import { TimelineRepository } from './timeline.repository';

export const DEFAULT_STEP_SECONDS = 1;

/** Reads the sale timeline: the counts of every process, summed per step. */
@Injectable()
export class TimelineService {
  constructor(
    private readonly repository: TimelineRepository,
    private readonly sales: SalesService,
  ) {}

  async timeline(saleId: string, stepSeconds: number): Promise<TimelineResponseDto> {
    await this.sales.getSale(saleId);
    const rows = await this.repository.steps(saleId, stepSeconds);
    const steps = new Map<number, { attempts: Record<string, number>; unitsSold: number | null }>();
    for (const row of rows) {
      let step = steps.get(row.stepAt);
      if (!step) {
        step = { attempts: {}, unitsSold: null };
        steps.set(row.stepAt, step);
      }
      step.attempts[row.outcome] = (step.attempts[row.outcome] ?? 0) + row.attempts;
      if (row.unitsSold !== null) step.unitsSold = Math.max(step.unitsSold ?? row.unitsSold, row.unitsSold);
    }
    const points: TimelinePointDto[] = [];
    // A step whose flushes could not read Redis shows the last units sold known before it.
    let unitsSold = 0;
    for (const [stepAt, step] of steps) {
      unitsSold = step.unitsSold ?? unitsSold;
      points.push({ at: new Date(stepAt * 1000).toISOString(), unitsSold, attempts: step.attempts });
    }
    return { saleId, stepSeconds, points };
  }
}
