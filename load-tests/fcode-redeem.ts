/**
 * F-code redemption in the priority window: holders buy with their code before the general sale opens
 * (no reservation needed), drawing from the F-code pool first. Some reuse a code someone already
 * redeemed (FCODE_USED), some mistype a character (FCODE_INVALID, caught by the check character) and
 * some type the code in lower case without dashes (must still work). Each holder comes from their own
 * address (`X-Forwarded-For`), as real buyers behind a load balancer do; the service honours it only
 * with TRUST_PROXY naming the load generator (or `true`), otherwise every holder shares one address and
 * the per-address wrong-code brake soon refuses honest holders too. Fails on any unexpected answer, on
 * broken stock, or if the codes redeemed do not match the units sold (every order in this sale needs
 * its own code).
 *
 *   k6 run load-tests/fcode-redeem.ts
 */
import { check } from 'k6';
import exec from 'k6/execution';
import { Gauge } from 'k6/metrics';
import type { Options } from 'k6/options';
import { adminCall, awaitSettled, buyerToken, call, connectionFromEnv, createFarFutureSale, fail, openSaleSoon, opsToken } from './lib/client.ts';
import { envDurationSeconds, envInt, envNumber, envRatio, envString } from './lib/env.ts';
import { invariantViolations, outcomeBreakdown, recordOutcome, recordStockCheck, stockNotes } from './lib/k6-metrics.ts';
import { classifyResponse } from './lib/outcomes.ts';
import { buyerId, casualFcode, chunkRanges, clientAddress, FCODE_BATCH_MAX, mistypeFcode, purchaseBody, randomIndex, runTag } from './lib/payloads.ts';
import { seconds, spikeScenario, SUMMARY_TREND_STATS } from './lib/scenarios.ts';
import { summaryOutputs, type SummaryData } from './lib/summary.ts';

const connection = connectionFromEnv(__ENV);
const settings = {
  fcodes: envInt(__ENV, 'FCODES', 5_000, 1),
  fcodeStock: envInt(__ENV, 'FCODE_STOCK', 4_000, 0),
  generalStock: envInt(__ENV, 'STOCK', 500, 0),
  startLeadSeconds: envDurationSeconds(__ENV, 'START_LEAD', 5),
  priorityWindowSeconds: envDurationSeconds(__ENV, 'PRIORITY_WINDOW', 120),
  peakRate: envInt(__ENV, 'PEAK_RATE', 200, 1),
  rampSeconds: envDurationSeconds(__ENV, 'RAMP', 5),
  holdSeconds: envDurationSeconds(__ENV, 'HOLD', 30),
  rampDownSeconds: envDurationSeconds(__ENV, 'RAMP_DOWN', 5),
  preAllocatedVus: envInt(__ENV, 'PRE_VUS', 50, 1),
  maxVus: envInt(__ENV, 'MAX_VUS', 500, 1),
  reuseRatio: envRatio(__ENV, 'REUSE_RATIO', 0.05),
  mistypeRatio: envRatio(__ENV, 'MISTYPE_RATIO', 0.05),
  casualRatio: envRatio(__ENV, 'CASUAL_RATIO', 0.2),
  p99Ms: envNumber(__ENV, 'P99_MS', 200, 1),
  persistTimeoutSeconds: envDurationSeconds(__ENV, 'PERSIST_TIMEOUT', 60),
  summaryDir: envString(__ENV, 'SUMMARY_DIR', 'load-tests/results'),
};
const loadSeconds = settings.rampSeconds + settings.holdSeconds + settings.rampDownSeconds;
if (loadSeconds >= settings.priorityWindowSeconds) {
  throw new Error(`RAMP + HOLD + RAMP_DOWN (${loadSeconds} s) must fit in PRIORITY_WINDOW (${settings.priorityWindowSeconds} s): this scenario tests the priority window only`);
}

/** What each kind of attempt may be answered without anything being wrong. */
const EXPECTED = {
  own: ['SOLD_OUT', 'FCODE_USED'],
  reused: ['FCODE_USED', 'SOLD_OUT'],
  // Once both pools are empty the service may answer SOLD_OUT before it looks at the code at all; and
  // refusing a buyer who keeps mistyping is the brake doing its job.
  mistyped: ['FCODE_INVALID', 'SOLD_OUT', 'RATE_LIMITED'],
};

const fcodesRedeemed = new Gauge('fcodes_redeemed');

export const options: Options = {
  setupTimeout: envString(__ENV, 'SETUP_TIMEOUT', '5m'),
  teardownTimeout: seconds(settings.persistTimeoutSeconds + 60),
  summaryTrendStats: SUMMARY_TREND_STATS,
  scenarios: {
    holders: spikeScenario('redeem', settings),
  },
  thresholds: {
    unexpected_errors: ['count==0'],
    'http_req_duration{name:purchase}': [`p(99)<${settings.p99Ms}`],
    dropped_iterations: ['count==0'],
    invariant_violations: ['count==0'],
    ...outcomeBreakdown('own-code', ['CREATED', ...EXPECTED.own]),
    ...outcomeBreakdown('reused-code', ['CREATED', ...EXPECTED.reused]),
    ...outcomeBreakdown('mistyped-code', EXPECTED.mistyped),
    ...outcomeBreakdown('own-code', ['RATE_LIMITED']),
  },
};

interface SetupData {
  saleId: string;
  holderPrefix: string;
  codes: string[];
  opsToken: string;
}

export function setup(): SetupData {
  const token = opsToken(connection);
  const tag = runTag();
  const sale = createFarFutureSale(connection, token, { label: `k6-fcode-redeem-${tag}`, stock: settings.generalStock, fcodeStock: settings.fcodeStock });
  const codes: string[] = [];
  const issueStarted = Date.now();
  for (const range of chunkRanges(settings.fcodes, FCODE_BATCH_MAX)) {
    const batch = adminCall<{ batchId: string; codes: string[] }>(connection, token, 'POST', `/api/admin/sales/${sale.id}/fcodes`, 'admin:issue-fcodes', JSON.stringify({ count: range.count }), [201]);
    codes.push(...batch.codes);
  }
  if (codes.length !== settings.fcodes) fail(`asked for ${settings.fcodes} F-codes, got ${codes.length}`);
  console.info(`sale ${sale.id}: issued ${codes.length} F-codes in ${((Date.now() - issueStarted) / 1000).toFixed(1)} s`);

  openSaleSoon(connection, token, sale, settings.startLeadSeconds * 1000, settings.priorityWindowSeconds * 1000);
  return { saleId: sale.id, holderPrefix: `k6-${tag}-holder-`, codes, opsToken: token };
}

let warnedAboutSharedAddress = false;

export function redeem(data: SetupData): void {
  const iteration = exec.scenario.iterationInTest;
  const userId = buyerId(data.holderPrefix, iteration);
  const roll = Math.random();
  let kind: keyof typeof EXPECTED = 'own';
  let code = data.codes[iteration % data.codes.length];
  if (roll < settings.mistypeRatio) {
    kind = 'mistyped';
    code = mistypeFcode(code);
  } else if (roll < settings.mistypeRatio + settings.reuseRatio && iteration > 0) {
    kind = 'reused';
    code = data.codes[randomIndex(Math.min(iteration, data.codes.length))];
  } else if (Math.random() < settings.casualRatio) {
    code = casualFcode(code);
  }
  const response = call(connection, 'POST', `/api/sales/${data.saleId}/purchase`, {
    token: buyerToken(connection, userId),
    body: purchaseBody(1, code),
    headers: { 'x-forwarded-for': clientAddress(iteration) },
    name: 'purchase',
    tags: { kind },
    expectedStatuses: [201, 403, 409],
  });
  const outcome = classifyResponse(response.status, response.body, EXPECTED[kind]);
  recordOutcome(`${kind}-code`, outcome);
  if (outcome.code === 'RATE_LIMITED' && kind !== 'mistyped' && !warnedAboutSharedAddress) {
    warnedAboutSharedAddress = true;
    console.warn('An honest F-code holder was refused with RATE_LIMITED: the service sees every holder at one address. Run it with TRUST_PROXY set to the load generator\'s address (or true) so X-Forwarded-For counts, or lower MISTYPE_RATIO.');
  }
  check(response, { [`${kind} code: 201 or an expected refusal`]: () => outcome.expected });
}

export function teardown(data: SetupData): void {
  const settled = awaitSettled(connection, data.opsToken, data.saleId, settings.persistTimeoutSeconds);
  recordStockCheck(settled);
  const summary = adminCall<{ issued: number; redeemed: number; void: number; expired: number }>(connection, data.opsToken, 'GET', `/api/admin/sales/${data.saleId}/fcodes/summary`, 'admin:fcode-summary');
  fcodesRedeemed.add(summary.redeemed);
  // Nobody in this sale has a reservation, so every unit sold needs a code of its own: one code behind
  // two orders would show as fewer codes redeemed than units sold.
  if (summary.redeemed !== settled.check.unitsSold) {
    invariantViolations.add(1, { invariant: 'fcode_per_order' });
    console.error(`INVARIANT: ${summary.redeemed} F-codes redeemed for ${settled.check.unitsSold} units sold`);
  }
  if (summary.issued !== data.codes.length) invariantViolations.add(1, { invariant: 'fcodes_issued' });
  console.info(`sale ${data.saleId}: ${JSON.stringify(settled.stats)} fcodes ${JSON.stringify(summary)}`);
}

export function handleSummary(data: SummaryData): Record<string, string> {
  const redeemed = data.metrics.fcodes_redeemed?.values.value;
  const notes = [...stockNotes(data), `F-codes redeemed: ${redeemed ?? 'not recorded'}`];
  return summaryOutputs(data, { scenario: 'fcode-redeem', outDir: settings.summaryDir, notes });
}
