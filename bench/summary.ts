import { spread } from './statistics';
import type { BenchResult, RunResult, TargetResult } from './types';

/** Pure summaries of a benchmark's runs: aggregates, targets, correctness failures and the printed lines. */

/** Outcomes a flash-sale purchase may have without anything being wrong. */
const EXPECTED_OUTCOMES = new Set(['CREATED', 'SOLD_OUT', 'LIMIT_REACHED', 'SALE_NOT_STARTED']);

export const TARGETS = {
  sellOutSeconds: 5,
  p99Ms: 50,
  baselineRatio: 0.8,
  /** Under wrk, which shows a wider gap between the two servers than autocannon did on the same cores. */
  baselineRatioWrk: 0.75,
  persistedAfterSeconds: 10,
  totalSeconds: 180,
};

/** The purchase latency a run reports: the sell-out window's, or under wrk (no latency per response) its whole run's. */
export function purchaseLatency(run: RunResult): RunResult['latency']['all'] {
  return run.latency.sellOut ?? run.latency.all;
}

/**
 * Aggregates over the runs. With several baseline runs (one after each service run in `bench:purchase`),
 * the ratios compare medians, so that the machine's drift between runs does not decide them.
 */
export function aggregateRuns(runs: RunResult[], baselines: RunResult[]): BenchResult['aggregate'] {
  const requestsPerSecond = spread(runs.map((run) => run.sellOutWindow.requestsPerSecond));
  const baselineRate = spread(baselines.map((run) => run.sellOutWindow.requestsPerSecond));
  const serviceCost = spread(runs.map((run) => run.cpu?.serverMicrosPerResponse ?? Number.NaN));
  const baselineCost = spread(baselines.map((run) => run.cpu?.serverMicrosPerResponse ?? Number.NaN));
  return {
    sellOutMs: spread(runs.map((run) => run.sellOutMs ?? Number.NaN)),
    requestsPerSecond,
    acceptedPerSecond: spread(runs.map((run) => run.sellOutWindow.acceptedPerSecond)),
    p99Ms: spread(runs.map((run) => purchaseLatency(run)?.p99 ?? Number.NaN)),
    baselineRatio: requestsPerSecond && baselineRate ? requestsPerSecond.median / baselineRate.median : null,
    cpuCostRatio: serviceCost && baselineCost ? baselineCost.median / serviceCost.median : null,
  };
}

/** The run with the median purchase throughput (the lower middle one of an even number): the baseline the report draws. */
export function medianRun(runs: RunResult[]): RunResult | null {
  const sorted = [...runs].sort((left, right) => left.sellOutWindow.requestsPerSecond - right.sellOutWindow.requestsPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? null;
}

/** Everything that makes the benchmark fail: units oversold, a broken stock equation or limit, lost orders. */
export function failuresOf(runs: RunResult[], baselines: RunResult[]): string[] {
  const failures: string[] = [];
  for (const run of [...runs, ...baselines]) {
    const label = run.target === 'baseline' ? (baselines.length > 1 ? `baseline ${run.run}` : 'baseline') : `run ${run.run}`;
    const oversold = Math.max(run.clientOversold, run.stockCheck?.oversold ?? 0);
    if (oversold > 0) failures.push(`${label}: ${oversold} unit(s) oversold`);
    if (run.stockCheck && !run.stockCheck.equationHolds) failures.push(`${label}: stock equation broken (${run.stockCheck.violations.join('; ')})`);
    if (run.limitBreaches > 0) failures.push(`${label}: ${run.limitBreaches} buyer(s) got more than the per-user limit`);
    if (run.persist && run.persist.ordersPersisted !== run.persist.ordersAccepted) failures.push(`${label}: ${run.persist.ordersPersisted} of ${run.persist.ordersAccepted} accepted orders in the database`);
    const unexpected = Object.entries(run.byOutcome).filter(([outcome]) => !EXPECTED_OUTCOMES.has(outcome));
    if (unexpected.length > 0) failures.push(`${label}: unexpected responses ${unexpected.map(([outcome, count]) => `${outcome}×${count}`).join(', ')}`);
    const badPolls = Object.entries(run.polls.byOutcome).filter(([outcome]) => outcome !== 'POLL');
    if (badPolls.length > 0) failures.push(`${label}: unexpected sale-view responses ${badPolls.map(([outcome, count]) => `${outcome}×${count}`).join(', ')}`);
  }
  return failures;
}

const thousands = (value: number) => Math.round(value).toLocaleString('en-US');
const ms = (value: number | undefined | null, digits = 1) => (value === undefined || value === null || !Number.isFinite(value) ? '–' : `${value.toFixed(digits)} ms`);

export function evaluateTargets(result: Pick<BenchResult, 'runs' | 'baseline' | 'aggregate' | 'totalSeconds' | 'mode'>, stock: number): TargetResult[] {
  const { aggregate, runs } = result;
  const sellOut = aggregate.sellOutMs;
  const persistedAfter = runs.map((run) => run.persist?.lastLandedAfterSellOutMs ?? Number.NaN);
  const worstPersist = persistedAfter.some((value) => !Number.isFinite(value)) ? Number.NaN : Math.max(...persistedAfter);
  const oversold = runs.reduce((total, run) => total + Math.max(run.clientOversold, run.stockCheck?.oversold ?? 0), 0);
  const wantedRatio = runs.some((run) => run.generator === 'wrk') ? TARGETS.baselineRatioWrk : TARGETS.baselineRatio;
  const targets: TargetResult[] = [
    {
      name: `${thousands(stock)} units sold out`,
      target: `≤ ${TARGETS.sellOutSeconds} s (median)`,
      value: sellOut ? `${(sellOut.median / 1000).toFixed(2)} s` : 'did not sell out',
      met: sellOut !== null && sellOut.median <= TARGETS.sellOutSeconds * 1000 && runs.every((run) => run.sellOutMs !== null),
    },
    { name: 'oversold units', target: '0', value: String(oversold), met: oversold === 0 },
    { name: 'purchase p99 during the sell-out', target: `≤ ${TARGETS.p99Ms} ms (median)`, value: ms(aggregate.p99Ms?.median), met: aggregate.p99Ms !== null && aggregate.p99Ms.median <= TARGETS.p99Ms },
    {
      name: 'throughput vs the bare baseline',
      target: `≥ ${wantedRatio}×`,
      value: aggregate.baselineRatio === null ? 'not measured' : `${aggregate.baselineRatio.toFixed(2)}×`,
      met: aggregate.baselineRatio !== null && aggregate.baselineRatio >= wantedRatio,
    },
    {
      name: 'all orders persisted after the sell-out',
      target: `≤ ${TARGETS.persistedAfterSeconds} s (worst run)`,
      value: Number.isFinite(worstPersist) ? `${(worstPersist / 1000).toFixed(2)} s` : 'not within the timeout',
      met: Number.isFinite(worstPersist) && worstPersist <= TARGETS.persistedAfterSeconds * 1000,
    },
  ];
  if (result.mode === 'full') {
    targets.push({ name: 'whole `npm run bench`', target: `< ${TARGETS.totalSeconds} s`, value: `${result.totalSeconds.toFixed(0)} s`, met: result.totalSeconds < TARGETS.totalSeconds });
  }
  return targets;
}

function cpuText(run: RunResult): string {
  if (!run.cpu) return '';
  const cores = (value: number | null) => (value === null ? '?' : value.toFixed(2));
  const writer = run.cpu.writerCores === undefined ? '' : `, order writer ${cores(run.cpu.writerCores)}`;
  const perResponse = typeof run.cpu.serverMicrosPerResponse === 'number' ? ` (${Math.round(run.cpu.serverMicrosPerResponse)} µs of ${run.target} CPU per response)` : '';
  const generator = `load generator (${run.generator ?? 'autocannon'}) ${cores(run.cpu.generatorCores)}${run.cpu.harnessCores === undefined ? '' : `, harness ${cores(run.cpu.harnessCores)}`}`;
  return `; cores busy: ${run.target} ${cores(run.cpu.serverCores)}${writer}, redis ${cores(run.cpu.redisCores)}, ${generator}${perResponse}`;
}

export function runLine(run: RunResult, runs: number): string {
  const label = run.target === 'baseline' ? 'baseline ' : `run ${run.run}/${runs}`;
  const window = run.sellOutWindow;
  const sold = run.sellOutMs === null ? `did not sell ${thousands(run.stock)} out` : `sold ${thousands(run.stock)} in ${(run.sellOutMs / 1000).toFixed(2)} s`;
  const persist = run.persist
    ? `; persisted ${thousands(run.persist.ordersPersisted)}/${thousands(run.persist.ordersAccepted)}` +
      (run.persist.lastLandedAfterSellOutMs === null ? ' (timed out)' : `, last +${(run.persist.lastLandedAfterSellOutMs / 1000).toFixed(2)} s`)
    : '';
  return (
    `${label}  ${sold}: ${thousands(window.requestsPerSecond)} req/s (${thousands(window.acceptedPerSecond)} accepted/s, ${thousands(window.rejectedPerSecond)} rejected/s), ` +
    `p50 ${ms(purchaseLatency(run)?.p50)}, p99 ${ms(purchaseLatency(run)?.p99)}${run.latency.sellOut ? '' : ' (whole run)'}; oversold ${Math.max(run.clientOversold, run.stockCheck?.oversold ?? 0)}${persist}${cpuText(run)}`
  );
}

export function oneLineSummary(result: BenchResult): string {
  const { aggregate } = result;
  const sellOut = aggregate.sellOutMs ? `sell-out ${(aggregate.sellOutMs.median / 1000).toFixed(2)} s (${(aggregate.sellOutMs.min / 1000).toFixed(2)}–${(aggregate.sellOutMs.max / 1000).toFixed(2)})` : 'did not sell out';
  const oversold = result.runs.reduce((total, run) => total + Math.max(run.clientOversold, run.stockCheck?.oversold ?? 0), 0);
  const persist = result.runs.map((run) => run.persist?.lastLandedAfterSellOutMs ?? Number.NaN);
  const persistText = persist.every(Number.isFinite) ? `orders persisted ≤ +${(Math.max(...persist) / 1000).toFixed(2)} s` : 'orders NOT all persisted';
  const ratio = aggregate.baselineRatio === null ? '' : `, ${aggregate.baselineRatio.toFixed(2)}× baseline`;
  const met = result.targets.filter((target) => target.met).length;
  return (
    `bench ${result.mode}: ${sellOut}, ${thousands(aggregate.requestsPerSecond?.median ?? 0)} req/s, p99 ${ms(aggregate.p99Ms?.median)}, ${oversold} oversold, ${persistText}${ratio}; ` +
    `targets ${met}/${result.targets.length}; ${result.totalSeconds.toFixed(0)} s; load ${result.machine.loadAverageBefore[0].toFixed(2)}→${result.machine.loadAverageAfter[0].toFixed(2)}; ` +
    (result.failures.length === 0 ? 'OK' : `FAILED (${result.failures.length})`)
  );
}

const micros = (value: number | null | undefined) => (value === null || value === undefined ? '?' : `${Math.round(value)} µs`);

/** What each response of the sell-out and of the sold-out tail cost, Redis's scripts, and the writer's CPU per order. */
export function costLines(run: RunResult): string[] {
  const lines = (run.phases ?? []).map((phase) => {
    const label = phase.name === 'sellOut' ? 'sell-out' : 'sold-out tail';
    const outcomes = Object.entries(phase.byOutcome)
      .sort((left, right) => right[1] - left[1])
      .map(([outcome, count]) => `${outcome} ${((100 * count) / Math.max(1, phase.responses)).toFixed(0)}%`)
      .join(' ');
    const commands = phase.redisCommands
      .slice(0, 3)
      .map((entry) => `${entry.command} ${thousands(entry.calls)}× ${entry.usecPerCall.toFixed(1)} µs`)
      .join(', ');
    return (
      `    ${label.padEnd(13)} ${thousands(phase.responses)} responses in ${phase.seconds.toFixed(2)} s (${outcomes}): ${run.target} ${micros(phase.serverMicrosPerResponse)}` +
      ` (main thread ${micros(phase.serverMainMicrosPerResponse)}), redis ${micros(phase.redisMicrosPerResponse)} per response; load generator ${phase.generatorCores?.toFixed(2) ?? '?'} cores; redis: ${commands || '–'}`
    );
  });
  if (run.writer) lines.push(`    order writer  ${micros(run.writer.microsPerOrder)} of CPU per order (${run.writer.measuredAs === 'process' ? 'its own process' : "the service's threads other than the main one"})`);
  return lines;
}
