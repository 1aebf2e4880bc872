/**
 * Soak: steady mixed load for a long period (DURATION, 30 minutes by default) to find leaks, slow
 * drifts and rare races. Shoppers buy and then pay (some after a declined card), cancel or walk away
 * (their orders expire after a short payment window and the units go back on sale); browsers poll the
 * sale pages; an auditor checks the stock equation every AUDIT_EVERY seconds while all of this runs.
 * Fails on any unexpected answer, failed check, purchase p(99) over P99_MS, or broken invariant.
 *
 *   k6 run -e DURATION=2h load-tests/soak.ts
 */
import { check, sleep } from 'k6';
import type { Options } from 'k6/options';
import { awaitSettled, buyerToken, call, connectionFromEnv, createFarFutureSale, fetchStats, importReservations, openSaleSoon, opsToken, type SaleSetup } from './lib/client.ts';
import { envDurationSeconds, envInt, envNumber, envRatio, envString } from './lib/env.ts';
import { checkStock } from './lib/invariants.ts';
import { invariantViolations, outcomeBreakdown, recordOutcome, recordStockCheck, stockNotes } from './lib/k6-metrics.ts';
import { classifyResponse, FLASH_SALE_EXPECTED } from './lib/outcomes.ts';
import { buyerId, idempotencyKey, purchaseBody, randomIndex, runTag } from './lib/payloads.ts';
import { seconds, SUMMARY_TREND_STATS } from './lib/scenarios.ts';
import { summaryOutputs, type SummaryData } from './lib/summary.ts';

const connection = connectionFromEnv(__ENV);
const settings = {
  durationSeconds: envDurationSeconds(__ENV, 'DURATION', 30 * 60),
  stock: envInt(__ENV, 'STOCK', 1_000_000, 1),
  reserved: envInt(__ENV, 'RESERVED', 200_000, 1),
  perUserLimit: envInt(__ENV, 'PER_USER_LIMIT', 2, 1, 100),
  paymentWindowSeconds: envInt(__ENV, 'PAYMENT_WINDOW_S', 30, 5, 86_400),
  shopperRate: envInt(__ENV, 'RATE', 50, 1),
  preAllocatedVus: envInt(__ENV, 'PRE_VUS', 50, 1),
  maxVus: envInt(__ENV, 'MAX_VUS', 500, 1),
  browserVus: envInt(__ENV, 'WAITING_VUS', 50, 0),
  pollSeconds: envNumber(__ENV, 'POLL_S', 5, 0.1),
  payRatio: envRatio(__ENV, 'PAY_RATIO', 0.6),
  cancelRatio: envRatio(__ENV, 'CANCEL_RATIO', 0.2),
  declineRatio: envRatio(__ENV, 'DECLINE_RATIO', 0.05),
  auditEverySeconds: envInt(__ENV, 'AUDIT_EVERY', 10, 1),
  p99Ms: envNumber(__ENV, 'P99_MS', 200, 1),
  persistTimeoutSeconds: envDurationSeconds(__ENV, 'PERSIST_TIMEOUT', 120),
  summaryDir: envString(__ENV, 'SUMMARY_DIR', 'load-tests/results'),
};

export const options: Options = {
  setupTimeout: envString(__ENV, 'SETUP_TIMEOUT', '10m'),
  teardownTimeout: seconds(settings.persistTimeoutSeconds + 60),
  summaryTrendStats: SUMMARY_TREND_STATS,
  scenarios: {
    shoppers: {
      executor: 'constant-arrival-rate',
      exec: 'shop',
      rate: settings.shopperRate,
      timeUnit: '1s',
      duration: seconds(settings.durationSeconds),
      preAllocatedVUs: settings.preAllocatedVus,
      maxVUs: settings.maxVus,
    },
    ...(settings.browserVus > 0
      ? { browsers: { executor: 'constant-vus' as const, exec: 'browse', vus: settings.browserVus, duration: seconds(settings.durationSeconds) } }
      : {}),
    auditor: {
      executor: 'constant-arrival-rate',
      exec: 'audit',
      rate: 1,
      timeUnit: `${settings.auditEverySeconds}s`,
      duration: seconds(settings.durationSeconds),
      preAllocatedVUs: 1,
      maxVUs: 2,
    },
  },
  thresholds: {
    unexpected_errors: ['count==0'],
    checks: ['rate==1'],
    'http_req_duration{name:purchase}': [`p(99)<${settings.p99Ms}`],
    dropped_iterations: ['count==0'],
    invariant_violations: ['count==0'],
    ...outcomeBreakdown('purchase', ['CREATED', ...FLASH_SALE_EXPECTED]),
    ...outcomeBreakdown('pay', ['OK', 'PAYMENT_DECLINED']),
    ...outcomeBreakdown('cancel', ['OK']),
  },
};

export function setup(): SaleSetup {
  const token = opsToken(connection);
  const tag = runTag();
  const sale = createFarFutureSale(
    connection,
    token,
    { label: `k6-soak-${tag}`, stock: settings.stock, perUserLimit: settings.perUserLimit, paymentWindowSeconds: settings.paymentWindowSeconds },
    7 * 24 * 3600_000,
  );
  const buyerPrefix = `k6-${tag}-`;
  const imported = importReservations(connection, token, sale.id, buyerPrefix, settings.reserved);
  console.info(`sale ${sale.id}: imported ${imported.imported} reserved buyers in ${imported.seconds.toFixed(1)} s`);
  openSaleSoon(connection, token, sale, 5_000);
  return { saleId: sale.id, buyerPrefix, opsToken: token };
}

function statusOf(body: string | null): string | undefined {
  const match = body ? /"status"\s*:\s*"([a-z_]+)"/.exec(body) : null;
  return match ? match[1] : undefined;
}

function orderIdOf(body: string | null): string | undefined {
  const match = body ? /"id"\s*:\s*"([^"]+)"/.exec(body) : null;
  return match ? match[1] : undefined;
}

function pay(orderId: string, token: string, outcome: 'succeed' | 'decline'): string | undefined {
  const response = call(connection, 'POST', `/api/orders/${orderId}/pay`, { token, body: JSON.stringify({ method: 'test-card', outcome }), name: 'pay', expectedStatuses: [200, 402] });
  const result = classifyResponse(response.status, response.body, outcome === 'decline' ? ['PAYMENT_DECLINED'] : []);
  recordOutcome('pay', result);
  check(response, { [`pay (${outcome}): ${outcome === 'decline' ? '402 PAYMENT_DECLINED' : '200 paid'}`]: () => (outcome === 'decline' ? result.code === 'PAYMENT_DECLINED' : statusOf(response.body) === 'paid') });
  return outcome === 'decline' ? 'pending_payment' : 'paid';
}

export function shop(data: SaleSetup): void {
  const buyer = buyerId(data.buyerPrefix, randomIndex(settings.reserved));
  const token = buyerToken(connection, buyer);
  const response = call(connection, 'POST', `/api/sales/${data.saleId}/purchase`, {
    token,
    body: purchaseBody(1),
    headers: { 'idempotency-key': idempotencyKey() },
    name: 'purchase',
    expectedStatuses: [201, 409],
  });
  const outcome = classifyResponse(response.status, response.body, FLASH_SALE_EXPECTED);
  recordOutcome('purchase', outcome);
  check(response, { 'purchase: 201 or an expected refusal': () => outcome.expected });
  const orderId = outcome.code === 'CREATED' ? orderIdOf(response.body) : undefined;
  if (!orderId) return;

  let expectedStatus = 'pending_payment';
  const roll = Math.random();
  if (roll < settings.payRatio) {
    if (Math.random() < settings.declineRatio) pay(orderId, token, 'decline');
    expectedStatus = pay(orderId, token, 'succeed') ?? expectedStatus;
  } else if (roll < settings.payRatio + settings.cancelRatio) {
    const cancelled = call(connection, 'POST', `/api/orders/${orderId}/cancel`, { token, name: 'cancel' });
    recordOutcome('cancel', classifyResponse(cancelled.status, cancelled.body));
    check(cancelled, { 'cancel: 200 cancelled': () => statusOf(cancelled.body) === 'cancelled' });
    expectedStatus = 'cancelled';
  }
  const order = call(connection, 'GET', `/api/orders/${orderId}`, { token, name: 'order' });
  recordOutcome('order', classifyResponse(order.status, order.body));
  check(order, { 'order: reads back with the status it was left in': () => statusOf(order.body) === expectedStatus });
}

export function browse(data: SaleSetup): void {
  const sale = call(connection, 'GET', `/api/sales/${data.saleId}`, { name: 'sale-view' });
  recordOutcome('sale-view', classifyResponse(sale.status, sale.body));
  const list = call(connection, 'GET', '/api/sales', { name: 'sale-list' });
  recordOutcome('sale-list', classifyResponse(list.status, list.body));
  sleep(settings.pollSeconds * (0.5 + Math.random()));
}

/** The stock equation holds at every moment, not only once the load stops. */
export function audit(data: SaleSetup): void {
  const stockCheck = checkStock(fetchStats(connection, data.opsToken, data.saleId));
  invariantViolations.add(0);
  if (!stockCheck.equationHolds) invariantViolations.add(1, { invariant: 'stock_equation' });
  if (stockCheck.oversold > 0) invariantViolations.add(1, { invariant: 'oversold' });
  for (const violation of stockCheck.violations) console.error(`INVARIANT (live): ${violation}`);
}

export function teardown(data: SaleSetup): void {
  const settled = awaitSettled(connection, data.opsToken, data.saleId, settings.persistTimeoutSeconds);
  recordStockCheck(settled);
  console.info(`sale ${data.saleId}: ${JSON.stringify(settled.stats)}`);
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return summaryOutputs(data, { scenario: 'soak', outDir: settings.summaryDir, notes: stockNotes(data) });
}
