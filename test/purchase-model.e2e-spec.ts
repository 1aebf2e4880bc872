import fc from 'fast-check';
import { generateFcode } from '../src/fcodes/fcode-codec';
import { assertInvariants } from './support/invariants';
import { createSale, privateIp, purchase, reserveBuyers, TestSale } from './support/sales';
import { createTestApp, TestApp, TestResponse, uniqueId } from './support/test-app';

/**
 * Model-based test of the purchase path: random sequences of purchases (with and without F-codes and
 * Idempotency-Keys, retries included), stock changes, pauses, cancellations and clock moves run against
 * the real script, Redis and database. A plain model predicts every answer; after every step the real
 * pools must match the model and the five invariants must hold.
 */

type CodeChoice = 'none' | 'bound' | 'unbound' | 'unknown' | 'typo';
/** `last` retries with the most recent key (the usual retry); `reuse` picks any earlier one. */
type KeyChoice = { kind: 'none' } | { kind: 'fresh' } | { kind: 'last' } | { kind: 'reuse'; index: number };

type PurchaseStep = { kind: 'purchase'; user: number; quantity: number; code: CodeChoice; key: KeyChoice };

type Step =
  | PurchaseStep
  /** The same request as the last purchase, key included: a client retrying. */
  | { kind: 'retry' }
  | { kind: 'stock'; pool: 'general' | 'fcode'; add: number }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'cancel'; order: number }
  | { kind: 'clock'; target: number };

interface SaleShape {
  stock: number;
  fcodeStock: number;
  perUserLimit: number;
  reservationRequired: boolean;
  /** Where the clock starts, as an index into the sale's moments. */
  firstMoment: number;
}

const USERS = 5;
/** Users 0, 1 and 2 have reservations; 3 and 4 do not. */
const RESERVED = new Set([0, 1, 2]);

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('purchase' as const),
      user: fc.integer({ min: 0, max: USERS - 1 }),
      quantity: fc.integer({ min: 1, max: 3 }),
      code: fc.constantFrom<CodeChoice>('none', 'none', 'none', 'none', 'none', 'none', 'bound', 'bound', 'unbound', 'unbound', 'unknown', 'typo'),
      key: fc.oneof(
        fc.constant<KeyChoice>({ kind: 'none' }),
        fc.constant<KeyChoice>({ kind: 'fresh' }),
        fc.constant<KeyChoice>({ kind: 'last' }),
        fc.nat(40).map((index): KeyChoice => ({ kind: 'reuse', index })),
      ),
    }),
  },
  { weight: 2, arbitrary: fc.constant<Step>({ kind: 'retry' }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stock' as const), pool: fc.constantFrom('general' as const, 'fcode' as const), add: fc.constantFrom(-2, -1, 1, 2, 3) }) },
  { weight: 1, arbitrary: fc.constantFrom<Step>({ kind: 'pause' }, { kind: 'resume' }, { kind: 'resume' }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), order: fc.nat(20) }) },
  // Targets are indexes into the sale's interesting moments (see `moments`).
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clock' as const), target: fc.constantFrom(1, 2, 3, 4, 5, 5, 6, 7, 8, 9) }) },
);

const shapeArbitrary: fc.Arbitrary<SaleShape> = fc
  .record({
    stock: fc.integer({ min: 0, max: 5 }),
    fcodeStock: fc.integer({ min: 0, max: 3 }),
    perUserLimit: fc.integer({ min: 1, max: 3 }),
    reservationRequired: fc.boolean(),
    // Mostly inside the selling window, where most rules apply.
    firstMoment: fc.constantFrom(0, 2, 4, 4, 4, 5, 5, 5),
  })
  .filter((shape) => shape.stock + shape.fcodeStock >= 1);

interface ModelOrder {
  id: string;
  user: string;
  quantity: number;
  pool: 'general' | 'fcode';
  code: CodeChoice;
  payBy: number;
  live: boolean;
}

class Model {
  paused = false;
  readonly total: Record<'general' | 'fcode', number>;
  readonly remaining: Record<'general' | 'fcode', number>;
  readonly held = new Map<string, number>();
  readonly orders: ModelOrder[] = [];
  readonly codeBacks = new Map<CodeChoice, string>();
  /** Accepted purchases by `<user>\n<key>`: what was asked and the exact first answer. */
  readonly idempotent = new Map<string, { quantity: number; code: CodeChoice; text: string }>();

  constructor(
    readonly sale: TestSale,
    readonly users: string[],
    readonly codeExpiresAt: number,
  ) {
    this.total = { general: sale.stock, fcode: sale.fcodeStock };
    this.remaining = { general: sale.stock, fcode: sale.fcodeStock };
  }

  /** The outcome the contract promises for this purchase at `now`: an error code, or CREATED / REPLAYED. */
  predict(now: number, user: number, quantity: number, code: CodeChoice, key: string | undefined): string {
    const userId = this.users[user];
    if (code === 'typo') return 'FCODE_INVALID';
    const remembered = key === undefined ? undefined : this.idempotent.get(`${userId}\n${key}`);
    if (remembered) return remembered.quantity === quantity && remembered.code === code ? 'REPLAYED' : 'IDEMPOTENCY_KEY_REUSED';
    if (now >= this.sale.endsAt) return 'SALE_ENDED';
    if (this.paused) return 'SALE_PAUSED';
    if (code !== 'none') {
      if (code === 'unknown' || (code === 'bound' && user !== 0)) return 'FCODE_INVALID';
      if (code === 'unbound' && now >= this.codeExpiresAt) return 'FCODE_EXPIRED';
      if (this.codeBacks.has(code)) return 'FCODE_USED';
      if (now < this.sale.fcodeOpensAt) return 'SALE_NOT_STARTED';
    } else {
      if (now < this.sale.startsAt) return 'SALE_NOT_STARTED';
      if (this.sale.reservationRequired && !RESERVED.has(user)) return 'NOT_ELIGIBLE';
    }
    if ((this.held.get(userId) ?? 0) + quantity > this.sale.perUserLimit) return 'LIMIT_REACHED';
    if (this.poolFor(code, quantity) === undefined) return 'SOLD_OUT';
    return 'CREATED';
  }

  poolFor(code: CodeChoice, quantity: number): 'general' | 'fcode' | undefined {
    if (code !== 'none' && this.remaining.fcode >= quantity) return 'fcode';
    return this.remaining.general >= quantity ? 'general' : undefined;
  }

  accept(order: ModelOrder): void {
    this.orders.push(order);
    this.remaining[order.pool] -= order.quantity;
    this.held.set(order.user, (this.held.get(order.user) ?? 0) + order.quantity);
    if (order.code !== 'none') this.codeBacks.set(order.code, order.id);
  }

  release(order: ModelOrder): void {
    order.live = false;
    this.remaining[order.pool] += order.quantity;
    this.held.set(order.user, (this.held.get(order.user) ?? 0) - order.quantity);
    if (this.codeBacks.get(order.code) === order.id) this.codeBacks.delete(order.code);
  }
}

const STATUS_OF: Record<string, number> = {
  CREATED: 201,
  REPLAYED: 201,
  FCODE_INVALID: 403,
  NOT_ELIGIBLE: 403,
  IDEMPOTENCY_KEY_REUSED: 422,
  SALE_ENDED: 409,
  SALE_PAUSED: 409,
  FCODE_EXPIRED: 409,
  FCODE_USED: 409,
  SALE_NOT_STARTED: 409,
  LIMIT_REACHED: 409,
  SOLD_OUT: 409,
};

describe('POST /api/sales/:saleId/purchase against a model', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp({
      env: {
        // The model predicts every answer, so nothing may change state behind its back or answer from memory.
        SWEEPER_ENABLED: 'false',
        SOLD_OUT_FLAG_TTL_MS: '0',
        FCODE_MAX_FAILURES: '1000000',
        FCODE_MAX_FAILURES_PER_IP: '1000000',
      },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  async function issueCode(saleId: string, body: Record<string, unknown>): Promise<string> {
    const response = await app.request('POST', `/api/admin/sales/${saleId}/fcodes`, { token: app.opsToken(), body });
    if (response.status !== 201) throw new Error(`issuing an F-code failed: ${response.status} ${response.text}`);
    return response.body.codes[0];
  }

  async function runSequence(shape: SaleShape, steps: Step[]): Promise<void> {
    const base = Date.now();
    app.clock.set(base);
    const sale = await createSale(app, {
      stock: shape.stock,
      fcodeStock: shape.fcodeStock,
      perUserLimit: shape.perUserLimit,
      reservationRequired: shape.reservationRequired,
      reservationOpensAt: base,
      reservationClosesAt: base + 10 * 60_000,
      fcodeOpensAt: base + 10 * 60_000,
      startsAt: base + 20 * 60_000,
      endsAt: base + 60 * 60_000,
      paymentWindowSeconds: 900,
    });
    const users = Array.from({ length: USERS }, (_, index) => uniqueId(`m${index}-`));
    await reserveBuyers(app, sale.id, users.filter((_, index) => RESERVED.has(index)));
    const codeExpiresAt = sale.startsAt + 30 * 60_000;
    const unknown = generateFcode();
    const codes: Record<Exclude<CodeChoice, 'none'>, string> = {
      bound: await issueCode(sale.id, { userIds: [users[0]] }),
      unbound: await issueCode(sale.id, { count: 1, expiresAt: new Date(codeExpiresAt).toISOString() }),
      unknown,
      typo: unknown.slice(0, -1) + (unknown.endsWith('0') ? '1' : '0'),
    };
    const moments = [base, sale.fcodeOpensAt - 1, sale.fcodeOpensAt, sale.startsAt - 1, sale.startsAt, sale.startsAt + 60_000, codeExpiresAt - 1, codeExpiresAt, sale.endsAt - 1, sale.endsAt];
    app.clock.set(moments[shape.firstMoment]);
    const model = new Model(sale, users, codeExpiresAt);
    const clientIp = privateIp();
    const keys: string[] = [];
    let lastPurchase: { step: PurchaseStep; key: string | undefined } | undefined;

    for (const [index, original] of steps.entries()) {
      const step: Step = original.kind === 'retry' ? (lastPurchase?.step ?? original) : original;
      const context = `step ${index} ${JSON.stringify(original)}`;
      let response: TestResponse | undefined;
      switch (step.kind) {
        case 'retry':
          continue;
        case 'purchase': {
          let key: string | undefined;
          if (original.kind === 'retry') key = lastPurchase?.key;
          else if (step.key.kind === 'fresh') key = `key-${index}`;
          else if (step.key.kind === 'last') key = keys.at(-1);
          else if (step.key.kind === 'reuse') key = keys.length === 0 ? undefined : keys[step.key.index % keys.length];
          if (key !== undefined) keys.push(key);
          lastPurchase = { step, key };
          const expected = model.predict(app.clock.now(), step.user, step.quantity, step.code, key);
          response = await purchase(app, sale.id, users[step.user], { quantity: step.quantity, fcode: step.code === 'none' ? undefined : codes[step.code], idempotencyKey: key, clientIp });
          expect({ context, status: response.status, outcome: response.status === 201 ? (expected === 'REPLAYED' ? 'REPLAYED' : 'CREATED') : response.body.code }).toEqual({
            context,
            status: STATUS_OF[expected],
            outcome: expected,
          });
          if (expected === 'REPLAYED') {
            expect(response.text).toBe(model.idempotent.get(`${users[step.user]}\n${key}`)?.text);
          } else if (expected === 'CREATED') {
            const pool = model.poolFor(step.code, step.quantity) as 'general' | 'fcode';
            expect({ context, pool: response.body.pool, quantity: response.body.quantity }).toEqual({ context, pool, quantity: step.quantity });
            model.accept({ id: response.body.id, user: users[step.user], quantity: step.quantity, pool, code: step.code, payBy: Date.parse(response.body.payBy), live: true });
            if (key !== undefined) model.idempotent.set(`${users[step.user]}\n${key}`, { quantity: step.quantity, code: step.code, text: response.text });
          }
          break;
        }
        case 'stock': {
          response = await app.request('POST', `/api/admin/sales/${sale.id}/stock`, { token: app.opsToken(), body: { add: step.add, pool: step.pool } });
          expect({ context, status: response.status }).toEqual({ context, status: 200 });
          const applied = step.add > 0 ? step.add : -Math.min(-step.add, model.remaining[step.pool]);
          model.total[step.pool] += applied;
          model.remaining[step.pool] += applied;
          break;
        }
        case 'pause':
        case 'resume':
          response = await app.request('POST', `/api/admin/sales/${sale.id}/${step.kind}`, { token: app.opsToken() });
          expect({ context, status: response.status }).toEqual({ context, status: 200 });
          model.paused = step.kind === 'pause';
          break;
        case 'cancel': {
          if (model.orders.length === 0) continue;
          const order = model.orders[step.order % model.orders.length];
          response = await app.request('POST', `/api/orders/${order.id}/cancel`, { token: app.token(order.user) });
          if (order.live && app.clock.now() < order.payBy) {
            expect({ context, status: response.status, body: response.body.status }).toEqual({ context, status: 200, body: 'cancelled' });
            model.release(order);
          } else if (order.live) {
            // Past payBy a cancel expires the order, as the sweeper would, and says so.
            expect({ context, status: response.status, code: response.body.code }).toEqual({ context, status: 409, code: 'ORDER_EXPIRED' });
            model.release(order);
          } else {
            expect({ context, status: response.status }).toEqual({ context, status: 409 });
          }
          break;
        }
        case 'clock':
          // Time only moves forward.
          app.clock.set(Math.max(app.clock.now(), moments[step.target]));
          continue;
      }

      const state = await app.redis.hmget(app.keys.forSale(sale.id).sale, 'general', 'fcode', 'generalRemaining', 'fcodeRemaining');
      expect({ context, state }).toEqual({ context, state: [model.total.general, model.total.fcode, model.remaining.general, model.remaining.fcode].map(String) });
      await assertInvariants(app, sale.id);
    }
  }

  it('answers as the model predicts and keeps the five invariants after every step', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArbitrary, fc.array(stepArbitrary, { minLength: 10, maxLength: 40 }), async (shape, steps) => {
        await runSequence(shape, steps);
      }),
      { numRuns: 30, endOnFailure: true },
    );
  }, 600_000);
});
