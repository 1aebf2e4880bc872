import { Counter, Gauge } from 'k6/metrics';
import type { SettledStats } from './client.ts';
import type { Outcome } from './outcomes.ts';
import type { SummaryData } from './summary.ts';

/**
 * Custom metrics shared by the scenarios. Created at import time, which k6 requires (the init context).
 */
export const outcomes = new Counter('outcomes');
export const unexpectedErrors = new Counter('unexpected_errors');
export const invariantViolations = new Counter('invariant_violations');
export const unitsSold = new Gauge('units_sold');
export const unitsOversold = new Gauge('units_oversold');
export const ordersAccepted = new Gauge('orders_accepted');
export const ordersPersisted = new Gauge('orders_persisted');
export const persistWaitSeconds = new Gauge('orders_persist_wait_seconds');

/** Counts one response by outcome (tags `action`, `code`, `expected`) and, if unexpected, as an error. */
export function recordOutcome(action: string, outcome: Outcome): void {
  outcomes.add(1, { action, code: outcome.code, expected: String(outcome.expected) });
  if (!outcome.expected) unexpectedErrors.add(1, { action, code: outcome.code });
}

/**
 * Thresholds that always pass but make k6 keep a per-code count in the summary (k6 only summarises the
 * sub-metrics that some threshold names).
 */
export function outcomeBreakdown(action: string, codes: readonly string[]): Record<string, string[]> {
  const thresholds: Record<string, string[]> = {};
  for (const code of codes) thresholds[`outcomes{action:${action},code:${code}}`] = ['count>=0'];
  return thresholds;
}

/** Records the end-of-test stock check as metrics, so that thresholds can fail the run on it. */
export function recordStockCheck(settled: SettledStats): void {
  const { check } = settled;
  invariantViolations.add(0);
  if (!check.equationHolds) invariantViolations.add(1, { invariant: 'stock_equation' });
  if (check.oversold > 0) invariantViolations.add(1, { invariant: 'oversold' });
  if (check.ordersPersisted > check.ordersAccepted) invariantViolations.add(1, { invariant: 'orders_duplicated' });
  if (!check.persistedAll) invariantViolations.add(1, { invariant: 'orders_not_persisted' });
  unitsSold.add(check.unitsSold);
  unitsOversold.add(check.oversold);
  ordersAccepted.add(check.ordersAccepted);
  ordersPersisted.add(check.ordersPersisted);
  persistWaitSeconds.add(settled.waitedSeconds);
  for (const violation of check.violations) console.error(`INVARIANT: ${violation}`);
  if (!check.persistedAll) console.error(`INVARIANT: ${check.ordersPersisted} of ${check.ordersAccepted} accepted orders in the database after ${settled.waitedSeconds.toFixed(1)} s`);
}

/** Summary lines read back from the gauges recordStockCheck() set. */
export function stockNotes(data: SummaryData): string[] {
  const gauge = (name: string): number | undefined => data.metrics[name]?.values.value;
  const sold = gauge('units_sold');
  if (sold === undefined) return ['Stock check: not recorded (teardown did not reach the stats route)'];
  return [
    `Stock check: ${sold} units sold, ${gauge('units_oversold')} oversold; ` +
      `${gauge('orders_persisted')} of ${gauge('orders_accepted')} accepted orders persisted ` +
      `(waited ${(gauge('orders_persist_wait_seconds') ?? 0).toFixed(1)} s after the load)`,
  ];
}
