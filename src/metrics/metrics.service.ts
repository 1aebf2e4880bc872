import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

type Collector = () => Promise<void> | void;

/**
 * Every Prometheus metric of the service, on one registry (not prom-client's global one, so that tests
 * can build several apps in one process). Gauges whose value lives in Redis are filled by collectors
 * that modules register; they run only when /metrics is scraped.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({ name: 'sellout_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'] as const, registers: [this.registry] });
  readonly httpDuration = new Histogram({
    name: 'sellout_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly purchaseOutcomes = new Counter({ name: 'sellout_purchase_outcomes_total', help: 'Purchase attempts by outcome code (CREATED for accepted)', labelNames: ['code'] as const, registers: [this.registry] });
  readonly purchaseLatency = new Histogram({
    name: 'sellout_purchase_duration_seconds',
    help: 'Hot-path latency of a purchase (admission script round trip included)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });
  readonly stockRemaining = new Gauge({ name: 'sellout_stock_remaining', help: 'Unsold units per sale and pool', labelNames: ['sale', 'pool'] as const, registers: [this.registry] });
  readonly orderWriterLag = new Gauge({ name: 'sellout_order_writer_lag', help: 'Order events not yet persisted (stream entries unread plus pending acknowledgement) per sale', labelNames: ['sale'] as const, registers: [this.registry] });
  readonly orderWriterPersisted = new Counter({ name: 'sellout_order_writer_events_total', help: 'Order events applied to the database by type', labelNames: ['type'] as const, registers: [this.registry] });
  readonly orderWriterParked = new Counter({ name: 'sellout_order_writer_parked_total', help: 'Order events parked after repeated failures (poison messages)', registers: [this.registry] });
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
