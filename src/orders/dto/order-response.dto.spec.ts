import fc from 'fast-check';
import type { OrderRecord } from '../order-record';
import { orderResponseJson } from './order-response.dto';

const epochMs = fc.integer({ min: 0, max: 253_402_300_799_999 }); // up to 9999-12-31T23:59:59.999Z

const orderRecord: fc.Arbitrary<OrderRecord> = fc.record({
  id: fc.string({ minLength: 1, unit: 'binary' }),
  saleId: fc.string({ minLength: 1 }),
  userId: fc.string({ minLength: 1, unit: 'binary-ascii' }),
  quantity: fc.integer({ min: 1, max: 100 }),
  unitPriceCents: fc.maxSafeNat(),
  amountCents: fc.maxSafeInteger(),
  currency: fc.string({ minLength: 1, maxLength: 3 }),
  status: fc.constantFrom('pending_payment', 'paid', 'expired', 'cancelled'),
  pool: fc.constantFrom('general', 'fcode'),
  fcodeHash: fc.option(fc.string({ minLength: 64, maxLength: 64, unit: fc.constantFrom(...'0123456789abcdef') }), { nil: null }),
  createdAt: epochMs,
  payBy: epochMs,
  paidAt: fc.option(epochMs, { nil: null }),
});

describe('orderResponseJson', () => {
  it('has the contract keys in one order for any order, so a replay answers with the same bytes', () => {
    const keys = ['id', 'saleId', 'userId', 'quantity', 'unitPriceCents', 'amountCents', 'currency', 'status', 'pool', 'createdAt', 'payBy', 'paidAt'];
    fc.assert(
      fc.property(orderRecord, (order) => {
        expect(Object.keys(JSON.parse(orderResponseJson(order)))).toEqual(keys);
      }),
      { numRuns: 500 },
    );
  });

  it('quotes strings that need escaping and never shows the F-code hash', () => {
    const order: OrderRecord = {
      id: 'o_1.s_1',
      saleId: 's_1',
      userId: 'a"b\\c',
      quantity: 2,
      unitPriceCents: 100,
      amountCents: 200,
      currency: 'CNY',
      status: 'paid',
      pool: 'fcode',
      fcodeHash: 'f'.repeat(64),
      createdAt: Date.UTC(2026, 10, 23, 12, 0, 0, 5),
      payBy: Date.UTC(2026, 10, 23, 12, 15),
      paidAt: Date.UTC(2026, 10, 23, 12, 1),
    };
    const json = orderResponseJson(order);
    const { fcodeHash: _hidden, createdAt: _created, payBy: _payBy, paidAt: _paid, ...plain } = order;
    expect(JSON.parse(json)).toEqual({ ...plain, createdAt: '2026-11-23T12:00:00.005Z', payBy: '2026-11-23T12:15:00.000Z', paidAt: '2026-11-23T12:01:00.000Z' });
    expect(json).not.toContain('f'.repeat(64));
  });
});
