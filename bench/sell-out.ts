import autocannon from 'autocannon';
import { errorCodeOf } from '../load-tests/lib/outcomes';
import { ORDER_WRITER_GROUP, RedisKeys } from '../src/redis/redis-keys';
import { commandStatsDelta, type BenchRedis, cpuShare, cpuSnapshot, redisCommandStats, type CommandStats, type CpuShare, type CpuSnapshot } from './cpu-usage';
import { sleep } from './processes';
import { DoubleBuffer, percentiles } from './statistics';
import type { LoadGenerator, Percentiles, PhaseCost, RunResult, Sample } from './types';
import { startWrk, type WrkResult } from './wrk';

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
  redis: BenchRedis;
  keys: RedisKeys;
  saleId: string;
  stock: number;
  reserved: number;
  importSeconds: number;
  /** Epoch ms, on the same clock as the server (same machine). */
  startsAt: number;
  authorizations: string[];
  /** Admission tokens of the same buyers, for a sale with a waiting room (BENCH_ADMISSION=queue). */
  admissionTokens?: string[];
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
  /** What sends the purchases: wrk (a process of its own) or autocannon (in this process). */
  generator: LoadGenerator;
  /** wrk only: the authorizations, one per line, and its threads. */
  tokensFile?: string;
  generatorThreads?: number;
  /** wrk only: where its script writes the counts. */
  scratchDir?: string;
}

interface PurchaseLoad {
  /** The generator's own process, when it has one (its CPU is measured instead of this process's). */
  pid?: number;
  stop(): void;
  done: Promise<unknown>;
}

/** Width of wrk's time buckets: fine enough that the sell-out window's counts are exact to a fraction of a percent. */
const WRK_BUCKET_MS = 10;

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
  /**
   * Readings at the sale's start, when Redis first says it sold out, and at the end of the load: what
   * each party spent on the sell-out (admitted purchases and over-the-limit refusals) and on the
   * sold-out tail (refusals only), and the responses of each.
   */
  private readonly readings: { cpu: CpuSnapshot; commands: CommandStats | null }[] = [];
  private readonly phaseResponses = [0, 0, 0];
  private readonly phaseOutcomes: Record<string, number>[] = [{}, {}, {}];
  private phases: PhaseCost[] = [];
  /** The first error a sample met (the run goes on; the report shows fewer samples). */
  samplingError: string | undefined;
  private sampler: NodeJS.Timeout | undefined;
  private idempotencySequence = 0;
  /** wrk's latency over its whole run (it has none per response). */
  private wrkLatency: Percentiles | null = null;
  /** Buyers over the per-user limit, as wrk counted them (autocannon's are counted below, per buyer). */
  private limitBreaches = 0;
  private readonly keyPrefix = `bench-${process.pid}-${Date.now().toString(36)}-`;

  constructor(private readonly options: SellOutOptions) {
    this.acceptedPerBuyer = new Uint16Array(options.authorizations.length);
  }

  /** Runs the load until the sale sells out (plus the tail) or the run's time limit, then stops it. */
  async run(): Promise<void> {
    const options = this.options;
    await sleep(Math.max(0, options.startsAt - options.warmupMs - Date.now()));
    const purchases = options.generator === 'wrk' ? this.startWrkPurchases() : this.startAutocannonPurchases();
    const cpuBefore = await cpuSnapshot(options.serverPid, options.redis, options.writerPid, purchases.pid);
    const reading = async () => ({ cpu: await cpuSnapshot(options.serverPid, options.redis, options.writerPid, purchases.pid), commands: await redisCommandStats(options.redis) });
    const atStart = setTimeout(() => void reading().then((taken) => (this.readings[0] ??= taken)), Math.max(0, options.startsAt - Date.now()));
    this.onRedisSoldOut = () => void reading().then((taken) => (this.readings[1] ??= taken));
    this.lastSampleAt = Date.now();
    this.sampler = setInterval(() => {
      this.sample().catch((error: unknown) => {
        this.samplingError ??= error instanceof Error ? error.message : String(error);
      });
    }, options.sampleIntervalMs);

    const polls = options.pollRate > 0 ? this.startPolls() : undefined;
    const deadline = options.startsAt + options.maxRunMs;
    for (;;) {
      const now = Date.now();
      if (this.soldOutAt !== null && now >= this.soldOutAt + options.soldOutTailMs) break;
      // Redis says sold out but the last 201 never arrived (a lost answer): no point waiting for it. wrk
      // tells its 201s only at the end, so with it Redis is what says the sale sold out.
      const grace = options.generator === 'wrk' ? 0 : 2000;
      if (this.redisSoldOutAt !== null && now >= this.redisSoldOutAt + options.soldOutTailMs + grace) break;
      if (now >= deadline) break;
      await sleep(20);
    }
    // Before stopping: a stopped wrk's CPU time is gone with its process.
    clearTimeout(atStart);
    const cpuAfter = await cpuSnapshot(options.serverPid, options.redis, options.writerPid, purchases.pid);
    const commandsAfter = await redisCommandStats(options.redis);
    purchases.stop();
    polls?.instance.stop();
    const [generated] = await Promise.all([purchases.done, polls?.done]);
    if (options.generator === 'wrk') this.takeWrkResult(generated as WrkResult);
    const responses = Object.values(this.totals).reduce((sum, count) => sum + count, 0) + Object.values(this.pollTotals).reduce((sum, count) => sum + count, 0);
    this.cpu = cpuShare(cpuBefore, cpuAfter, responses);
    const [start, soldOut] = this.readings;
    const end = { cpu: cpuAfter, commands: commandsAfter };
    if (start && soldOut) this.phases = [phaseCost('sellOut', start, soldOut, this.phaseResponses[1], this.phaseOutcomes[1]), phaseCost('soldOutTail', soldOut, end, this.phaseResponses[2], this.phaseOutcomes[2])];
  }

  /** The CPU reading at the sale's start (null if the load ended before it). */
  get startCpu(): CpuSnapshot | null {
    return this.readings[0]?.cpu ?? null;
  }

  /** Called once, when a sample first sees the sale sold out in Redis. */
  private onRedisSoldOut: () => void = () => undefined;

  /** The phase a response at `at` belongs to: 0 before the start, 1 the sell-out, 2 the sold-out tail. */
  private phaseOf(at: number): number {
    const soldOutReading = this.readings[1];
    if (soldOutReading && at >= soldOutReading.cpu.at) return 2;
    const startReading = this.readings[0];
    return startReading && at >= startReading.cpu.at ? 1 : 0;
  }

  private countPhase(at: number, outcome: string, responses: number): void {
    const phase = this.phaseOf(at);
    this.phaseResponses[phase] += responses;
    this.phaseOutcomes[phase][outcome] = (this.phaseOutcomes[phase][outcome] ?? 0) + responses;
  }

  private startWrkPurchases(): PurchaseLoad {
    const options = this.options;
    if (!options.tokensFile || !options.scratchDir) throw new Error('wrk needs a tokens file and a scratch folder');
    const run = startWrk({
      url: options.baseUrl,
      path: `/api/sales/${options.saleId}/purchase`,
      connections: options.connections,
      threads: options.generatorThreads ?? 1,
      durationSeconds: (options.maxRunMs + options.warmupMs) / 1000 + 5,
      tokensFile: options.tokensFile,
      idempotencyKeys: options.idempotencyKeys,
      keyPrefix: this.keyPrefix,
      resultFile: `${options.scratchDir}/wrk-${options.target}-${options.run}-${Date.now()}.json`,
      bucketMs: WRK_BUCKET_MS,
    });
    return { pid: run.pid, stop: () => run.stop(), done: run.done };
  }

  /**
   * wrk's counts, taken as if they had arrived one by one: the outcome totals, those of the sell-out
   * window (up to the last 201), the 201s per buyer, and the samples' responses per second. It has no
   * latency per response: its histogram covers the whole run.
   */
  private takeWrkResult(result: WrkResult): void {
    const options = this.options;
    this.accepted = result.created;
    this.soldOutAt = result.created >= options.stock ? result.lastCreatedMs : null;
    const windowEnd = this.soldOutAt ?? options.startsAt + options.maxRunMs;
    const buckets = [...result.buckets].sort((left, right) => left[0] - right[0]);
    for (const [at, outcome, responses] of buckets) {
      this.totals[outcome] = (this.totals[outcome] ?? 0) + responses;
      // Buckets are 10 ms wide: a bucket counts in the phase its middle falls in.
      this.countPhase(at + WRK_BUCKET_MS / 2, outcome, responses);
      if (at >= options.startsAt && at <= windowEnd) {
        this.windowTotals[outcome] = (this.windowTotals[outcome] ?? 0) + responses;
        this.windowRequests += responses;
      }
    }
    const lost = result.errors.connect + result.errors.read + result.errors.write + result.errors.timeout;
    if (lost > 0) this.totals.NO_RESPONSE = (this.totals.NO_RESPONSE ?? 0) + lost;
    this.limitBreaches = result.createdPerBuyer.reduce((sum, [created, buyers]) => sum + (created > options.perUserLimit ? buyers : 0), 0);
    const toMs = (microseconds: number) => microseconds / 1000;
    this.wrkLatency = { count: result.latencyUs.count, p50: toMs(result.latencyUs.p50), p90: toMs(result.latencyUs.p90), p99: toMs(result.latencyUs.p99), max: toMs(result.latencyUs.max) };
    // Each sample's interval gets the responses wrk saw in it.
    let index = 0;
    let created = 0;
    let previous = Number.NEGATIVE_INFINITY;
    for (const sample of this.samples) {
      const until = options.startsAt + sample.t;
      const counts: Record<string, number> = {};
      while (index < buckets.length && buckets[index][0] < until) {
        const [, outcome, responses] = buckets[index];
        counts[outcome] = (counts[outcome] ?? 0) + responses;
        if (outcome === 'CREATED') created += responses;
        index += 1;
      }
      const seconds = Number.isFinite(previous) ? Math.max(0.001, (until - previous) / 1000) : options.sampleIntervalMs / 1000;
      sample.rps = Object.fromEntries(Object.entries(counts).map(([outcome, responses]) => [outcome, responses / seconds]));
      sample.accepted = created;
      previous = until;
    }
  }

  private startAutocannonPurchases(): PurchaseLoad {
    const options = this.options;
    const pool = options.authorizations;
    const admissions = options.admissionTokens;
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
              if (admissions) request.headers['admission-token'] = admissions[buyer];
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
    return { stop: () => instance.stop(), done: finished };
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
    this.countPhase(now, outcome, 1);
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
      if (generalRemaining + fcodeRemaining <= 0 && this.redisSoldOutAt === null && now >= this.options.startsAt) {
        this.redisSoldOutAt = now;
        this.onRedisSoldOut();
      }
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
    let limitBreaches = this.limitBreaches;
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
      latency: options.generator === 'wrk' ? { sellOut: null, all: this.wrkLatency } : { sellOut: percentiles(this.sellOutLatencies.view()), all: percentiles(this.allLatencies.view()) },
      generator: options.generator,
      limitBreaches,
      clientOversold: Math.max(0, this.accepted - options.stock),
      cpu: this.cpu,
      phases: this.phases,
      samples: this.samples,
    };
  }
}

/** What the parties spent between two readings, per response of that phase. */
function phaseCost(name: PhaseCost['name'], from: { cpu: CpuSnapshot; commands: CommandStats | null }, to: { cpu: CpuSnapshot; commands: CommandStats | null }, responses: number, byOutcome: Record<string, number>): PhaseCost {
  const share = cpuShare(from.cpu, to.cpu);
  const perResponse = (cores: number | null | undefined) => (cores === null || cores === undefined || responses === 0 ? null : (cores * share.wallSeconds * 1e6) / responses);
  return {
    name,
    seconds: share.wallSeconds,
    responses,
    byOutcome,
    serverMicrosPerResponse: perResponse(share.serverCores === null ? null : share.serverCores + (share.writerCores ?? 0)),
    serverMainMicrosPerResponse: perResponse(share.serverMainCores),
    redisMicrosPerResponse: perResponse(share.redisCores),
    generatorCores: share.generatorCores,
    redisCommands: from.commands && to.commands ? commandStatsDelta(from.commands, to.commands).slice(0, 8) : [],
  };
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
