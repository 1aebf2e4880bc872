import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { LiveGateway } from './live.gateway';
import { TimelineCount, TimelineRepository } from './timeline.repository';

/** How often this process adds its counts to the table. */
export const TIMELINE_FLUSH_MS = 1000;
/** Counts kept while the database refuses them; past this the oldest are dropped (and logged). */
const MAX_UNFLUSHED = 100_000;

/** One sale's counts of the second in progress, by outcome. */
interface OpenSecond {
  second: number;
  counts: Map<string, number>;
}

/**
 * The sale timeline's recorder: counts purchase attempts per sale, second and outcome in memory (the
 * purchase path pays a map lookup and an increment), and adds them to `sale_timeline` about once a
 * second with an additive upsert, so several processes build one timeline. Each flush samples the units
 * sold of the sales it flushes (one pipelined Redis read). Counts the database refused are kept and
 * retried; the last counts are flushed before the process closes its database.
 */
@Injectable()
export class TimelineRecorder implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(TimelineRecorder.name);
  private readonly open = new Map<string, OpenSecond>();
  /** Closed seconds not yet in the table. */
  private closed: TimelineCount[] = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly repository: TimelineRepository,
    private readonly gateway: LiveGateway,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (!this.config.timelineEnabled) return;
    this.timer = setInterval(() => void this.flush(), TIMELINE_FLUSH_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Counts one purchase attempt of `saleId` answered with `outcome` (`CREATED` or an error code). */
  record(saleId: string, outcome: string): void {
    if (!this.config.timelineEnabled) return;
    const second = Math.floor(this.clock.now() / 1000);
    let current = this.open.get(saleId);
    if (current === undefined || current.second !== second) {
      if (current !== undefined) this.close(saleId, current);
      current = { second, counts: new Map() };
      this.open.set(saleId, current);
    }
    current.counts.set(outcome, (current.counts.get(outcome) ?? 0) + 1);
  }

  /** Adds every count so far to the table (the second in progress too: the upsert sums). */
  flush(): Promise<void> {
    // One flush at a time; a caller during one waits for it and then flushes what came since.
    this.flushing = (this.flushing ?? Promise.resolve()).then(() => this.flushNow());
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    for (const [saleId, current] of this.open) this.close(saleId, current);
    this.open.clear();
    if (this.closed.length === 0) return;
    const counts = this.closed;
    this.closed = [];
    const saleIds = [...new Set(counts.map((count) => count.saleId))];
    const sold = await this.gateway.unitsSold(saleIds).catch(() => saleIds.map(() => undefined));
    const soldBySale = new Map(saleIds.map((saleId, index) => [saleId, sold[index] ?? null]));
    for (const count of counts) count.unitsSold = soldBySale.get(count.saleId) ?? null;
    try {
      await this.repository.add(counts);
    } catch (error) {
      this.closed = counts.concat(this.closed);
      if (this.closed.length > MAX_UNFLUSHED) {
        const dropped = this.closed.splice(0, this.closed.length - MAX_UNFLUSHED);
        this.logger.error({ dropped: dropped.length }, 'The database refused timeline counts for too long; the oldest were dropped');
      }
      this.logger.warn({ err: error, pending: this.closed.length }, 'Could not add timeline counts; they are kept for the next flush');
    }
  }

  private close(saleId: string, second: OpenSecond): void {
    for (const [outcome, attempts] of second.counts) this.closed.push({ saleId, atSecond: second.second, outcome, attempts, unitsSold: null });
  }
}
