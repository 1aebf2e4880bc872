/**
 * Launch rehearsal: a sale with STOCK units and RESERVED reserved buyers; at the start time a spike of
 * purchases from random reserved buyers (ramping arrival rate) while a population of waiting buyers
 * polls the sale page. SOLD_OUT and LIMIT_REACHED are expected answers. The run fails on any unexpected
 * answer, on a purchase p(99) over P99_MS, on dropped iterations (the load generator could not keep up,
 * so the rate was not really offered), or if the stats after the run break the stock equation, show
 * oversold units, or miss accepted orders in the database.
 *
 *   k6 run load-tests/flash-sale.ts                  (see load-tests/README.md for every variable)
 */
import { check, sleep } from 'k6';
import type { Options } from 'k6/options';
import { awaitSettled, buyerToken, call, connectionFromEnv, createFarFutureSale, importReservations, openSaleSoon, opsToken, type SaleSetup } from './lib/client.ts';
import { envDurationSeconds, envInt, envNumber, envRatio, envString } from './lib/env.ts';
import { outcomeBreakdown, recordOutcome, recordStockCheck, stockNotes } from './lib/k6-metrics.ts';
import { classifyResponse, FLASH_SALE_EXPECTED } from './lib/outcomes.ts';
import { buyerId, idempotencyKey, purchaseBody, randomIndex, runTag } from './lib/payloads.ts';
import { seconds, spikeScenario, SUMMARY_TREND_STATS } from './lib/scenarios.ts';
import { summaryOutputs, type SummaryData } from './lib/summary.ts';

const connection = connectionFromEnv(__ENV);
const settings = {
  stock: envInt(__ENV, 'STOCK', 10_000, 1),
  reserved: envInt(__ENV, 'RESERVED', 100_000, 1),
  perUserLimit: envInt(__ENV, 'PER_USER_LIMIT', 1, 1, 100),
  startLeadSeconds: envDurationSeconds(__ENV, 'START_LEAD', 10),
  peakRate: envInt(__ENV, 'PEAK_RATE', 2_000, 1),
  rampSeconds: envDurationSeconds(__ENV, 'RAMP', 5),
  holdSeconds: envDurationSeconds(__ENV, 'HOLD', 30),
  rampDownSeconds: envDurationSeconds(__ENV, 'RAMP_DOWN', 5),
  preAllocatedVus: envInt(__ENV, 'PRE_VUS', 200, 1),
  maxVus: envInt(__ENV, 'MAX_VUS', 2_000, 1),
  waitingVus: envInt(__ENV, 'WAITING_VUS', 200, 0),
  pollSeconds: envNumber(__ENV, 'POLL_S', 3, 0.1),
  pollJitterSeconds: envNumber(__ENV, 'POLL_JITTER_S', 2, 0),
  doubleClickRatio: envRatio(__ENV, 'DOUBLE_CLICK_RATIO', 0.05),
  p99Ms: envNumber(__ENV, 'P99_MS', 200, 1),
  persistTimeoutSeconds: envDurationSeconds(__ENV, 'PERSIST_TIMEOUT', 60),
  summaryDir: envString(__ENV, 'SUMMARY_DIR', 'load-tests/results'),
};
const loadSeconds = settings.rampSeconds + settings.holdSeconds + settings.rampDownSeconds;

export const options: Options = {
  setupTimeout: envString(__ENV, 'SETUP_TIMEOUT', '10m'),
  teardownTimeout: seconds(settings.persistTimeoutSeconds + 60),
  summaryTrendStats: SUMMARY_TREND_STATS,
  scenarios: {
    buyers: spikeScenario('purchase', settings),
    ...(settings.waitingVus > 0
      ? { waiting: { executor: 'constant-vus' as const, exec: 'waitingBuyer', vus: settings.waitingVus, duration: seconds(loadSeconds) } }
      : {}),
  },
  thresholds: {
    unexpected_errors: ['count==0'],
    'http_req_duration{name:purchase}': [`p(99)<${settings.p99Ms}`],
    dropped_iterations: ['count==0'],
    invariant_violations: ['count==0'],
    ...outcomeBreakdown('purchase', ['CREATED', ...FLASH_SALE_EXPECTED]),
  },
};

export function setup(): SaleSetup {
  const token = opsToken(connection);
  const tag = runTag();
  const sale = createFarFutureSale(connection, token, { label: `k6-flash-sale-${tag}`, stock: settings.stock, perUserLimit: settings.perUserLimit });
  const buyerPrefix = `k6-${tag}-`;
  const imported = importReservations(connection, token, sale.id, buyerPrefix, settings.reserved);
  console.info(`sale ${sale.id}: imported ${imported.imported} reserved buyers (${imported.duplicates} duplicates) in ${imported.seconds.toFixed(1)} s`);

  openSaleSoon(connection, token, sale, settings.startLeadSeconds * 1000);
  return { saleId: sale.id, buyerPrefix, opsToken: token };
}

function orderIdOf(body: string | null): string | undefined {
  const match = body ? /"id"\s*:\s*"([^"]+)"/.exec(body) : null;
  return match ? match[1] : undefined;
}

export function purchase(data: SaleSetup): void {
  const buyer = buyerId(data.buyerPrefix, randomIndex(settings.reserved));
  const token = buyerToken(connection, buyer);
  const key = idempotencyKey();
  const request = { token, body: purchaseBody(1), headers: { 'idempotency-key': key }, expectedStatuses: [201, 409] };
  const response = call(connection, 'POST', `/api/sales/${data.saleId}/purchase`, { ...request, name: 'purchase' });
  const outcome = classifyResponse(response.status, response.body, FLASH_SALE_EXPECTED);
  recordOutcome('purchase', outcome);
  check(response, { 'purchase: 201 or an expected refusal': () => outcome.expected });

  // A buyer who clicks twice resends the same request with the same key: the first order comes back.
  if (outcome.code === 'CREATED' && Math.random() < settings.doubleClickRatio) {
    const again = call(connection, 'POST', `/api/sales/${data.saleId}/purchase`, { ...request, name: 'purchase-retry' });
    const sameOrder = again.status === 201 && orderIdOf(again.body) === orderIdOf(response.body);
    recordOutcome('purchase-retry', sameOrder ? { code: 'REPLAYED', status: again.status, expected: true } : classifyResponse(again.status, again.body));
    check(again, { 'retry with the same Idempotency-Key returns the same order': () => sameOrder });
  }
}

export function waitingBuyer(data: SaleSetup): void {
  const response = call(connection, 'GET', `/api/sales/${data.saleId}`, { name: 'sale-view' });
  const outcome = classifyResponse(response.status, response.body);
  recordOutcome('sale-view', outcome);
  check(response, { 'sale view: 200': () => response.status === 200 });
  sleep(settings.pollSeconds + Math.random() * settings.pollJitterSeconds);
}

export function teardown(data: SaleSetup): void {
  const settled = awaitSettled(connection, data.opsToken, data.saleId, settings.persistTimeoutSeconds);
  recordStockCheck(settled);
  console.info(`sale ${data.saleId}: ${JSON.stringify(settled.stats)}`);
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return summaryOutputs(data, { scenario: 'flash-sale', outDir: settings.summaryDir, notes: stockNotes(data) });
}
