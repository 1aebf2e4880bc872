import type { StockCheck } from '../load-tests/lib/invariants';

/** Shapes of a benchmark run as written to `bench/results/<date>.json` and drawn by the HTML report. */

export type BenchMode = 'full' | 'purchase' | 'smoke';

/** What sends the purchases: wrk when it is installed, autocannon otherwise (LOAD_GENERATOR). */
export type LoadGenerator = 'wrk' | 'autocannon';

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** One ~200 ms sample of a sell-out. `t` is milliseconds since the sale's start (negative while buyers wait). */
export interface Sample {
  t: number;
  /** From the sale's Redis hash. */
  unitsSold: number;
  remaining: number;
  /** 201s the load generator has received so far. */
  accepted: number;
  /** Order events not yet persisted: the writer group's unread entries plus those pending acknowledgement. */
  writerLag: number | null;
  /** Responses per second in this interval, by outcome (`CREATED`, `SOLD_OUT`, …, `POLL` for sale views). */
  rps: Record<string, number>;
  /** Purchase latency in this interval, ms. */
  latency: Percentiles | null;
}

export interface PersistResult {
  ordersAccepted: number;
  ordersPersisted: number;
  /** When the last accepted order was in the database, ms after the sell-out (null: not within the timeout). */
  lastLandedAfterSellOutMs: number | null;
}

export interface RunResult {
  run: number;
  target: 'service' | 'baseline';
  /** The service's Redis in this run (BENCH_REDIS); absent on the baseline, which always uses one server. */
  redisTopology?: 'node' | 'cluster';
  saleId: string;
  stock: number;
  reserved: number;
  importSeconds: number;
  /** From the sale's start to the 201 for the last unit (null: it did not sell out within the run's limit). */
  sellOutMs: number | null;
  /** Purchase responses from the start to the sell-out, by outcome. */
  sellOutWindow: { requests: number; byOutcome: Record<string, number>; requestsPerSecond: number; acceptedPerSecond: number; rejectedPerSecond: number };
  /** Every purchase response of the run (warm-up and sold-out tail included), by outcome. */
  byOutcome: Record<string, number>;
  polls: { requests: number; byOutcome: Record<string, number>; latency: Percentiles | null };
  /** `sellOut` is null under wrk, whose latency histogram (`all`) covers the whole run. */
  latency: { sellOut: Percentiles | null; all: Percentiles | null };
  /** Buyers who got more 201s than the per-user limit allows (must be 0). */
  limitBreaches: number;
  /** 201s beyond the stock, counted by the load generator (must be 0). */
  clientOversold: number;
  persist: PersistResult | null;
  stockCheck: StockCheck | null;
  /** Cores busy from the first click to the end of the load: the server, Redis, the load generator (and the harness, when the generator is wrk). */
  cpu: {
    wallSeconds: number;
    serverCores: number | null;
    redisCores: number | null;
    generatorCores: number | null;
    harnessCores?: number;
    writerCores?: number | null;
    serverMicrosPerResponse?: number | null;
  } | null;
  /**
   * The order writer's CPU per persisted order, from the sale's start until the last order landed: its
   * process's (BENCH_WRITER=process) or the service's threads but the main one (on its thread).
   */
  writer?: { microsPerOrder: number; measuredAs: 'process' | 'other threads' } | null;
  /** What the sell-out and its sold-out tail each cost (absent when Redis never said sold out). */
  phases?: PhaseCost[];
  /** The purchase load generator of this run (older results: autocannon). */
  generator?: LoadGenerator;
  samples: Sample[];
}

/**
 * A phase of a run, from one reading of the parties' CPU to the next: `sellOut` from the sale's start to
 * the moment a sample saw it sold out in Redis (admitted purchases and over-the-limit refusals), then
 * `soldOutTail` to the end of the load (refusals only).
 */
export interface PhaseCost {
  name: 'sellOut' | 'soldOutTail';
  seconds: number;
  responses: number;
  byOutcome: Record<string, number>;
  /** Whole server process (writer included), µs per response of the phase. */
  serverMicrosPerResponse: number | null;
  /** The server's main thread alone (no order-writer thread, no GC helper threads). */
  serverMainMicrosPerResponse: number | null;
  redisMicrosPerResponse: number | null;
  generatorCores: number | null;
  /** Redis `INFO commandstats` over the phase, busiest first (scripts: `evalsha`). */
  redisCommands: { command: string; calls: number; usecPerCall: number }[];
}

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export interface TargetResult {
  name: string;
  target: string;
  value: string;
  met: boolean;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  redis: string;
  database: string;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
}

export interface BenchResult {
  mode: BenchMode;
  command: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  settings: Record<string, string | number | boolean>;
  runs: RunResult[];
  /** Every baseline run: one after each service run when BASELINE_EACH_RUN is on, else one at the end. */
  baselines: RunResult[];
  /** The baseline run with the median throughput (the one the report draws), or null without any. */
  baseline: RunResult | null;
  aggregate: {
    sellOutMs: Spread | null;
    requestsPerSecond: Spread | null;
    acceptedPerSecond: Spread | null;
    p99Ms: Spread | null;
    /** Service purchase requests/s during the sell-out divided by the baseline's (medians over the runs). */
    baselineRatio: number | null;
    /** Baseline CPU per response divided by the service's (medians over the runs): the same ratio, measured in CPU time. */
    cpuCostRatio: number | null;
  };
  targets: TargetResult[];
  /** Where the service's CPU time went during the first sell-out (BENCH_CPU_PROFILE=true). */
  profile?: { file: string; seconds: number; byArea: { name: string; percent: number }[]; byFunction: { name: string; percent: number }[] } | null;
  /** The same for the first baseline sell-out. */
  baselineProfile?: BenchResult['profile'];
  /** Correctness failures (oversold, broken stock equation, lost orders): any makes the command exit non-zero. */
  failures: string[];
  totalSeconds: number;
}
