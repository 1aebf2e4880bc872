import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { isPoolMessage, isPoolWorker, METRICS_GATHER_TIMEOUT_MS, MetricsReport, PoolMessage } from '../process-pool/pool-messages';
import { HotCounter, HotHistogram } from './hot-metrics';

type Collector = () => Promise<void> | void;

const STOCK_REMAINING = 'sellout_stock_remaining';
const ORDER_WRITER_LAG = 'sellout_order_writer_lag';
/** Gauges filled from Redis at each scrape: the same in every process. */
const READ_FROM_REDIS = new Set([STOCK_REMAINING, ORDER_WRITER_LAG]);

/**
 * Every Prometheus metric of the service, on one registry (not prom-client's global one, so that tests
 * can build several apps in one process). Gauges whose value lives in Redis are filled by collectors
 * that modules register; they run only when /metrics is scraped.
 *
 * Under a primary (`WEB_CONCURRENCY` > 1) a scrape reaches one worker, which asks the primary for every
 * other worker's metrics and sums them with its own, by each metric's aggregator as prom-client's cluster
 * aggregation does (counters and histograms summed; the process metrics summed too, the event-loop lag
 * averaged, the start time left out). The gauges read from Redis are the same for every worker and come
 * from the answering worker alone. `sellout_metrics_processes` says how many processes the scrape covers.
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnModuleDestroy {
  readonly registry = new Registry();

  // Updated on every request, so without prom-client's per-update label hashing (see hot-metrics.ts).
  readonly httpRequests = new HotCounter('sellout_http_requests_total', 'HTTP requests by route, method and status', ['route', 'method', 'status'], this.registry);
  readonly httpDuration = new HotHistogram(
    'sellout_http_request_duration_seconds',
    'HTTP request latency by route',
    ['route', 'method'],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    this.registry,
  );
  readonly purchaseOutcomes = new HotCounter('sellout_purchase_outcomes_total', 'Purchase attempts by outcome code (CREATED for accepted)', ['code'], this.registry);
  readonly purchaseLatency = new HotHistogram(
    'sellout_purchase_duration_seconds',
    'Hot-path latency of a purchase (admission script round trip included)',
    [],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    this.registry,
  );
  // Read from Redis at each scrape: the same for every process, so never summed.
  readonly stockRemaining = new Gauge({ name: STOCK_REMAINING, help: 'Unsold units per sale and pool', labelNames: ['sale', 'pool'] as const, registers: [this.registry], aggregator: 'first' });
  readonly orderWriterLag = new Gauge({
    name: ORDER_WRITER_LAG,
    help: 'Order events not yet persisted (stream entries unread plus pending acknowledgement) per sale',
    labelNames: ['sale'] as const,
    registers: [this.registry],
    aggregator: 'first',
  });
  readonly orderWriterPersisted = new Counter({ name: 'sellout_order_writer_events_total', help: 'Order events applied to the database by type', labelNames: ['type'] as const, registers: [this.registry] });
  readonly orderWriterParked = new Counter({ name: 'sellout_order_writer_parked_total', help: 'Order events parked: unreadable, failing after repeated deliveries, or of a sale this database does not hold', registers: [this.registry] });
  readonly orderTransitions = new Counter({ name: 'sellout_order_transitions_total', help: 'Order lifecycle events: paid, declined, expired, cancelled', labelNames: ['event'] as const, registers: [this.registry] });

  private readonly collectors: Collector[] = [];
  /** Scrapes of this worker waiting for the other workers' metrics, by request id. */
  private readonly gathering = new Map<number, (reports: MetricsReport[]) => void>();
  private lastRequestId = 0;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sellout_' });
  }

  onModuleInit(): void {
    if (isPoolWorker()) process.on('message', this.onPrimaryMessage);
  }

  onModuleDestroy(): void {
    process.off('message', this.onPrimaryMessage);
    for (const resolve of this.gathering.values()) resolve([]);
    this.gathering.clear();
  }

  /** Runs `collector` before each scrape (e.g. to read stock from Redis into a gauge). */
  addCollector(collector: Collector): void {
    this.collectors.push(collector);
  }

  /** The exposition of a scrape: this process's metrics, or under a primary, every worker's summed. */
  async render(): Promise<string> {
    await Promise.allSettled(this.collectors.map((collector) => collector()));
    if (!isPoolWorker()) return this.registry.metrics();
    const [own, others] = await Promise.all([this.registry.getMetricsAsJSON(), this.otherWorkersMetrics()]);
    const summed = AggregatorRegistry.aggregate([own, ...others]);
    new Gauge({ name: 'sellout_metrics_processes', help: 'Worker processes whose metrics this scrape sums (fewer than WEB_CONCURRENCY while one is replaced)', registers: [summed] }).set(1 + others.length);
    return summed.metrics();
  }

  /** Every other worker's metrics, through the primary; what has not come in time is left out. */
  private otherWorkersMetrics(): Promise<MetricsReport[]> {
    const requestId = ++this.lastRequestId;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish([]), METRICS_GATHER_TIMEOUT_MS * 2);
      const finish = (reports: MetricsReport[]) => {
        clearTimeout(timer);
        this.gathering.delete(requestId);
        resolve(reports);
      };
      this.gathering.set(requestId, finish);
      this.sendToPrimary({ type: 'sellout:metrics:gather', requestId });
    });
  }

  /** This worker's part of another worker's scrape: its own metrics, without those read from Redis. */
  private async report(): Promise<MetricsReport> {
    return (await this.registry.getMetricsAsJSON()).filter((metric) => !READ_FROM_REDIS.has(metric.name));
  }

  private readonly onPrimaryMessage = (message: unknown): void => {
    if (isPoolMessage(message, 'sellout:metrics:gathered')) {
      this.gathering.get(message.requestId)?.(message.reports);
    } else if (isPoolMessage(message, 'sellout:metrics:report')) {
      const { gatheringId } = message;
      this.report().then(
        (metrics) => this.sendToPrimary({ type: 'sellout:metrics:reported', gatheringId, metrics }),
        () => this.sendToPrimary({ type: 'sellout:metrics:reported', gatheringId }),
      );
    }
  };

  private sendToPrimary(message: PoolMessage): void {
    process.send?.(message, undefined, undefined, () => undefined);
  }
}
