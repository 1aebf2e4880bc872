/**
 * Reservation rush: the days before a launch, when millions reserve a place. A ramping arrival rate of
 * buyers reserving; some come back later and reserve again (must get 200 with their first reservedAt),
 * some double-click (two identical requests at once: exactly one 201, both with the same reservedAt),
 * and some check their reservation. Fails on any unexpected answer or broken idempotency.
 *
 *   k6 run load-tests/reservation-rush.ts
 */
import { check } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Gauge } from 'k6/metrics';
import type { Options } from 'k6/options';
import { adminCall, buyerToken, call, connectionFromEnv, createSale, opsToken, type SaleSetup, type SaleView } from './lib/client.ts';
import { envDurationSeconds, envInt, envNumber, envRatio, envString } from './lib/env.ts';
import { outcomeBreakdown, recordOutcome } from './lib/k6-metrics.ts';
import { classifyResponse } from './lib/outcomes.ts';
import { buyerId, randomIndex, runTag, saleDraft } from './lib/payloads.ts';
import { spikeScenario, SUMMARY_TREND_STATS } from './lib/scenarios.ts';
import { summaryOutputs, type SummaryData } from './lib/summary.ts';

const connection = connectionFromEnv(__ENV);
const settings = {
  peakRate: envInt(__ENV, 'PEAK_RATE', 1_000, 1),
  rampSeconds: envDurationSeconds(__ENV, 'RAMP', 10),
  holdSeconds: envDurationSeconds(__ENV, 'HOLD', 60),
  rampDownSeconds: envDurationSeconds(__ENV, 'RAMP_DOWN', 10),
  preAllocatedVus: envInt(__ENV, 'PRE_VUS', 100, 1),
  maxVus: envInt(__ENV, 'MAX_VUS', 1_000, 1),
  repeatRatio: envRatio(__ENV, 'REPEAT_RATIO', 0.1),
  doubleClickRatio: envRatio(__ENV, 'DOUBLE_CLICK_RATIO', 0.05),
  checkRatio: envRatio(__ENV, 'CHECK_RATIO', 0.1),
  p99Ms: envNumber(__ENV, 'P99_MS', 200, 1),
  summaryDir: envString(__ENV, 'SUMMARY_DIR', 'load-tests/results'),
};
const loadSeconds = settings.rampSeconds + settings.holdSeconds + settings.rampDownSeconds;

const reservationsRecorded = new Gauge('reservations_recorded');

export const options: Options = {
  setupTimeout: '2m',
  summaryTrendStats: SUMMARY_TREND_STATS,
  scenarios: {
    reservers: spikeScenario('reserve', settings),
  },
  thresholds: {
    unexpected_errors: ['count==0'],
    checks: ['rate==1'],
    'http_req_duration{name:reserve}': [`p(99)<${settings.p99Ms}`],
    dropped_iterations: ['count==0'],
    ...outcomeBreakdown('reserve', ['CREATED', 'OK']),
  },
};

export function setup(): SaleSetup {
  const token = opsToken(connection);
  const tag = runTag();
  const now = Date.now();
  // The window stays open well past the load, so no reservation meets RESERVATION_CLOSED.
  const closesAt = now + (loadSeconds + 3600) * 1000;
  const sale = createSale(connection, token, saleDraft({
    label: `k6-reservation-rush-${tag}`,
    stock: 1_000,
    reservationOpensAt: now - 60_000,
    reservationClosesAt: closesAt,
    fcodeOpensAt: closesAt,
    startsAt: closesAt,
    endsAt: closesAt + 24 * 3600_000,
  }));
  return { saleId: sale.id, buyerPrefix: `k6-${tag}-`, opsToken: token };
}

interface Reservation {
  userId: string;
  reservedAt: string;
}

// Buyers this VU has reserved, for the returning-buyer case (their first reservation certainly landed).
const reservedByThisVu: Reservation[] = [];

function reservationOf(body: string | null): Reservation | undefined {
  try {
    return body ? (JSON.parse(body) as Reservation) : undefined;
  } catch {
    return undefined;
  }
}

function reserveOnce(data: SaleSetup, userId: string, token: string): void {
  const response = call(connection, 'POST', `/api/sales/${data.saleId}/reservations`, { token, body: '{}', name: 'reserve' });
  const outcome = classifyResponse(response.status, response.body);
  recordOutcome('reserve', outcome);
  const reservation = reservationOf(response.body);
  check(response, { 'reserve: 201 for the buyer who asked': () => response.status === 201 && reservation?.userId === userId });
  if (response.status === 201 && reservation) reservedByThisVu.push(reservation);
}

function reserveAgain(data: SaleSetup, earlier: Reservation): void {
  const token = buyerToken(connection, earlier.userId);
  const response = call(connection, 'POST', `/api/sales/${data.saleId}/reservations`, { token, body: '{}', name: 'reserve' });
  recordOutcome('reserve', classifyResponse(response.status, response.body));
  check(response, { 'reserve again: 200 with the first reservedAt': () => response.status === 200 && reservationOf(response.body)?.reservedAt === earlier.reservedAt });
}

function reserveTwiceAtOnce(data: SaleSetup, userId: string, token: string): void {
  const request = {
    method: 'POST',
    url: `${connection.baseUrl}/api/sales/${data.saleId}/reservations`,
    body: '{}',
    params: { headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, tags: { name: 'reserve' } },
  };
  const responses = http.batch([request, request]);
  for (const response of responses) recordOutcome('reserve', classifyResponse(response.status, response.body as string | null));
  const statuses = responses.map((response) => response.status).sort();
  const reservations = responses.map((response) => reservationOf(response.body as string | null));
  check(responses, {
    'double click: one 201 and one 200': () => statuses[0] === 200 && statuses[1] === 201,
    'double click: both answers carry the same reservedAt': () => reservations[0] !== undefined && reservations[0]?.reservedAt === reservations[1]?.reservedAt,
  });
  const created = reservations.find((reservation) => reservation !== undefined);
  if (created) reservedByThisVu.push(created);
}

function checkReservation(data: SaleSetup, reservation: Reservation): void {
  const token = buyerToken(connection, reservation.userId);
  const response = call(connection, 'GET', `/api/sales/${data.saleId}/reservations/me`, { token, name: 'reservation-me' });
  recordOutcome('reservation-me', classifyResponse(response.status, response.body));
  check(response, { 'my reservation: 200 with my reservedAt': () => response.status === 200 && reservationOf(response.body)?.reservedAt === reservation.reservedAt });
}

export function reserve(data: SaleSetup): void {
  const roll = Math.random();
  if (roll < settings.repeatRatio && reservedByThisVu.length > 0) {
    reserveAgain(data, reservedByThisVu[randomIndex(reservedByThisVu.length)]);
    return;
  }
  const userId = buyerId(data.buyerPrefix, exec.scenario.iterationInTest);
  const token = buyerToken(connection, userId);
  if (roll < settings.repeatRatio + settings.doubleClickRatio) reserveTwiceAtOnce(data, userId, token);
  else reserveOnce(data, userId, token);
  if (Math.random() < settings.checkRatio && reservedByThisVu.length > 0) checkReservation(data, reservedByThisVu[reservedByThisVu.length - 1]);
}

export function teardown(data: SaleSetup): void {
  const sale = adminCall<SaleView & { reservations: number }>(connection, data.opsToken, 'GET', `/api/admin/sales/${data.saleId}`, 'admin:sale');
  reservationsRecorded.add(sale.reservations);
  console.info(`sale ${data.saleId}: ${sale.reservations} reservations recorded`);
}

export function handleSummary(data: SummaryData): Record<string, string> {
  const recorded = data.metrics.reservations_recorded?.values.value;
  const created = data.metrics['outcomes{action:reserve,code:CREATED}']?.values.count ?? 0;
  const notes = recorded === undefined
    ? ['Reservation count: not recorded']
    : [`Reservation count: ${created} answered 201, ${recorded} recorded by the service: ${created === recorded ? 'consistent' : 'MISMATCH'}`];
  return summaryOutputs(data, { scenario: 'reservation-rush', outDir: settings.summaryDir, notes });
}
