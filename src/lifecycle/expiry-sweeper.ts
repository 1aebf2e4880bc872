import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../metrics/metrics.service';
import { OrderLifecycleGateway } from './order-lifecycle.gateway';

export interface SweepReport {
  /** Orders this pass released as expired. */
  expired: number;
  /** Due orders it left alone: a payment held them, another sweeper got there first, or they were gone. */
  skipped: number;
}

/**
 * Passes over one sale's due orders per tick are capped so that one huge sale cannot starve the others;
 * whatever is left is picked up on the next tick.
 */
const MAX_BATCHES_PER_SALE = 20;
/** Ticks in a row that failed after which the sweeper counts as failing (`/health` answers 503). */
const FAILING_AFTER_TICKS = 3;

/**
 * Expires orders that were not paid by their payBy, returning their units, allowance and F-code.
 * Every instance of the service may run one: each release is a compare-and-set inside
 * `release-order.lua`, so two sweepers (or a sweeper and a payment) never release one order twice.
 * Ticks never overlap, and stopping waits for the tick in progress, so a restart loses nothing: what a
 * stopped sweeper did not reach stays in `deadlines` for the next one.
 */
@Injectable()
export class ExpirySweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ExpirySweeper.name);
  private timer?: NodeJS.Timeout;
  private tick?: Promise<void>;
  private stopping = false;
  private failuresInARow = 0;

  constructor(
    private readonly gateway: OrderLifecycleGateway,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.sweeper.enabled) this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  /** Whether the sweeper fails on every tick lately (`/health`). */
  get isFailing(): boolean {
    return this.failuresInARow >= FAILING_AFTER_TICKS;
  }

  /** Stops ticking and waits for the tick in progress to finish. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.tick;
  }

  /** One pass over every sale (the timer calls it; tests and tools may too). */
  async sweep(): Promise<SweepReport> {
    const report: SweepReport = { expired: 0, skipped: 0 };
    for (const saleId of await this.gateway.saleIds()) {
      if (this.stopping) break;
      const saleReport = await this.sweepSale(saleId);
      report.expired += saleReport.expired;
      report.skipped += saleReport.skipped;
    }
    return report;
  }

  async sweepSale(saleId: string): Promise<SweepReport> {
    const report: SweepReport = { expired: 0, skipped: 0 };
    const { batchSize } = this.config.sweeper;
    for (let batch = 0; batch < MAX_BATCHES_PER_SALE && !this.stopping; batch += 1) {
      const now = this.clock.now();
      const orderIds = await this.gateway.dueOrderIds(saleId, now, batchSize);
      if (orderIds.length === 0) break;
      const fcodeHashes = await this.gateway.fcodeHashesOf(saleId, orderIds);
      const outcomes = await Promise.all(orderIds.map((orderId, index) => this.gateway.release({ saleId, orderId, mode: 'expire', now, fcodeHash: fcodeHashes[index] })));
      let expired = 0;
      for (const outcome of outcomes) if (outcome.outcome === 'RELEASED') expired += 1;
      if (expired > 0) this.metrics.orderTransitions.inc({ event: 'expired' }, expired);
      report.expired += expired;
      report.skipped += orderIds.length - expired;
      // Every refusal re-scores or removes its deadline entry, so a full batch means more may be due.
      if (orderIds.length < batchSize) break;
    }
    return report;
  }

  private schedule(): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.tick = this.sweep()
        .then((report) => {
          this.failuresInARow = 0;
          if (report.expired > 0) this.logger.log(`Expired ${report.expired} unpaid order(s)`);
        })
        .catch((error: unknown) => {
          this.failuresInARow += 1;
          this.logger.error({ err: error }, 'Expiry sweep failed; retrying on the next tick');
        })
        .finally(() => {
          this.tick = undefined;
          this.schedule();
        });
    }, this.config.sweeper.intervalMs);
  }
}
