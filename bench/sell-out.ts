import autocannon from 'autocannon';
import type Redis from 'ioredis';
import { errorCodeOf } from '../load-tests/lib/outcomes';
import { ORDER_WRITER_GROUP, RedisKeys } from '../src/redis/redis-keys';
import { cpuShare, cpuSnapshot, type CpuShare, type CpuSnapshot } from './cpu-usage';
import { sleep } from './processes';
import { DoubleBuffer, percentiles } from './statistics';
import type { Percentiles, RunResult, Sample } from './types';

/**
 * One sell-out under load: purchases from `connections` keep-alive connections (each request from a
 * random buyer of the token pool), optionally waiting buyers polling the sale view at `pollRate`, and a
 * sampler reading the sale's Redis state every `sampleIntervalMs`. Buyers start clicking `warmupMs`
 * before the start (and get SALE_NOT_STARTED), as eager buyers do, so the load is at full strength
 * when the sale opens.
 */
export interface SellOutOptions {
  target: 'service' | 'baseline';
  run: number;
  baseUrl: string;
  redis: Redis;
  keys: RedisKeys;
  saleId: string;
  stock: number;
  reserved: number;
  importSeconds: number;
  /** Epoch ms, on the same clock as the server (same machine). */
  startsAt: number;
  authorizations: string[];
  perUserLimit: number;
  connections: number;
  warmupMs: number;
  pollRate: number;
  pollConnections: number;
  idempotencyKeys: boolean;
  sampleIntervalMs: number;
  soldOutTailMs: number;
  maxRunMs: number;
  /** The server under test, for its CPU time. */
  serverPid: number;
  /** The standalone order writer, if any (its CPU is part of the service's cost). */
  writerPid?: number;
}

type LatencyBucket = 'warmup' | 'sellOut' | 'tail';

export class SellOutLoad {
  private readonly totals: Record<string, number> = {};
  private readonly windowTotals: Record<string, number> = {};
  private readonly pollTotals: Record<string, number> = {};
  private intervalCounts: Record<string, number> = {};
  private readonly intervalLatencies = new DoubleBuffer();
  private readonly sellOutLatencies = new DoubleBuffer();
  private readonly allLatencies = new DoubleBuffer();
  private readonly pollLatencies = new DoubleBuffer();
  private readonly acceptedPerBuyer: Uint16Array;
  private readonly samples: Sample[] = [];
  private accepted = 0;
  private windowRequests = 0;
  private soldOutAt: number | null = null;
  /** When a sample first saw both pools empty in Redis. */
  private redisSoldOutAt: number | null = null;
  private lastBucket: LatencyBucket = 'warmup';
  private lastSampleAt = 0;
  private sampling = false;
  private cpu: CpuShare | null = null;
  /** The first error a sample met (the run goes on; the report shows fewer samples). */
  samplingError: string | undefined;
  private sampler: NodeJS.Timeout | undefined;
  private idempotencySequence = 0;
  private readonly keyPrefix = `bench-${process.pid}-${Date.now().toString(36)}-`;

  constructor(private readonly options: SellOutOptions) {
    this.acceptedPerBuyer = new Uint16Array(options.authorizations.length);
  }

  /** Runs the load until the sale sells out (plus the tail) or the run's time limit, then stops it. */
  async run(): Promise<void> {
    const options = this.options;
    await sleep(Math.max(0, options.startsAt - options.warmupMs - Date.now()));
    const cpuBefore = await cpuSnapshot(options.serverPid, options.redis, options.writerPid);
    this.lastSampleAt = Date.now();
    this.sampler = setInterval(() => {
      this.sample().catch((error: unknown) => {
        this.samplingError ??= error instanceof Error ? error.message : String(error);
      });
    }, options.sampleIntervalMs);

    const purchases = this.startPurchases();
    const polls = options.pollRate > 0 ? this.startPolls() : undefined;
    const deadline = options.startsAt + options.maxRunMs;
    for (;;) {
      const now = Date.now();
      if (this.soldOutAt !== null && now >= this.soldOutAt + options.soldOutTailMs) break;
      // Redis says sold out but the last 201 never arrived (a lost answer): no point waiting for it.
      if (this.redisSoldOutAt !== null && now >= this.redisSoldOutAt + options.soldOutTailMs + 2000) break;
      if (now >= deadline) break;
      await sleep(20);
    }
    purchases.instance.stop();
    polls?.instance.stop();
    const responses = Object.values(this.totals).reduce((sum, count) => sum + count, 0) + Object.values(this.pollTotals).reduce((sum, count) => sum + count, 0);
    this.cpu = cpuShare(cpuBefore, await cpuSnapshot(options.serverPid, options.redis, options.writerPid), responses);
    await Promise.all([purchases.done, polls?.done]);
  }

  private startPurchases(): { instance: autocannon.Instance; done: Promise<unknown> } {
    const options = this.options;
    const pool = options.authorizations;
    const body = JSON.stringify({ quantity: 1 });
    let done!: (value: unknown) => void;
    const finished = new Promise((resolve) => (done = resolve));
    const instance = autocannon(
      {
        url: options.baseUrl,
        connections: options.connections,
        pipelining: 1,
        timeout: 30,
        duration: (options.maxRunMs + options.warmupMs) / 1000 + 5,
        sampleInt: 50,
        requests: [
          {
            method: 'POST',
            path: `/api/sales/${options.saleId}/purchase`,
            headers: { 'content-type': 'application/json' },
            body,
            setupRequest: (request: any, context: any) => {
              const buyer = Math.floor(Math.random() * pool.length);
              context.buyer = buyer;
              request.headers.authorization = pool[buyer];
              if (options.idempotencyKeys) {
                this.idempotencySequence += 1;
                request.headers['idempotency-key'] = this.keyPrefix + this.idempotencySequence;
              }
              return request;
            },
            onResponse: (status: number, responseBody: string, context: any) => this.onPurchase(status, responseBody, context.buyer as number),
          },
        ],
      },
      (error, result) => done(error ?? result),
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => this.onLatency(responseTime));
    instance.on('reqError', () => this.count('NO_RESPONSE', Date.now()));
    return { instance, done: finished };
  }

  private startPolls(): { instance: autocannon.Instance; done: Promise<unknown> } {
    const options = this.options;
    let done!: (value: unknown) => void;
    const finished = new Promise((resolve) => (done = resolve));
    const instance = autocannon(
      {
        url: `${options.baseUrl}/api/sales/${options.saleId}`,
        connections: options.pollConnections,
        overallRate: options.pollRate,
        timeout: 30,
        duration: (options.maxRunMs + options.warmupMs) / 1000 + 5,
        sampleInt: 50,
      },
      (error, result) => done(error ?? result),
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
      const outcome = status === 200 ? 'POLL' : `POLL_${status}`;
      this.pollTotals[outcome] = (this.pollTotals[outcome] ?? 0) + 1;
      this.intervalCounts[outcome] = (this.intervalCounts[outcome] ?? 0) + 1;
      this.pollLatencies.push(responseTime);
    });
    return { instance, done: finished };
  }

  private count(outcome: string, now: number): void {
    this.totals[outcome] = (this.totals[outcome] ?? 0) + 1;
    this.intervalCounts[outcome] = (this.intervalCounts[outcome] ?? 0) + 1;
    if (now >= this.options.startsAt && this.soldOutAt === null) {
      this.windowTotals[outcome] = (this.windowTotals[outcome] ?? 0) + 1;
      this.windowRequests += 1;
    }
  }

  private onPurchase(status: number, body: string, buyer: number): void {
    const now = Date.now();
    const outcome = status === 201 ? 'CREATED' : (errorCodeOf(body) ?? `HTTP_${status}`);
    // The latency of this response arrives right after (same tick): remember which part of the run it belongs to.
    this.lastBucket = now < this.options.startsAt ? 'warmup' : this.soldOutAt === null ? 'sellOut' : 'tail';
    this.count(outcome, now);
    if (status === 201) {
      this.accepted += 1;
      this.acceptedPerBuyer[buyer] += 1;
      if (this.accepted === this.options.stock) this.soldOutAt = now;
    }
  }

  private onLatency(milliseconds: number): void {
    this.intervalLatencies.push(milliseconds);
    this.allLatencies.push(milliseconds);
    if (this.lastBucket === 'sellOut') this.sellOutLatencies.push(milliseconds);
  }

  /** Reads the sale's counters and the order writer's backlog from Redis, and closes the interval. */
  async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const keys = this.options.keys.forSale(this.options.saleId);
      const [[saleError, sale], [groupsError, groups], [, streamLength]] = (await this.options.redis
        .pipeline()
        .hmget(keys.sale, 'unitsSold', 'generalRemaining', 'fcodeRemaining')
        .xinfo('GROUPS', keys.events)
        .xlen(keys.events)
        .exec()) as [Error | null, unknown][];
      if (saleError) throw saleError;
      const [unitsSold, generalRemaining, fcodeRemaining] = (sale as (string | null)[]).map((value) => Number(value ?? 0));
      const now = Date.now();
      if (generalRemaining + fcodeRemaining <= 0 && this.redisSoldOutAt === null && now >= this.options.startsAt) this.redisSoldOutAt = now;
      const elapsedSeconds = Math.max(0.001, (now - this.lastSampleAt) / 1000);
      const rps: Record<string, number> = {};
      for (const [outcome, count] of Object.entries(this.intervalCounts)) rps[outcome] = count / elapsedSeconds;
      this.samples.push({
        t: now - this.options.startsAt,
        unitsSold,
        remaining: generalRemaining + fcodeRemaining,
        accepted: this.accepted,
        writerLag: writerLagOf(groupsError ? undefined : groups, Number(streamLength ?? 0)),
        rps,
        latency: percentiles(this.intervalLatencies.view()),
      });
      this.intervalCounts = {};
      this.intervalLatencies.clear();
      this.lastSampleAt = now;
    } finally {
      this.sampling = false;
    }
  }

  /** Keeps sampling (the writer's lag draining) until `stopSampling`. */
  async stopSampling(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    while (this.sampling) await sleep(5);
    await this.sample();
  }

  get soldOutTime(): number | null {
    return this.soldOutAt;
  }

  get acceptedCount(): number {
    return this.accepted;
  }

  result(): Omit<RunResult, 'persist' | 'stockCheck'> & { cpu: CpuShare | null } {
    const options = this.options;
    const sellOutMs = this.soldOutAt === null ? null : this.soldOutAt - options.startsAt;
    const windowSeconds = Math.max(0.001, (sellOutMs ?? options.maxRunMs) / 1000);
    const created = this.windowTotals.CREATED ?? 0;
    let limitBreaches = 0;
    for (const count of this.acceptedPerBuyer) if (count > options.perUserLimit) limitBreaches += 1;
    const pollRequests = Object.values(this.pollTotals).reduce((sum, count) => sum + count, 0);
    return {
      run: options.run,
      target: options.target,
      saleId: options.saleId,
      stock: options.stock,
      reserved: options.reserved,
      importSeconds: options.importSeconds,
      sellOutMs,
      sellOutWindow: {
        requests: this.windowRequests,
        byOutcome: { ...this.windowTotals },
        requestsPerSecond: this.windowRequests / windowSeconds,
        acceptedPerSecond: created / windowSeconds,
        rejectedPerSecond: (this.windowRequests - created) / windowSeconds,
      },
      byOutcome: { ...this.totals },
      polls: { requests: pollRequests, byOutcome: { ...this.pollTotals }, latency: percentiles(this.pollLatencies.view()) },
      latency: { sellOut: percentiles(this.sellOutLatencies.view()), all: percentiles(this.allLatencies.view()) },
      limitBreaches,
      clientOversold: Math.max(0, this.accepted - options.stock),
      cpu: this.cpu,
      samples: this.samples,
    };
  }
}

/**
 * Unread plus unacknowledged entries of the order writers' group (XINFO GROUPS `lag` + `pending`); the
 * whole stream while the group does not exist yet. Null when Redis cannot tell (lag is unknown after
 * some deletions).
 */
export function writerLagOf(groups: unknown, streamLength: number): number | null {
  if (!Array.isArray(groups)) return streamLength;
  for (const group of groups as unknown[][]) {
    const fields: Record<string, unknown> = {};
    for (let index = 0; index + 1 < group.length; index += 2) fields[String(group[index])] = group[index + 1];
    if (fields.name !== ORDER_WRITER_GROUP) continue;
    if (fields.lag === null || fields.lag === undefined) return null;
    return Number(fields.lag) + Number(fields.pending ?? 0);
  }
  return streamLength;
}

export type { CpuSnapshot, Percentiles };
