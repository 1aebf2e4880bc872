import type { TimelinePoint } from '@sellout/contract';

/** Geometry of the units-sold chart, kept apart from the markup so it can be tested on its own. */
export interface Sample {
  /** Epoch ms (server time of the sample). */
  at: number;
  unitsSold: number;
}

export interface ChartGeometry {
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  yMax: number;
  yTicks: { value: number; y: number }[];
  xTicks: { label: string; x: number }[];
  /** SVG path of the line; empty without samples. */
  line: string;
  /** The same, closed along the x axis, for the shaded area. */
  area: string;
}

/** 1, 2, 5, 10, 20, 50, … — the smallest such step that splits `max` into at most `count` parts. */
export function niceStep(max: number, count = 4): number {
  const raw = Math.max(1, max) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 5, 10]) {
    if (factor * magnitude >= raw) return Math.max(1, factor * magnitude);
  }
  return 10 * magnitude;
}

function elapsedLabel(milliseconds: number): string {
  const seconds = Math.round(milliseconds / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
}

/**
 * Lays out samples over at least `minSpanMs` (so the first seconds do not fill the width) and up to the
 * larger of the sale's total stock and the highest value, so a sell-out reaches the top line.
 */
export function chartGeometry(samples: Sample[], totalStock: number, width = 640, height = 240, minSpanMs = 30000): ChartGeometry {
  const plot = { left: 56, top: 12, right: width - 12, bottom: height - 28 };
  const highest = samples.reduce((max, sample) => Math.max(max, sample.unitsSold), 0);
  const step = niceStep(Math.max(totalStock, highest, 1));
  const yMax = Math.ceil(Math.max(totalStock, highest, 1) / step) * step;
  const start = samples.length > 0 ? samples[0].at : 0;
  const span = Math.max(minSpanMs, samples.length > 0 ? samples[samples.length - 1].at - start : 0);
  const x = (at: number) => plot.left + ((at - start) / span) * (plot.right - plot.left);
  const y = (value: number) => plot.bottom - (value / yMax) * (plot.bottom - plot.top);

  const yTicks = [];
  for (let value = 0; value <= yMax; value += step) yTicks.push({ value, y: y(value) });
  const xStep = niceStep(span / 1000, 5) * 1000;
  const xTicks = [];
  for (let offset = 0; offset <= span; offset += xStep) xTicks.push({ label: elapsedLabel(offset), x: x(start + offset) });

  const points = samples.map((sample) => `${x(sample.at).toFixed(1)},${y(sample.unitsSold).toFixed(1)}`);
  const line = points.length > 0 ? `M${points.join(' L')}` : '';
  const area = points.length > 0 ? `${line} L${x(samples[samples.length - 1].at).toFixed(1)},${plot.bottom} L${plot.left},${plot.bottom} Z` : '';
  return { width, height, plot, yMax, yTicks, xTicks, line, area };
}

/**
 * The curve to draw: the recorded timeline up to the first figure this view read itself, then the view's
 * own figures (fresher than the timeline, which the server adds to about once a second).
 */
export function mergeSamples(timeline: TimelinePoint[], live: Sample[]): Sample[] {
  const firstLive = live.length > 0 ? live[0].at : Number.POSITIVE_INFINITY;
  const recorded = timeline.map((point) => ({ at: Date.parse(point.at), unitsSold: point.unitsSold })).filter((sample) => sample.at < firstLive);
  return [...recorded, ...live];
}

export interface OutcomeMix {
  total: number;
  /** The most attempts in one point of the timeline. */
  peakPerSecond: number;
  outcomes: { outcome: string; count: number; percent: number }[];
}

/** Attempts by outcome summed over the timeline, largest first. */
export function outcomeMix(points: TimelinePoint[]): OutcomeMix {
  const counts = new Map<string, number>();
  let peakPerSecond = 0;
  for (const point of points) {
    let inPoint = 0;
    for (const [outcome, count] of Object.entries(point.attempts)) {
      counts.set(outcome, (counts.get(outcome) ?? 0) + count);
      inPoint += count;
    }
    peakPerSecond = Math.max(peakPerSecond, inPoint);
  }
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
  const outcomes = [...counts.entries()].map(([outcome, count]) => ({ outcome, count, percent: total === 0 ? 0 : (count / total) * 100 })).sort((left, right) => right.count - left.count);
  return { total, peakPerSecond, outcomes };
}
