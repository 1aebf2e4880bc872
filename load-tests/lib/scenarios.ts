/**
 * Building blocks shared by the scenarios: the start-time spike every launch scenario offers, the trend
 * statistics every summary shows, and the sale window a setup creates before it knows how long the
 * import will take.
 */
import type { Scenario } from 'k6/options';

/** A k6 duration string for a number of seconds (never negative). */
export function seconds(value: number): string {
  return `${Math.max(0, Math.round(value))}s`;
}

export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'];

export interface SpikeShape {
  peakRate: number;
  rampSeconds: number;
  holdSeconds: number;
  rampDownSeconds: number;
  preAllocatedVus: number;
  maxVus: number;
}

/** An open-model spike: arrivals ramp to `peakRate`/s, hold, and ramp down, whatever the latency. */
export function spikeScenario(exec: string, shape: SpikeShape): Scenario {
  return {
    executor: 'ramping-arrival-rate',
    exec,
    startRate: 0,
    timeUnit: '1s',
    preAllocatedVUs: shape.preAllocatedVus,
    maxVUs: shape.maxVus,
    stages: [
      { target: shape.peakRate, duration: seconds(shape.rampSeconds) },
      { target: shape.peakRate, duration: seconds(shape.holdSeconds) },
      { target: 0, duration: seconds(shape.rampDownSeconds) },
    ],
  };
}

/**
 * A sale window with reservations open now and the start a day away, so that however long the set-up
 * (imports, code issue) takes, it ends before the sale opens; the setup then reschedules the start.
 */
export function farFutureWindow(now: number, sellingMs: number = 24 * 3600_000): Record<'reservationOpensAt' | 'reservationClosesAt' | 'fcodeOpensAt' | 'startsAt' | 'endsAt', number> {
  const farStart = now + 24 * 3600_000;
  return { reservationOpensAt: now - 60_000, reservationClosesAt: farStart, fcodeOpensAt: farStart, startsAt: farStart, endsAt: farStart + sellingMs };
}
