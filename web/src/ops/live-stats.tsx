import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ErrorNotice } from '../shared/components';
import { describeDuration, formatCount } from '../shared/format';
import { usePolling } from '../shared/hooks';
import { useSaleEvents } from '../shared/sale-events';
import { serverClock } from '../shared/server-clock';
import { throttled } from '../shared/throttle';
import type { SaleStats, TimelinePoint } from '@sellout/contract';
import { opsTokens } from './context';
import { fetchStats, fetchTimeline } from './ops-api';
import { chartGeometry, mergeSamples, outcomeMix, Sample } from './units-chart';

/** Ten minutes of one-second samples. */
const MAX_SAMPLES = 600;
/**
 * `GET …/stats` at most this often while changes are pushed: the stream announces up to four a second
 * during a sell-out, and each stats answer costs the server counts over the sale's orders and F-codes.
 */
const STATS_MIN_INTERVAL_MS = 1000;

/** `general + fcode − generalRemaining − fcodeRemaining = unitsSold` (the HTTP contract), with the figures. */
export function stockEquation(stats: SaleStats): { holds: boolean; left: number } {
  const left = stats.stock.general + stats.stock.fcode - stats.stock.generalRemaining - stats.stock.fcodeRemaining;
  return { holds: left === stats.unitsSold, left };
}

/** Follows an element's width, so the chart is drawn at its real size and its labels stay readable. */
function useWidth<T extends HTMLElement>(fallback: number) {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element) return undefined;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.round(entry.contentRect.width) || fallback));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return { ref, width };
}

function UnitsChart(props: { samples: Sample[]; totalStock: number }) {
  const { ref, width } = useWidth<HTMLElement>(640);
  const chartWidth = Math.max(280, Math.min(width, 1200));
  const geometry = chartGeometry(props.samples, props.totalStock, chartWidth, chartWidth < 480 ? 200 : 260);
  const last = props.samples[props.samples.length - 1];
  const first = props.samples[0];
  let summary = 'No figures yet.';
  if (last && last.unitsSold !== first.unitsSold) {
    summary = `Units sold went from ${formatCount(first.unitsSold)} to ${formatCount(last.unitsSold)} in ${describeDuration(last.at - first.at)}.`;
  } else if (last) {
    summary = `${formatCount(last.unitsSold)} units sold; no change in ${describeDuration(last.at - first.at)}.`;
  }
  return (
    <figure class="chart-figure" ref={ref}>
      <svg
        class="chart"
        viewBox={`0 0 ${geometry.width} ${geometry.height}`}
        role="img"
        aria-labelledby="units-chart-title units-chart-desc"
        data-testid="units-chart"
        data-samples={props.samples.length}
        data-last-units-sold={last?.unitsSold ?? 0}
      >
        <title id="units-chart-title">Units sold over time</title>
        <desc id="units-chart-desc">{summary}</desc>
        {geometry.yTicks.map((tick) => (
          <g key={`y${tick.value}`}>
            <line class="grid-line" x1={geometry.plot.left} x2={geometry.plot.right} y1={tick.y} y2={tick.y} />
            <text x={geometry.plot.left - 8} y={tick.y + 4} text-anchor="end">
              {formatCount(tick.value)}
            </text>
          </g>
        ))}
        {geometry.xTicks.map((tick) => (
          <text key={`x${tick.label}`} x={tick.x} y={geometry.plot.bottom + 18} text-anchor="middle">
            {tick.label}
          </text>
        ))}
        <line class="axis" x1={geometry.plot.left} x2={geometry.plot.left} y1={geometry.plot.top} y2={geometry.plot.bottom} />
        <line class="axis" x1={geometry.plot.left} x2={geometry.plot.right} y1={geometry.plot.bottom} y2={geometry.plot.bottom} />
        {geometry.area ? <path class="area" d={geometry.area} /> : null}
        {geometry.line ? <path class="line" d={geometry.line} data-testid="units-line" /> : null}
      </svg>
      <figcaption class="muted">{summary} The time axis starts at the sale's first purchase attempt (or when this view opened, if none yet).</figcaption>
    </figure>
  );
}

/** A row of the live figures: what it counts, then the figure (`testId` names the figure's cell for tests). */
function FigureRow(props: { label: string; testId?: string; children: ComponentChildren }) {
  return (
    <tr>
      <th scope="row">{props.label}</th>
      <td class="number" data-testid={props.testId}>
        {props.children}
      </td>
    </tr>
  );
}

/** Purchase attempts by outcome over the whole timeline, largest first. */
function OutcomeMix(props: { points: TimelinePoint[] }) {
  const mix = outcomeMix(props.points);
  if (mix.total === 0) return <p class="muted" data-testid="outcome-mix-empty">No purchase attempts yet.</p>;
  return (
    <table data-testid="outcome-mix">
      <caption class="muted">Purchase attempts by outcome ({formatCount(mix.total)} in all, busiest second {formatCount(mix.peakPerSecond)})</caption>
      <tbody>
        {mix.outcomes.map((row) => (
          <tr key={row.outcome} data-outcome={row.outcome}>
            <th scope="row">{row.outcome === 'CREATED' ? 'Order placed' : row.outcome}</th>
            <td class="number">{formatCount(row.count)}</td>
            <td class="number muted">{row.percent.toFixed(1)}%</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The live view of a sale: `GET …/stats` on the changes the sale's event stream announces, at most once a
 * second (every second while the stream is down), and the sale's timeline, so the curve and the outcome mix start at the
 * first purchase attempt however late the view is opened, live or after the sale.
 */
export function LiveStats(props: { saleId: string; running: boolean; onStats?: (stats: SaleStats) => void }) {
  const [stats, setStats] = useState<SaleStats | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [timeline, setTimeline] = useState<TimelinePoint[]>([]);
  const [changes, setChanges] = useState(0);
  const samples = useRef<Sample[]>([]);
  const refresh = useMemo(() => throttled(() => setChanges((count) => count + 1), STATS_MIN_INTERVAL_MS), []);
  useEffect(() => () => refresh.cancel(), [refresh]);
  const streaming = useSaleEvents(props.saleId, refresh.call, props.running);

  usePolling(
    async () => {
      const token = opsTokens.get();
      if (token === null) return;
      setTimeline((await fetchTimeline(token, props.saleId)).points);
    },
    // The server adds to the timeline about once a second.
    { intervalMs: props.running ? 2000 : 30000, jitter: 0.05 },
    [props.saleId],
  );

  usePolling(
    async () => {
      const token = opsTokens.get();
      if (token === null) return;
      try {
        const { stats: fresh, receivedAt } = await fetchStats(token, props.saleId);
        samples.current = [...samples.current, { at: receivedAt + serverClock.offset, unitsSold: fresh.unitsSold }].slice(-MAX_SAMPLES);
        setStats(fresh);
        props.onStats?.(fresh);
        setError(undefined);
      } catch (caught) {
        setError(caught);
      }
    },
    // Pushed changes restart it at once; without a stream, every second while the sale can change. Once it
    // is over, a slow refresh is plenty.
    { intervalMs: props.running ? (streaming ? 5000 : 1000) : 15000, jitter: 0.05 },
    [props.saleId, changes],
  );

  if (stats === undefined) return error !== undefined ? <ErrorNotice error={error} /> : <p aria-busy="true">Loading live figures…</p>;
  const equation = stockEquation(stats);
  const totalStock = stats.stock.general + stats.stock.fcode;
  return (
    <div class="stack" data-testid="live-stats">
      {error !== undefined ? <ErrorNotice error={error} /> : null}
      <div class="stats-grid">
        <table>
          <caption class="muted">Stock</caption>
          <tbody>
            <FigureRow label="General pool" testId="general-remaining">
              {formatCount(stats.stock.generalRemaining)} of {formatCount(stats.stock.general)} left
            </FigureRow>
            <FigureRow label="F-code pool" testId="fcode-remaining">
              {formatCount(stats.stock.fcodeRemaining)} of {formatCount(stats.stock.fcode)} left
            </FigureRow>
            <FigureRow label="Units sold" testId="units-sold">
              {formatCount(stats.unitsSold)}
            </FigureRow>
            <FigureRow label="Reservations">{formatCount(stats.reservations)}</FigureRow>
            <FigureRow label="F-codes redeemed" testId="fcodes-redeemed">
              {formatCount(stats.fcodes.redeemed)} of {formatCount(stats.fcodes.issued)} issued
            </FigureRow>
          </tbody>
        </table>
        <table>
          <caption class="muted">Orders by status</caption>
          <tbody>
            <FigureRow label="Awaiting payment" testId="orders-pending">
              {formatCount(stats.orders.pending_payment)}
            </FigureRow>
            <FigureRow label="Paid" testId="orders-paid">
              {formatCount(stats.orders.paid)}
            </FigureRow>
            <FigureRow label="Expired">{formatCount(stats.orders.expired)}</FigureRow>
            <FigureRow label="Cancelled">{formatCount(stats.orders.cancelled)}</FigureRow>
            <FigureRow label="Saved in the database">{formatCount(stats.orders.persisted)}</FigureRow>
          </tbody>
        </table>
      </div>
      <p class="equation" data-testid="stock-equation" data-holds={String(equation.holds)}>
        Stock equation: {formatCount(stats.stock.general)} + {formatCount(stats.stock.fcode)} − {formatCount(stats.stock.generalRemaining)} −{' '}
        {formatCount(stats.stock.fcodeRemaining)} = {formatCount(equation.left)} {equation.holds ? '=' : '≠'} {formatCount(stats.unitsSold)} sold{' '}
        {equation.holds ? (
          <span class="verdict-ok">✓ holds</span>
        ) : (
          <span class="verdict-bad">✗ broken: off by {formatCount(equation.left - stats.unitsSold)}</span>
        )}
      </p>
      <UnitsChart samples={mergeSamples(timeline, samples.current)} totalStock={totalStock} />
      <OutcomeMix points={timeline} />
    </div>
  );
}
