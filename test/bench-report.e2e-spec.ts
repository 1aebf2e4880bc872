import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuShare, processCpuSeconds, redisCommandStats, redisCpuSeconds } from '../bench/cpu-usage';
import { benchNodeFlags, SERVER_NODE_FLAGS } from '../bench/processes';
import { areaOf, summarizeProfile } from '../bench/profile-summary';
import { lineChart, niceTicks, renderReport } from '../bench/report';
import { writerLagOf } from '../bench/sell-out';
import { benchSettings, redisTopology } from '../bench/settings';
import { percentile, percentiles, spread } from '../bench/statistics';
import { aggregateRuns, evaluateTargets, failuresOf, medianRun, oneLineSummary, runLine } from '../bench/summary';
import { distinctIndexes, mintToken } from '../bench/tokens';
import type { BenchResult, RunResult } from '../bench/types';
import { startRedisCluster } from './support/test-services';
import * as jwt from 'jsonwebtoken';

// The benchmark's pure parts, on a recorded `npm run bench:smoke` result: if the report generation or
// the summaries rot, this fails without anyone having to run a benchmark.
const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'bench', 'fixtures', 'smoke-result.json'), 'utf8')) as BenchResult;
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe('benchmark report', () => {
  describe('renderReport', () => {
    const html = renderReport(fixture);

    it('is one self-contained page: no script, no external asset', () => {
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html).not.toMatch(/<script/i);
      expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
      expect(html).not.toMatch(/<link/i);
    });

    it('draws the sell-out curve, and rps, latency and writer lag for each run', () => {
      expect(html).toContain('Sell-out curve: units sold since the start');
      expect(html).toContain('Responses per second by outcome (run 1)');
      expect(html).toContain('Purchase latency percentiles (run 1)');
      expect(html).toContain('Order-writer lag: accepted orders not yet in the database (run 1)');
      expect(html).toContain('Responses per second by outcome (baseline)');
      expect(html.match(/<svg /g)).toHaveLength(6);
    });

    it('plots every sample of the sell-out from the start on', () => {
      const curve = /<svg[^]*?Sell-out curve[^]*?<\/svg>/.exec(html)?.[0] ?? '';
      const firstPath = /<path d="([^"]+)"/.exec(curve)?.[1] ?? '';
      const sinceStart = fixture.runs[0].samples.filter((sample) => sample.t >= 0).length;
      expect(firstPath.match(/[ML]/g)).toHaveLength(sinceStart);
    });

    it('lists the targets, the runs and the settings it was run with', () => {
      for (const target of fixture.targets) expect(html).toContain(target.name);
      expect(html).toContain(`<td>run 1</td><td>${((fixture.runs[0].sellOutMs as number) / 1000).toFixed(2)} s</td>`);
      expect(html).toContain('<td>baseline</td>');
      expect(html).toContain('<td>connections</td><td>32</td>');
      expect(html).toContain('No oversold unit, the stock equation held');
    });

    it('shows correctness failures instead of the all-clear', () => {
      const failed = copy(fixture);
      failed.failures = ['run 1: 3 unit(s) oversold <script>'];
      const page = renderReport(failed);
      expect(page).toContain('Correctness failures');
      expect(page).toContain('run 1: 3 unit(s) oversold &lt;script&gt;');
      expect(page).not.toContain('No oversold unit');
    });

    it('adds the CPU profile when one was taken', () => {
      const profiled = copy(fixture);
      profiled.profile = { file: 'x.cpuprofile', seconds: 7.5, byArea: [{ name: 'ioredis', percent: 12.5 }], byFunction: [{ name: 'verify token.service:20', percent: 9 }] };
      expect(renderReport(profiled)).toContain('<td>ioredis</td><td>12.5%</td>');
    });
  });

  describe('lineChart', () => {
    it('says so when there is nothing to draw', () => {
      expect(lineChart({ title: 'Empty', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', color: '#000', points: [] }] })).toContain('no data');
    });

    it('escapes titles and series names', () => {
      const svg = lineChart({ title: 'a < b', xLabel: 'x', yLabel: 'y', series: [{ name: '"quoted"', color: '#000', points: [[0, 1], [1, 2]] }] });
      expect(svg).toContain('a &lt; b');
      expect(svg).toContain('&quot;quoted&quot;');
    });
  });

  describe('niceTicks', () => {
    it('steps by 1, 2 or 5 times a power of ten and covers the range', () => {
      expect(niceTicks(0, 100_000)).toEqual([0, 20_000, 40_000, 60_000, 80_000, 100_000]);
      expect(niceTicks(-0.5, 8.7)).toEqual([0, 2, 4, 6, 8]);
      expect(niceTicks(3, 3)).toEqual([3, 3.2, 3.4, 3.6, 3.8, 4]);
    });
  });
});

describe('benchmark summaries', () => {
  it('aggregates, targets and failures match what the run recorded', () => {
    expect(aggregateRuns(fixture.runs, fixture.baselines)).toEqual(fixture.aggregate);
    expect(evaluateTargets(fixture, fixture.runs[0].stock)).toEqual(fixture.targets);
    expect(failuresOf(fixture.runs, fixture.baselines)).toEqual([]);
  });

  it('compares the service with the baseline by purchase requests per second', () => {
    const aggregate = aggregateRuns(fixture.runs, fixture.baselines);
    expect(aggregate.baselineRatio).toBeCloseTo(fixture.runs[0].sellOutWindow.requestsPerSecond / (fixture.baseline as RunResult).sellOutWindow.requestsPerSecond, 10);
    expect(aggregateRuns(fixture.runs, []).baselineRatio).toBeNull();
  });

  it('compares medians when the baseline ran after every service run, and draws the median baseline', () => {
    const withRate = (run: RunResult, target: RunResult['target'], index: number, requestsPerSecond: number, micros: number): RunResult => {
      const copied = copy(run);
      Object.assign(copied, { target, run: index });
      copied.sellOutWindow.requestsPerSecond = requestsPerSecond;
      if (copied.cpu) copied.cpu.serverMicrosPerResponse = micros;
      return copied;
    };
    const service = [withRate(fixture.runs[0], 'service', 1, 600, 150), withRate(fixture.runs[0], 'service', 2, 700, 140), withRate(fixture.runs[0], 'service', 3, 500, 160)];
    const baseline = fixture.baseline as RunResult;
    const baselines = [withRate(baseline, 'baseline', 1, 1000, 100), withRate(baseline, 'baseline', 2, 800, 120), withRate(baseline, 'baseline', 3, 900, 110)];
    const aggregate = aggregateRuns(service, baselines);
    expect(aggregate.baselineRatio).toBeCloseTo(600 / 900, 10);
    expect(aggregate.cpuCostRatio).toBeCloseTo(110 / 150, 10);
    expect(medianRun(baselines)?.run).toBe(3);
    expect(medianRun([])).toBeNull();
    const oversold = copy(baselines[1]);
    oversold.clientOversold = 1;
    expect(failuresOf(service, [baselines[0], oversold])).toEqual(['baseline 2: 1 unit(s) oversold']);
  });

  describe('failuresOf', () => {
    const withRun = (change: (run: RunResult) => void) => {
      const run = copy(fixture.runs[0]);
      change(run);
      return failuresOf([run], []);
    };

    it('fails on units oversold, seen by the client or by the stats', () => {
      expect(withRun((run) => (run.clientOversold = 2))).toEqual(['run 1: 2 unit(s) oversold']);
      expect(withRun((run) => run.stockCheck && (run.stockCheck.oversold = 1))).toEqual(['run 1: 1 unit(s) oversold']);
    });

    it('fails on a broken stock equation', () => {
      expect(withRun((run) => run.stockCheck && Object.assign(run.stockCheck, { equationHolds: false, violations: ['stock equation broken: …'] }))).toEqual(['run 1: stock equation broken (stock equation broken: …)']);
    });

    it('fails on a buyer past the limit, on lost orders and on unexpected answers', () => {
      expect(withRun((run) => (run.limitBreaches = 1))).toEqual(['run 1: 1 buyer(s) got more than the per-user limit']);
      expect(withRun((run) => run.persist && (run.persist.ordersPersisted -= 1))).toEqual(['run 1: 1999 of 2000 accepted orders in the database']);
      expect(withRun((run) => (run.byOutcome.HTTP_500 = 4))).toEqual(['run 1: unexpected responses HTTP_500×4']);
      expect(withRun((run) => (run.polls.byOutcome.POLL_503 = 1))).toEqual(['run 1: unexpected sale-view responses POLL_503×1']);
    });
  });

  it('prints a line per run and a one-line summary', () => {
    const run = fixture.runs[0];
    const sellOut = ((run.sellOutMs as number) / 1000).toFixed(2);
    expect(runLine(run, 1)).toContain(`run 1/1  sold 2,000 in ${sellOut} s: ${Math.round(run.sellOutWindow.requestsPerSecond).toLocaleString('en-US')} req/s`);
    expect(runLine(run, 1)).toMatch(/; oversold 0; persisted 2,000\/2,000, last \+\d+\.\d\d s; cores busy: service \d\.\d\d, redis \d\.\d\d, load generator \(autocannon\) \d\.\d\d \(\d+ µs of service CPU per response\)$/);
    const summary = oneLineSummary(fixture);
    expect(summary.startsWith(`bench smoke: sell-out ${sellOut} s`)).toBe(true);
    expect(summary).toContain(`0 oversold, orders persisted ≤ +`);
    expect(summary).toContain(`${(fixture.aggregate.baselineRatio as number).toFixed(2)}× baseline; targets ${fixture.targets.filter((target) => target.met).length}/5;`);
    expect(summary.endsWith('; OK')).toBe(true);
  });

  it('compares CPU time per response with the baseline', () => {
    const service = fixture.runs[0].cpu?.serverMicrosPerResponse as number;
    const baseline = fixture.baseline?.cpu?.serverMicrosPerResponse as number;
    expect(service).toBeGreaterThan(0);
    expect(fixture.aggregate.cpuCostRatio).toBeCloseTo(baseline / service, 10);
    expect(renderReport(fixture)).toContain(`Measured in CPU time per response`);
  });
});

describe('benchmark helpers', () => {
  it('computes nearest-rank percentiles and min/median/max', () => {
    const values = Array.from({ length: 100 }, (_, index) => 100 - index);
    expect(percentile(Float64Array.from(values).sort(), 0.99)).toBe(99);
    expect(percentiles(values)).toEqual({ count: 100, p50: 50, p90: 90, p99: 99, max: 100 });
    expect(percentiles([])).toBeNull();
    expect(spread([3, Number.NaN, 1, 2, 10])).toEqual({ min: 1, median: 2.5, max: 10 });
    expect(spread([Number.NaN])).toBeNull();
  });

  it('reads the writer lag from XINFO GROUPS, or the whole stream before the group exists', () => {
    const group = ['name', 'order-writers', 'consumers', 1, 'pending', 7, 'last-delivered-id', '1-0', 'entries-read', 10, 'lag', 5];
    expect(writerLagOf([group], 99)).toBe(12);
    expect(writerLagOf([['name', 'someone-else', 'pending', 1, 'lag', 1]], 99)).toBe(99);
    expect(writerLagOf(undefined, 0)).toBe(0);
    expect(writerLagOf([[...group.slice(0, 10), 'lag', null]], 99)).toBeNull();
  });

  it('draws distinct buyers without listing them all', () => {
    const drawn = distinctIndexes(1000, 1_000_000);
    expect(new Set(drawn).size).toBe(1000);
    expect(drawn.every((index) => Number.isInteger(index) && index >= 0 && index < 1_000_000)).toBe(true);
    expect(distinctIndexes(5, 5).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(() => distinctIndexes(6, 5)).toThrow('cannot draw');
  });

  it('mints tokens a standard JWT library verifies', () => {
    expect(jwt.verify(mintToken('secret-0123456789abcdef', 'bench-1'), 'secret-0123456789abcdef', { algorithms: ['HS256'] })).toMatchObject({ sub: 'bench-1' });
    expect(jwt.verify(mintToken('secret-0123456789abcdef', 'ops', ['ops']), 'secret-0123456789abcdef')).toMatchObject({ sub: 'ops', roles: ['ops'] });
  });

  it('tells how many cores each party kept busy', () => {
    expect(processCpuSeconds(process.pid)).toBeGreaterThan(0);
    expect(processCpuSeconds(2 ** 30)).toBeNull();
    const inProcess = { harness: 3, separateGenerator: false };
    expect(cpuShare({ at: 0, server: 1, redis: 2, generator: 3, ...inProcess }, { at: 2000, server: 2.5, redis: 2.5, generator: 4, ...inProcess, harness: 4 })).toEqual({ wallSeconds: 2, serverCores: 0.75, redisCores: 0.25, generatorCores: 0.5 });
    expect(cpuShare({ at: 0, server: null, redis: 2, generator: 3, ...inProcess }, { at: 1000, server: null, redis: 2, generator: 3, ...inProcess }).serverCores).toBeNull();
    // wrk: its own process's CPU, and the harness's apart.
    const wrk = cpuShare({ at: 0, server: 1, redis: 2, generator: 0, harness: 5, separateGenerator: true }, { at: 2000, server: 2.5, redis: 2.5, generator: 0.4, harness: 5.1, separateGenerator: true });
    expect(wrk.generatorCores).toBeCloseTo(0.2);
    expect(wrk.harnessCores).toBeCloseTo(0.05);
    const run = { ...copy(fixture.runs[0]), cpu: { wallSeconds: 9, serverCores: 0.93, redisCores: 0.31, generatorCores: 0.62, writerCores: 0.2, serverMicrosPerResponse: 512.4 } };
    expect(runLine(run, 1)).toContain('cores busy: service 0.93, order writer 0.20, redis 0.31, load generator (autocannon) 0.62 (512 µs of service CPU per response)');
    expect(cpuShare({ at: 0, server: 0, redis: 0, generator: 0, writer: 0, ...inProcess }, { at: 1000, server: 0.5, redis: 0, generator: 0, writer: 0.25, ...inProcess }, 1000).serverMicrosPerResponse).toBe(750);
    expect(renderReport({ ...fixture, runs: [run] })).toContain('<td>0.93 / 0.31 / 0.62</td>');
  });

  it('adds the Node flags of BENCH_NODE_FLAGS to those every server runs with', () => {
    expect(SERVER_NODE_FLAGS).toEqual(['--max-semi-space-size=64']);
    expect(benchNodeFlags({})).toEqual([]);
    expect(benchNodeFlags({ BENCH_NODE_FLAGS: ' --trace-gc-nvp  --perf-basic-prof ' })).toEqual(['--trace-gc-nvp', '--perf-basic-prof']);
  });

  it('runs the service on one Redis server, a Redis Cluster, or both in turns (BENCH_REDIS)', () => {
    expect(benchSettings('smoke', {}).redis).toBe('node');
    expect(benchSettings('smoke', {}).baseline).toBe(true);
    const ab = benchSettings('purchase', { BENCH_REDIS: 'ab' });
    expect(ab.baseline).toBe(false);
    expect(Array.from({ length: 6 }, (_, index) => redisTopology(ab, index + 1))).toEqual(['node', 'cluster', 'cluster', 'node', 'node', 'cluster']);
    expect(redisTopology({ redis: 'cluster' }, 1)).toBe('cluster');
    expect(redisTopology({ redis: 'node' }, 2)).toBe('node');
    // The baseline speaks to one server only, and the benchmark's cluster keeps nothing on disk.
    expect(() => benchSettings('purchase', { BENCH_REDIS: 'cluster', BASELINE: 'true' })).toThrow('BENCH_REDIS=cluster runs no baseline');
    expect(() => benchSettings('purchase', { BENCH_REDIS: 'ab', BENCH_DURABILITY: 'aof-always' })).toThrow('BENCH_REDIS=ab takes BENCH_DURABILITY=none only');
    expect(() => benchSettings('purchase', { BENCH_REDIS: 'sharded' })).toThrow('BENCH_REDIS');
  });

  it("reads a Redis Cluster's CPU and commands summed over every node", async () => {
    const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 0 });
    const client = await cluster.client();
    try {
      // Keys spread over the slots, so every master serves some of them.
      const keys = Array.from({ length: 60 }, (_, index) => `bench-cpu-${index}`);
      for (const key of keys) await client.set(key, '1');
      const perNode = await Promise.all(cluster.servers.map(async (server) => {
        const node = server.client();
        try {
          return (await redisCommandStats(node))?.set?.calls ?? 0;
        } finally {
          node.disconnect();
        }
      }));
      expect(perNode.filter((calls) => calls > 0)).toHaveLength(3);
      expect((await redisCommandStats(client))?.set?.calls).toBe(keys.length);
      const total = await redisCpuSeconds(client);
      const firstNode = cluster.servers[0].client();
      const first = await redisCpuSeconds(firstNode);
      firstNode.disconnect();
      expect(total).toBeGreaterThan(first ?? Number.POSITIVE_INFINITY);
    } finally {
      client.disconnect();
      await cluster.stop();
    }
  });

  it('sums a CPU profile by area and function', () => {
    const node = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 9 }, children });
    const summary = summarizeProfile({
      nodes: [node(1, '(root)', ''), node(2, 'verify', 'file:///app/dist/auth/token.service.js'), node(3, 'write', 'file:///app/node_modules/ioredis/built/Redis.js'), node(4, '(garbage collector)', '')],
      samples: [2, 2, 3, 4],
      timeDeltas: [100, 100, 100, 100],
      startTime: 0,
      endTime: 400_000,
    });
    expect(summary.seconds).toBeCloseTo(0.4);
    expect(summary.byArea).toEqual([
      { name: 'service: auth/token.service', percent: 50 },
      { name: 'ioredis', percent: 25 },
      { name: '(garbage collector)', percent: 25 },
    ]);
    expect(summary.byFunction[0].name).toBe('verify auth/token.service:10');
    expect(areaOf('file:///x/node_modules/@nestjs/core/router/a.js', 'f')).toBe('@nestjs/core');
    expect(areaOf('node:internal/streams/writable', 'f')).toBe('node internals');
  });
});
