import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { HotCounter, HotHistogram } from './hot-metrics';

type Collector = () => Promise<void> | void;

/**
 * Every Prometheus metric of the service, on one registry (not prom-client's global one, so that tests
 * can build several apps in one process). Gauges whose value lives in Redis are filled by collectors
 * that modules register; they run only when /metrics is scraped.
 */
@Injectable()
export class MetricsService {
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
  readonly stockRemaining = new Gauge({ name: 'sellout_stock_remaining', help: 'Unsold units per sale and pool', labelNames: ['sale', 'pool'] as const, registers: [this.registry] });
  readonly orderWriterLag = new Gauge({ name: 'sellout_order_writer_lag', help: 'Order events not yet persisted (stream entries unread plus pending acknowledgement) per sale', labelNames: ['sale'] as const, registers: [this.registry] });
  readonly orderWriterPersisted = new Counter({ name: 'sellout_order_writer_events_total', help: 'Order events applied to the database by type', labelNames: ['type'] as const, registers: [this.registry] });
  readonly orderWriterParked = new Counter({ name: 'sellout_order_writer_parked_total', help: 'Order events parked: unreadable, failing after repeated deliveries, or of a sale this database does not hold', registers: [this.registry] });
  readonly orderTransitions = new Counter({ name: 'sellout_order_transitions_total', help: 'Order lifecycle events: paid, declined, expired, cancelled', labelNames: ['event'] as const, registers: [this.registry] });

  private readonly collectors: Collector[] = [];

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sellout_' });
  }

  /** Runs `collector` before each scrape (e.g. to read stock from Redis into a gauge). */
  addCollector(collector: Collector): void {
    this.collectors.push(collector);
  }

  async render(): Promise<string> {
    await Promise.allSettled(this.collectors.map((collector) => collector()));
    return this.registry.metrics();
  }
}
