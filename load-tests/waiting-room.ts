/**
 * The waiting room: BUYERS buyers (one VU each) join a sale's waiting room before its start, then wait
 * in line polling `GET …/queue/me`; from the start the room admits ADMISSION_RATE a second, and each
 * admitted buyer buys once with their admission token. NOT_ADMITTED must never happen (buyers only buy
 * once admitted), SOLD_OUT is expected once the stock is gone, and every buyer still waiting must be told
 * `soldOut`. The run fails on any unexpected answer, a broken stock equation or oversold units; it
 * reports how long buyers waited from the start to their admission.
 *
 *   k6 run load-tests/waiting-room.ts                 (see load-tests/README.md for every variable)
 */
import { check, sleep } from 'k6';
import { Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { awaitSettled, buyerToken, call, connectionFromEnv, createSale, opsToken, rescheduleSale, serverOffsetMs } from './lib/client.ts';
import { envDurationSeconds, envInt, envNumber, envString } from './lib/env.ts';
import { outcomeBreakdown, recordOutcome, recordStockCheck, stockNotes } from './lib/k6-metrics.ts';
import { classifyResponse, FLASH_SALE_EXPECTED } from './lib/outcomes.ts';
import { buyerId, idempotencyKey, purchaseBody, runTag, saleDraft } from './lib/payloads.ts';
import { farFutureWindow, seconds, SUMMARY_TREND_STATS } from './lib/scenarios.ts';
import { summaryOutputs, type SummaryData } from './lib/summary.ts';

const connection = connectionFromEnv(__ENV);
const settings = {
  buyers: envInt(__ENV, 'BUYERS', 2_000, 1, 100_000),
  stock: envInt(__ENV, 'STOCK', 500, 1),
  admissionRate: envInt(__ENV, 'ADMISSION_RATE', 100, 1, 100_000),
  startLeadSeconds: envDurationSeconds(__ENV, 'START_LEAD', 20),
  pollSeconds: envNumber(__ENV, 'POLL_S', 2, 0.1),
  maxWaitSeconds: envDurationSeconds(__ENV, 'MAX_WAIT', 120),
  p99Ms: envNumber(__ENV, 'P99_MS', 200, 1),
  persistTimeoutSeconds: envDurationSeconds(__ENV, 'PERSIST_TIMEOUT', 60),
  summaryDir: envString(__ENV, 'SUMMARY_DIR', 'load-tests/results'),
};

/** Seconds from the sale's start to the buyer's admission (the wait the waiting room imposed). */
const admissionWait = new Trend('admission_wait_seconds');

export const options: Options = {
  setupTimeout: '2m',
  teardownTimeout: seconds(settings.persistTimeoutSeconds + 60),
  summaryTrendStats: SUMMARY_TREND_STATS,
  scenarios: {
    buyers: {
      executor: 'per-vu-iterations',
      exec: 'buyer',
      vus: settings.buyers,
      iterations: 1,
      maxDuration: seconds(settings.startLeadSeconds + settings.maxWaitSeconds + 30),
    },
  },
  thresholds: {
    unexpected_errors: ['count==0'],
    'http_req_duration{name:queue-me}': [`p(99)<${settings.p99Ms}`],
    invariant_violations: ['count==0'],
    ...outcomeBreakdown('purchase', ['CREATED', ...FLASH_SALE_EXPECTED]),
  },
};

interface SetupData {
  saleId: string;
  buyerPrefix: string;
  opsToken: string;
  startsAt: number;
  offsetMs: number;
}

export function setup(): SetupData {
  const token = opsToken(connection);
  const tag = runTag();
  const now = Date.now();
  const sale = createSale(connection, token, {
    ...saleDraft({ label: `k6-waiting-room-${tag}`, stock: settings.stock, reservationRequired: false, ...farFutureWindow(now) }),
    admission: 'queue',
    admissionRatePerSecond: settings.admissionRate,
    queueOpensAt: new Date(now - 60_000).toISOString(),
  });
  const offsetMs = serverOffsetMs(sale);
  const startsAt = Date.now() + offsetMs + settings.startLeadSeconds * 1000;
  rescheduleSale(connection, token, sale.id, { reservationClosesAt: startsAt, fcodeOpensAt: startsAt, startsAt });
  console.info(`sale ${sale.id}: ${settings.buyers} buyers join its waiting room; it starts at ${new Date(startsAt).toISOString()} (server clock) and admits ${settings.admissionRate}/s`);
  return { saleId: sale.id, buyerPrefix: `k6-${tag}-`, opsToken: token, startsAt, offsetMs };
}

export function buyer(data: SetupData): void {
  const token = buyerToken(connection, buyerId(data.buyerPrefix, __VU));
  const joined = call(connection, 'POST', `/api/sales/${data.saleId}/queue`, { token, body: '{}', name: 'queue-join' });
  const joinOutcome = classifyResponse(joined.status, joined.body);
  recordOutcome('queue-join', joinOutcome);
  if (!check(joined, { 'join: 201': () => joined.status === 201 })) return;

  const giveUpAt = data.startsAt + settings.maxWaitSeconds * 1000;
  while (Date.now() + data.offsetMs < giveUpAt) {
    sleep(settings.pollSeconds * (0.8 + Math.random() * 0.4));
    const polled = call(connection, 'GET', `/api/sales/${data.saleId}/queue/me`, { token, name: 'queue-me' });
    recordOutcome('queue-me', classifyResponse(polled.status, polled.body));
    if (polled.status !== 200) return;
    const status = JSON.parse(polled.body ?? '{}') as { admissionToken?: string; soldOut: boolean; admitted: boolean };
    if (status.soldOut && !status.admitted) {
      check(status, { 'a waiting buyer is told the sale sold out': () => status.soldOut });
      return;
    }
    if (status.admissionToken !== undefined) {
      admissionWait.add(Math.max(0, Date.now() + data.offsetMs - data.startsAt) / 1000);
      const bought = call(connection, 'POST', `/api/sales/${data.saleId}/purchase`, {
        token,
        body: purchaseBody(1),
        headers: { 'idempotency-key': idempotencyKey(), 'admission-token': status.admissionToken },
        name: 'purchase',
        expectedStatuses: [201, 409],
      });
      const outcome = classifyResponse(bought.status, bought.body, FLASH_SALE_EXPECTED);
      recordOutcome('purchase', outcome);
      check(bought, { 'purchase: 201 or an expected refusal (never NOT_ADMITTED)': () => outcome.expected });
      return;
    }
  }
}

export function teardown(data: SetupData): void {
  const settled = awaitSettled(connection, data.opsToken, data.saleId, settings.persistTimeoutSeconds);
  recordStockCheck(settled);
  console.info(`sale ${data.saleId}: ${JSON.stringify(settled.stats)}`);
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return summaryOutputs(data, { scenario: 'waiting-room', outDir: settings.summaryDir, notes: stockNotes(data) });
}
