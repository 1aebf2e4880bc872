import type { BenchResult, Percentiles, RunResult, Sample } from './types';
import { purchaseLatency } from './summary';

/**
 * The self-contained HTML report of a benchmark: tables and inline SVG charts drawn from the run's own
 * data (no scripts, no external assets), so the file can be archived or attached as is.
 */

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04'];
const OUTCOME_COLORS: Record<string, string> = {
  CREATED: '#16a34a',
  SOLD_OUT: '#dc2626',
  LIMIT_REACHED: '#ea580c',
  SALE_NOT_STARTED: '#9ca3af',
  POLL: '#2563eb',
};

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round tick steps (1, 2, 5 × 10^n) giving about `count` ticks over [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (max === min) max = min + 1;
  const rough = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= rough) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let tick = Math.ceil(min / step) * step; tick <= max + step * 1e-9; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return ticks;
}

function formatTick(value: number): string {
  const absolute = Math.abs(value);
  if (absolute >= 1_000_000) return `${Number((value / 1_000_000).toPrecision(3))}M`;
  if (absolute >= 1_000) return `${Number((value / 1_000).toPrecision(3))}k`;
  return String(Number(value.toPrecision(3)));
}

export function lineChart(options: ChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 260;
  const margin = { top: 28, right: 16, bottom: 40, left: 64 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const points = options.series.flatMap((series) => series.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const title = `<text x="${margin.left}" y="18" class="title">${escapeHtml(options.title)}</text>`;
  if (points.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">${title}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="muted">no data</text></svg>`;
  }
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  const xTicks = niceTicks(Math.min(...xs), Math.max(...xs));
  const yTicks = niceTicks(Math.min(0, ...ys), Math.max(...ys));
  const xMin = Math.min(xTicks[0], ...xs);
  const xMax = Math.max(xTicks[xTicks.length - 1], ...xs);
  const yMin = Math.min(yTicks[0], 0);
  const yMax = Math.max(yTicks[yTicks.length - 1], ...ys);
  const scaleX = (x: number) => margin.left + ((x - xMin) / (xMax - xMin || 1)) * plotWidth;
  const scaleY = (y: number) => margin.top + plotHeight - ((y - yMin) / (yMax - yMin || 1)) * plotHeight;

  const parts: string[] = [title];
  for (const tick of yTicks) {
    const y = scaleY(tick).toFixed(1);
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${y}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${y}" dy="4" text-anchor="end" class="tick">${formatTick(tick)}</text>`);
  }
  for (const tick of xTicks) {
    const x = scaleX(tick).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight + 4}" class="axis"/>`);
    parts.push(`<text x="${x}" y="${margin.top + plotHeight + 16}" text-anchor="middle" class="tick">${formatTick(tick)}</text>`);
  }
  parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight}" class="axis"/>`);
  parts.push(`<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotHeight}" class="axis"/>`);
  parts.push(`<text x="${margin.left + plotWidth / 2}" y="${height - 6}" text-anchor="middle" class="label">${escapeHtml(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" class="label">${escapeHtml(options.yLabel)}</text>`);

  let legendX = margin.left + 8;
  for (const series of options.series) {
    const drawable = series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (drawable.length > 0) {
      const path = drawable.map(([x, y], index) => `${index === 0 ? 'M' : 'L'}${scaleX(x).toFixed(1)},${scaleY(y).toFixed(1)}`).join('');
      parts.push(`<path d="${path}" fill="none" stroke="${series.color}" stroke-width="1.8"${series.dashed ? ' stroke-dasharray="5 4"' : ''}><title>${escapeHtml(series.name)}</title></path>`);
    }
    parts.push(`<rect x="${legendX}" y="${margin.top + 4}" width="10" height="10" fill="${series.color}"/>`);
    parts.push(`<text x="${legendX + 14}" y="${margin.top + 13}" class="legend">${escapeHtml(series.name)}</text>`);
    legendX += 24 + series.name.length * 6.5;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">${parts.join('')}</svg>`;
}

const seconds = (sample: Sample) => sample.t / 1000;

function runLabel(run: RunResult): string {
  return run.target === 'baseline' ? 'baseline' : `run ${run.run}`;
}

export function sellOutChart(runs: RunResult[]): string {
  return lineChart({
    title: 'Sell-out curve: units sold since the start',
    xLabel: 'seconds since the sale opened',
    yLabel: 'units sold',
    series: runs.map((run, index) => ({
      name: runLabel(run),
      color: run.target === 'baseline' ? '#4b5563' : PALETTE[index % PALETTE.length],
      dashed: run.target === 'baseline',
      points: run.samples.filter((sample) => sample.t >= 0).map((sample) => [seconds(sample), sample.unitsSold] as [number, number]),
    })),
  });
}

export function rpsChart(run: RunResult): string {
  const outcomes = [...new Set(run.samples.flatMap((sample) => Object.keys(sample.rps)))].sort((left, right) => (OUTCOME_COLORS[left] ? 0 : 1) - (OUTCOME_COLORS[right] ? 0 : 1) || left.localeCompare(right));
  return lineChart({
    title: `Responses per second by outcome (${runLabel(run)})`,
    xLabel: 'seconds since the sale opened',
    yLabel: 'responses/s',
    series: outcomes.map((outcome, index) => ({
      name: outcome,
      color: OUTCOME_COLORS[outcome] ?? PALETTE[(index + 3) % PALETTE.length],
      points: run.samples.map((sample) => [seconds(sample), sample.rps[outcome] ?? 0] as [number, number]),
    })),
  });
}

export function latencyChart(run: RunResult): string {
  const pick = (field: keyof Percentiles) => run.samples.filter((sample) => sample.latency).map((sample) => [seconds(sample), (sample.latency as Percentiles)[field]] as [number, number]);
  return lineChart({
    title: `Purchase latency percentiles (${runLabel(run)})`,
    xLabel: 'seconds since the sale opened',
    yLabel: 'ms',
    series: [
      { name: 'p50', color: '#16a34a', points: pick('p50') },
      { name: 'p90', color: '#ca8a04', points: pick('p90') },
      { name: 'p99', color: '#dc2626', points: pick('p99') },
      { name: 'max', color: '#9ca3af', points: pick('max'), dashed: true },
    ],
  });
}

export function writerLagChart(run: RunResult): string {
  return lineChart({
    title: `Order-writer lag: accepted orders not yet in the database (${runLabel(run)})`,
    xLabel: 'seconds since the sale opened',
    yLabel: 'orders',
    series: [{ name: 'lag', color: '#9333ea', points: run.samples.filter((sample) => sample.writerLag !== null).map((sample) => [seconds(sample), sample.writerLag as number] as [number, number]) }],
  });
}

const fixed = (value: number | null | undefined, digits = 0) => (value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

function runRow(run: RunResult): string {
  const cells = [
    runLabel(run),
    run.sellOutMs === null ? 'did not sell out' : `${fixed(run.sellOutMs / 1000, 2)} s`,
    fixed(run.sellOutWindow.requestsPerSecond),
    fixed(run.sellOutWindow.acceptedPerSecond),
    fixed(run.sellOutWindow.rejectedPerSecond),
    fixed(purchaseLatency(run)?.p50, 1),
    fixed(purchaseLatency(run)?.p99, 1),
    fixed(run.clientOversold + (run.stockCheck?.oversold ?? 0)),
    run.persist ? `${fixed(run.persist.ordersPersisted)} / ${fixed(run.persist.ordersAccepted)}` : '–',
    run.persist?.lastLandedAfterSellOutMs === null || run.persist === null ? '–' : `${fixed(run.persist.lastLandedAfterSellOutMs / 1000, 2)} s`,
    run.cpu ? `${fixed(run.cpu.serverCores, 2)} / ${fixed(run.cpu.redisCores, 2)} / ${fixed(run.cpu.generatorCores, 2)}` : '–',
  ];
  return `<tr>${cells.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`;
}

export function renderReport(result: BenchResult): string {
  const allRuns = result.baseline ? [...result.runs, result.baseline] : result.runs;
  const targets = result.targets.map((target) => `<tr class="${target.met ? 'met' : 'missed'}"><td>${target.met ? '✓' : '✗'}</td><td>${escapeHtml(target.name)}</td><td>${escapeHtml(target.target)}</td><td>${escapeHtml(target.value)}</td></tr>`).join('');
  const settings = Object.entries(result.settings).map(([name, value]) => `<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(String(value))}</td></tr>`).join('');
  const perRun = result.runs.map((run) => `<section><h3>${escapeHtml(runLabel(run))} — sale ${escapeHtml(run.saleId)}</h3>${rpsChart(run)}${latencyChart(run)}${writerLagChart(run)}</section>`).join('');
  const aggregate = result.aggregate;
  const spreadText = (spread: { min: number; median: number; max: number } | null, scale = 1, digits = 0, unit = '') =>
    spread ? `${fixed(spread.min / scale, digits)} / ${fixed(spread.median / scale, digits)} / ${fixed(spread.max / scale, digits)}${unit}` : '–';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sellout launch rehearsal — ${escapeHtml(result.startedAt)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#111827;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #e5e7eb;padding:4px 8px;text-align:right}th{background:#f9fafb}
td:first-child,th:first-child,table.text td,table.text th{text-align:left}tr.missed td{background:#fef2f2}tr.met td{background:#f0fdf4}
.failures{background:#fef2f2;border:1px solid #fecaca;padding:8px 12px}.ok{background:#f0fdf4;border:1px solid #bbf7d0;padding:8px 12px}
svg{display:block;margin:8px 0}svg .title{font-size:13px;font-weight:600}svg .tick,svg .legend{font-size:11px;fill:#374151}svg .label{font-size:11px;fill:#6b7280}
svg .grid{stroke:#f3f4f6}svg .axis{stroke:#9ca3af}svg .muted{fill:#9ca3af}
</style></head><body>
<h1>Sellout launch rehearsal (${escapeHtml(result.mode)})</h1>
<p>${escapeHtml(result.startedAt)} → ${escapeHtml(result.finishedAt)} (${fixed(result.totalSeconds, 1)} s) · <code>${escapeHtml(result.command)}</code><br>
${result.machine.cpus} × ${escapeHtml(result.machine.cpuModel)} · Node ${escapeHtml(result.machine.node)} · Redis ${escapeHtml(result.machine.redis)} · ${escapeHtml(result.machine.database)} ·
load average before ${result.machine.loadAverageBefore.map((value) => value.toFixed(2)).join(' ')}, after ${result.machine.loadAverageAfter.map((value) => value.toFixed(2)).join(' ')}</p>
${result.failures.length > 0 ? `<div class="failures"><strong>Correctness failures</strong><ul>${result.failures.map((failure) => `<li>${escapeHtml(failure)}</li>`).join('')}</ul></div>` : '<div class="ok">No oversold unit, the stock equation held, and every accepted order was persisted.</div>'}
<h2>Targets</h2>
<table class="text"><tr><th></th><th>target</th><th>wanted</th><th>measured</th></tr>${targets}</table>
<h2>Runs</h2>
<table><tr><th>run</th><th>sell-out</th><th>req/s</th><th>accepted/s</th><th>rejected/s</th><th>p50 ms</th><th>p99 ms</th><th>oversold</th><th>persisted</th><th>last order landed after sell-out</th><th>cores busy: server / redis / load generator</th></tr>
${allRuns.map(runRow).join('')}</table>
<p>Across ${result.runs.length} run(s), min / median / max: sell-out ${spreadText(aggregate.sellOutMs, 1000, 2, ' s')}; purchase requests/s ${spreadText(aggregate.requestsPerSecond)}; accepted/s ${spreadText(aggregate.acceptedPerSecond)}; p99 ${spreadText(aggregate.p99Ms, 1, 1, ' ms')}.
${aggregate.baselineRatio === null ? '' : `Throughput is ${fixed(aggregate.baselineRatio, 2)}× the bare baseline (a minimal Fastify route running the same purchase.lua).`}
${aggregate.cpuCostRatio === null || aggregate.cpuCostRatio === undefined ? '' : `Measured in CPU time per response, which depends less on what else the machine was doing: ${fixed(aggregate.cpuCostRatio, 2)}×.`}</p>
<h2>Sell-out</h2>
${sellOutChart(allRuns)}
<h2>Each run</h2>
${perRun}
${result.baseline ? `<section><h3>baseline — sale ${escapeHtml(result.baseline.saleId)}</h3>${rpsChart(result.baseline)}${latencyChart(result.baseline)}</section>` : ''}
${result.profile ? `<h2>Where the service's CPU went (first sell-out, ${fixed(result.profile.seconds, 1)} s profiled)</h2>
<table><tr><th>area</th><th>self time</th></tr>${result.profile.byArea.map((share) => `<tr><td>${escapeHtml(share.name)}</td><td>${fixed(share.percent, 1)}%</td></tr>`).join('')}</table>
<table><tr><th>function</th><th>self time</th></tr>${result.profile.byFunction.map((share) => `<tr><td>${escapeHtml(share.name)}</td><td>${fixed(share.percent, 1)}%</td></tr>`).join('')}</table>` : ''}
<h2>Settings</h2>
<table class="text">${settings}</table>
</body></html>
`;
}
