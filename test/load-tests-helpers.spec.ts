import fc from 'fast-check';
import { envBool, envDurationSeconds, envInt, envRatio, parseDurationSeconds } from '../load-tests/lib/env';
import { checkStock, type StockFigures } from '../load-tests/lib/invariants';
import { classifyResponse, errorCodeOf, FLASH_SALE_EXPECTED } from '../load-tests/lib/outcomes';
import { buyerId, casualFcode, chunkRanges, clientAddress, importBody, IMPORT_CHUNK_MAX, mistypeFcode, rescheduleBody, runTag, saleDraft } from '../load-tests/lib/payloads';
import { farFutureWindow, spikeScenario } from '../load-tests/lib/scenarios';
import { renderTextSummary, SummaryData, summaryOutputs, verdictOf } from '../load-tests/lib/summary';
import { formatFcode, generateFcode, parseFcode } from '../src/fcodes/fcode-codec';

describe('load-test helpers', () => {
  describe('chunkRanges', () => {
    it('covers every index once in chunks of at most the import limit', () => {
      const ranges = chunkRanges(1_000_000);
      expect(ranges).toHaveLength(10);
      expect(ranges.every((range) => range.count === IMPORT_CHUNK_MAX)).toBe(true);
      expect(chunkRanges(250_001, 100_000)).toEqual([
        { from: 0, count: 100_000 },
        { from: 100_000, count: 100_000 },
        { from: 200_000, count: 50_001 },
      ]);
    });

    it('returns no range for nothing to import', () => {
      expect(chunkRanges(0)).toEqual([]);
    });

    it('refuses a chunk size that would never finish', () => {
      expect(() => chunkRanges(10, 0)).toThrow('positive integer');
    });
  });

  describe('importBody', () => {
    it('lists the buyers of its range by their index', () => {
      expect(JSON.parse(importBody('k6-ab-', { from: 7, count: 3 }))).toEqual({ userIds: ['k6-ab-7', 'k6-ab-8', 'k6-ab-9'] });
      expect(buyerId('k6-ab-', 8)).toBe('k6-ab-8');
    });
  });

  describe('saleDraft and rescheduleBody', () => {
    it('writes every window as an ISO-8601 time', () => {
      const draft = saleDraft({ label: 'K6 Flash Sale x1', stock: 5, reservationOpensAt: 0, reservationClosesAt: 1000, fcodeOpensAt: 1000, startsAt: 1000, endsAt: 2000 });
      expect(draft).toMatchObject({ sku: 'k6-flash-sale-x1', stock: 5, fcodeStock: 0, perUserLimit: 1, reservationRequired: true, startsAt: '1970-01-01T00:00:01.000Z', endsAt: '1970-01-01T00:00:02.000Z' });
    });

    it('refuses a schedule whose windows close after the start', () => {
      expect(() => rescheduleBody({ reservationClosesAt: 2000, fcodeOpensAt: 1000, startsAt: 1000 })).toThrow('must not be after startsAt');
      expect(rescheduleBody({ reservationClosesAt: 1000, fcodeOpensAt: 1000, startsAt: 1000 })).toEqual({
        reservationClosesAt: '1970-01-01T00:00:01.000Z',
        fcodeOpensAt: '1970-01-01T00:00:01.000Z',
        startsAt: '1970-01-01T00:00:01.000Z',
      });
    });
  });

  describe('runTag', () => {
    it('is 8 lower-case characters usable in ids', () => {
      expect(runTag()).toMatch(/^[0-9a-z]{8}$/);
      expect(runTag(() => 0.999999)).toBe('zzzzzzzz');
    });
  });

  describe('mistypeFcode', () => {
    it('always yields a code the check character rejects as a typo', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.boolean(), (seed, grouped) => {
          let state = seed;
          const random = () => {
            state = (state * 1103515245 + 12345) % 2 ** 31;
            return state / 2 ** 31;
          };
          const code = grouped ? formatFcode(generateFcode()) : generateFcode();
          const mistyped = mistypeFcode(code, random);
          expect(mistyped).not.toBe(code);
          expect(parseFcode(mistyped)).toEqual({ ok: false, reason: 'typo' });
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('casualFcode', () => {
    it('is the same code to the service', () => {
      const code = formatFcode(generateFcode());
      expect(parseFcode(casualFcode(code))).toEqual(parseFcode(code));
      expect(casualFcode(code)).toMatch(/^[0-9a-z]{13}$/);
    });
  });

  describe('clientAddress', () => {
    it('gives each simulated device its own private address', () => {
      expect(clientAddress(0)).toBe('10.0.0.0');
      expect(clientAddress(65_793)).toBe('10.1.1.1');
      expect(new Set(Array.from({ length: 5000 }, (_, index) => clientAddress(index))).size).toBe(5000);
    });
  });

  describe('classifyResponse', () => {
    it('counts a 201 as a success', () => {
      expect(classifyResponse(201, '{"id":"o_1"}')).toEqual({ code: 'CREATED', status: 201, expected: true });
    });

    it('tags SOLD_OUT and LIMIT_REACHED as expected in a flash sale', () => {
      expect(classifyResponse(409, '{"statusCode":409,"code":"SOLD_OUT","message":"x","details":[]}', FLASH_SALE_EXPECTED)).toEqual({ code: 'SOLD_OUT', status: 409, expected: true });
      expect(classifyResponse(409, '{"statusCode":409,"code":"LIMIT_REACHED"}', FLASH_SALE_EXPECTED).expected).toBe(true);
    });

    it('counts every other refusal, a 5xx and no answer at all as unexpected', () => {
      expect(classifyResponse(403, '{"code":"NOT_ELIGIBLE"}', FLASH_SALE_EXPECTED)).toEqual({ code: 'NOT_ELIGIBLE', status: 403, expected: false });
      expect(classifyResponse(502, '<html>bad gateway</html>', FLASH_SALE_EXPECTED)).toEqual({ code: 'HTTP_502', status: 502, expected: false });
      expect(classifyResponse(0, null, FLASH_SALE_EXPECTED)).toEqual({ code: 'NO_RESPONSE', status: 0, expected: false });
    });

    it('reads the code even when the body has spaces', () => {
      expect(errorCodeOf('{ "code" : "FCODE_USED" }')).toBe('FCODE_USED');
      expect(errorCodeOf(undefined)).toBeUndefined();
    });
  });

  describe('checkStock', () => {
    const stats = (overrides: Partial<StockFigures['stock']> & { unitsSold?: number; persisted?: number } = {}): StockFigures => ({
      stock: { general: 100, fcode: 10, generalRemaining: 0, fcodeRemaining: 2, ...overrides },
      unitsSold: overrides.unitsSold ?? 108,
      orders: { pending_payment: 100, paid: 8, expired: 3, cancelled: 1, persisted: overrides.persisted ?? 112 },
    });

    it('passes a sale whose equation holds and whose orders are all persisted', () => {
      expect(checkStock(stats())).toEqual({ unitsSold: 108, capacity: 110, oversold: 0, equationHolds: true, ordersAccepted: 112, ordersPersisted: 112, persistedAll: true, violations: [] });
    });

    it('reports a broken equation', () => {
      const check = checkStock(stats({ unitsSold: 107 }));
      expect(check.equationHolds).toBe(false);
      expect(check.violations).toEqual([expect.stringContaining('stock equation broken')]);
    });

    it('reports units sold beyond the pools as oversold', () => {
      expect(checkStock(stats({ generalRemaining: -3, unitsSold: 111 })).oversold).toBe(3);
      expect(checkStock(stats({ generalRemaining: -3, unitsSold: 111 })).violations).toContain('oversold by 3 unit(s)');
    });

    it('tells a writer that is behind from one that wrote orders twice', () => {
      expect(checkStock(stats({ persisted: 100 }))).toMatchObject({ persistedAll: false, violations: [] });
      expect(checkStock(stats({ persisted: 113 })).violations).toEqual([expect.stringContaining('only 112 were accepted')]);
    });
  });

  describe('env readers', () => {
    it('reads numbers, ratios, switches and durations with defaults', () => {
      const env = { STOCK: '100_000', RATIO: '0.25', FLAG: 'no', HOLD: '1m30s' };
      expect(envInt(env, 'STOCK', 1)).toBe(100_000);
      expect(envInt(env, 'MISSING', 7)).toBe(7);
      expect(envRatio(env, 'RATIO', 0)).toBe(0.25);
      expect(envBool(env, 'FLAG', true)).toBe(false);
      expect(envDurationSeconds(env, 'HOLD', 1)).toBe(90);
      expect(parseDurationSeconds('250ms')).toBe(0.25);
      expect(parseDurationSeconds('1h2m')).toBe(3720);
    });

    it('names the variable when a value is bad', () => {
      expect(() => envInt({ STOCK: 'lots' }, 'STOCK', 1)).toThrow('STOCK must be an integer');
      expect(() => envRatio({ RATIO: '2' }, 'RATIO', 0)).toThrow('RATIO must be a number from 0 to 1');
      expect(() => envDurationSeconds({ HOLD: '5 minutes' }, 'HOLD', 1)).toThrow('HOLD must be a duration');
    });
  });

  describe('summary', () => {
    const data: SummaryData = {
      state: { testRunDurationMs: 61_500 },
      root_group: {
        name: '',
        checks: [{ name: 'purchase: 201 or an expected refusal', passes: 12_000, fails: 3 }],
        groups: [{ name: 'nested', checks: [{ name: 'sale view: 200', passes: 500, fails: 0 }] }],
      },
      metrics: {
        unexpected_errors: { type: 'counter', values: { count: 3, rate: 0.05 }, thresholds: { 'count==0': { ok: false } } },
        'http_req_duration{name:purchase}': { type: 'trend', contains: 'time', values: { avg: 12.5, min: 1, med: 9, 'p(90)': 20, 'p(95)': 30, 'p(99)': 41.234, max: 90 }, thresholds: { 'p(99)<200': { ok: true } } },
        'outcomes{action:purchase,code:SOLD_OUT}': { type: 'counter', values: { count: 9000, rate: 150 }, thresholds: { 'count>=0': { ok: true } } },
        http_req_waiting: { type: 'trend', contains: 'time', values: { avg: 1 } },
      },
    };

    it('fails the verdict when any threshold failed, and shows what each one measured', () => {
      const verdict = verdictOf(data, 'flash-sale');
      expect(verdict.passed).toBe(false);
      expect(verdict.checks).toEqual({ passes: 12_500, fails: 3 });
      expect(verdict.thresholds).toContainEqual({ metric: 'http_req_duration{name:purchase}', expression: 'p(99)<200', ok: true, observed: 'p(99)=41.23ms' });
      expect(verdict.durationSeconds).toBe(61.5);
    });

    it('renders thresholds, failing checks, metrics and notes as text', () => {
      const text = renderTextSummary(data, 'flash-sale', ['Stock check: fine']);
      expect(text).toContain('FAIL  unexpected_errors  count==0  (count=3)');
      expect(text).toContain('PASS  http_req_duration{name:purchase}  p(99)<200  (p(99)=41.23ms)');
      expect(text).toContain('FAIL  purchase: 201 or an expected refusal: 3 of 12,003');
      expect(text).toContain('outcomes{action:purchase,code:SOLD_OUT}');
      expect(text).not.toContain('http_req_waiting');
      expect(text).toContain('Stock check: fine');
      expect(text.trimEnd().endsWith('RESULT: FAILED (1 threshold failed)')).toBe(true);
    });

    it('writes stdout, a text file and a JSON file with the verdict', () => {
      const outputs = summaryOutputs(data, { scenario: 'flash-sale', outDir: 'load-tests/results/', finishedAt: new Date('2026-11-23T19:00:00.000Z') });
      expect(Object.keys(outputs).sort()).toEqual(['load-tests/results/flash-sale-2026-11-23T19-00-00-000Z.json', 'load-tests/results/flash-sale-2026-11-23T19-00-00-000Z.txt', 'stdout']);
      const json = JSON.parse(outputs['load-tests/results/flash-sale-2026-11-23T19-00-00-000Z.json']);
      expect(json.verdict.passed).toBe(false);
      expect(json.summary.metrics.unexpected_errors.values.count).toBe(3);
    });
  });

  describe('scenario building blocks', () => {
    it('shapes a spike that ramps to the peak, holds and ramps down', () => {
      const scenario = spikeScenario('purchase', { peakRate: 500, rampSeconds: 5, holdSeconds: 30, rampDownSeconds: 2, preAllocatedVus: 10, maxVus: 50 });
      expect(scenario).toMatchObject({ executor: 'ramping-arrival-rate', exec: 'purchase', startRate: 0, preAllocatedVUs: 10, maxVUs: 50 });
      expect((scenario as { stages: unknown }).stages).toEqual([
        { target: 500, duration: '5s' },
        { target: 500, duration: '30s' },
        { target: 0, duration: '2s' },
      ]);
    });

    it('builds a sale window the API accepts: reservations open now, the start far away, the end after it', () => {
      const now = Date.UTC(2026, 10, 23);
      const window = farFutureWindow(now, 7 * 24 * 3600_000);
      expect(window.reservationOpensAt).toBeLessThanOrEqual(now);
      expect(window.reservationOpensAt).toBeLessThanOrEqual(window.reservationClosesAt);
      expect(window.reservationClosesAt).toBeLessThanOrEqual(window.startsAt);
      expect(window.fcodeOpensAt).toBeLessThanOrEqual(window.startsAt);
      expect(window.endsAt - window.startsAt).toBe(7 * 24 * 3600_000);
      expect(window.startsAt - now).toBeGreaterThanOrEqual(3600_000);
    });
  });
});
