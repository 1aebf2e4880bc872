import { toDateTimeLocal } from '../shared/format';
import { checkSaleForm, emptySaleForm, fieldErrorsFromDetails, SaleFormValues } from './sale-form-rules';

const NOW = Date.parse('2026-06-01T10:00:00.000Z');
const local = (ms: number) => toDateTimeLocal(new Date(ms).toISOString());

function form(overrides: Partial<SaleFormValues> = {}): SaleFormValues {
  return { ...emptySaleForm(), sku: 'redmi-1s', name: 'Redmi 1S', priceCents: '69900', stock: '100', startsAt: local(NOW + 3600_000), ...overrides };
}

describe(checkSaleForm.name, () => {
  describe('when creating', () => {
    it('sends the required fields and leaves the defaults to the server', () => {
      const check = checkSaleForm(form(), 'create', NOW);
      expect(check.errors).toEqual({});
      expect(check.body).toEqual({
        sku: 'redmi-1s',
        name: 'Redmi 1S',
        priceCents: 69900,
        currency: 'CNY',
        stock: 100,
        fcodeStock: 0,
        perUserLimit: 1,
        paymentWindowSeconds: 900,
        reservationRequired: true,
        admission: 'open',
        admissionRatePerSecond: 1000,
        admissionTtlSeconds: 120,
        purchaseWindowSeconds: 3600,
        startsAt: new Date(NOW + 3600_000).toISOString(),
      });
    });

    it('sends the admission mode, and checks its rate, time to buy and purchase window', () => {
      expect(checkSaleForm(form({ admission: 'queue', admissionRatePerSecond: '50' }), 'create', NOW).body).toMatchObject({ admission: 'queue', admissionRatePerSecond: 50 });
      expect(checkSaleForm(form({ admissionRatePerSecond: '0' }), 'create', NOW).errors).toHaveProperty('admissionRatePerSecond');
      expect(checkSaleForm(form({ admissionTtlSeconds: '5' }), 'create', NOW).errors).toHaveProperty('admissionTtlSeconds');
      expect(checkSaleForm(form({ purchaseWindowSeconds: '10' }), 'create', NOW).errors).toHaveProperty('purchaseWindowSeconds');
    });

    it.each<[string, Partial<SaleFormValues>, keyof SaleFormValues]>([
      ['a missing sku', { sku: '' }, 'sku'],
      ['a missing name', { name: ' ' }, 'name'],
      ['a name over 200 characters', { name: 'x'.repeat(201) }, 'name'],
      ['a description over 5,000 characters', { description: 'x'.repeat(5001) }, 'description'],
      ['a missing price', { priceCents: '' }, 'priceCents'],
      ['a fractional price', { priceCents: '699.5' }, 'priceCents'],
      ['a negative stock', { stock: '-1' }, 'stock'],
      ['no stock in either pool', { stock: '0', fcodeStock: '0' }, 'stock'],
      ['a limit of 0', { perUserLimit: '0' }, 'perUserLimit'],
      ['a limit over 100', { perUserLimit: '101' }, 'perUserLimit'],
      ['a payment window under 5 s', { paymentWindowSeconds: '4' }, 'paymentWindowSeconds'],
      ['a payment window over a day', { paymentWindowSeconds: '86401' }, 'paymentWindowSeconds'],
      ['a missing start', { startsAt: '' }, 'startsAt'],
      ['an end at the start', { endsAt: local(NOW + 3600_000) }, 'endsAt'],
      ['reservations closing after the start', { reservationClosesAt: local(NOW + 7200_000) }, 'reservationClosesAt'],
      ['reservations opening after they close', { reservationOpensAt: local(NOW + 1800_000), reservationClosesAt: local(NOW + 900_000) }, 'reservationOpensAt'],
      ['reservations opening (by default, now) after the start', { startsAt: local(NOW - 3600_000) }, 'reservationOpensAt'],
      ['an F-code window after the start', { fcodeOpensAt: local(NOW + 7200_000) }, 'fcodeOpensAt'],
      ['a currency that is not three letters', { currency: 'YUAN' }, 'currency'],
      ['a price over the server cap', { priceCents: '21474837' }, 'priceCents'],
      ['more stock than the server takes', { stock: '1000000001' }, 'stock'],
    ])('refuses %s', (_case, overrides, field) => {
      const check = checkSaleForm(form(overrides), 'create', NOW);
      expect(check.body).toBeUndefined();
      expect(check.errors[field]).toBeDefined();
    });

    it('sends when the waiting room opens and when lottery entries close, and refuses either after the start', () => {
      const queue = checkSaleForm(form({ admission: 'queue', queueOpensAt: local(NOW + 1800_000) }), 'create', NOW);
      expect(queue.errors).toEqual({});
      expect(queue.body).toMatchObject({ admission: 'queue', queueOpensAt: new Date(NOW + 1800_000).toISOString() });
      const lottery = checkSaleForm(form({ admission: 'lottery', lotteryClosesAt: local(NOW + 3000_000) }), 'create', NOW);
      expect(lottery.body).toMatchObject({ admission: 'lottery', lotteryClosesAt: new Date(NOW + 3000_000).toISOString() });
      // Left empty, they follow the sale's own times on the server.
      expect(checkSaleForm(form({ admission: 'queue' }), 'create', NOW).body).not.toHaveProperty('queueOpensAt');
      expect(checkSaleForm(form({ admission: 'lottery' }), 'create', NOW).body).not.toHaveProperty('lotteryClosesAt');
      expect(checkSaleForm(form({ admission: 'queue', queueOpensAt: local(NOW + 7200_000) }), 'create', NOW).errors).toHaveProperty('queueOpensAt');
      expect(checkSaleForm(form({ admission: 'lottery', lotteryClosesAt: local(NOW + 7200_000) }), 'create', NOW).errors).toHaveProperty('lotteryClosesAt');
      expect(checkSaleForm(form({ queueOpensAt: 'not a time' }), 'create', NOW).errors).toHaveProperty('queueOpensAt');
    });

    it('accepts stock only in the F-code pool', () => {
      expect(checkSaleForm(form({ stock: '0', fcodeStock: '5' }), 'create', NOW).errors).toEqual({});
    });
  });

  describe('when editing', () => {
    it('sends only what changed, and never the fields PATCH does not take', () => {
      const original = form({ description: 'old' });
      const check = checkSaleForm({ ...original, name: 'Redmi 1S (grey)', stock: '5', sku: 'other' }, 'edit', NOW, original);
      expect(check.body).toEqual({ name: 'Redmi 1S (grey)' });
    });

    it('sends a changed waiting room opening or lottery close, and checks it only when it changed', () => {
      const original = form({ admission: 'lottery', lotteryClosesAt: local(NOW + 3600_000), queueOpensAt: local(NOW + 3600_000) });
      expect(checkSaleForm({ ...original, lotteryClosesAt: local(NOW + 1800_000) }, 'edit', NOW, original).body).toEqual({ lotteryClosesAt: new Date(NOW + 1800_000).toISOString() });
      expect(checkSaleForm({ ...original, queueOpensAt: local(NOW + 600_000) }, 'edit', NOW, original).body).toEqual({ queueOpensAt: new Date(NOW + 600_000).toISOString() });
      // Unchanged, the form shows the start the close follows: moving the start leaves the server to judge it.
      const earlier = local(NOW + 1200_000);
      expect(checkSaleForm({ ...original, startsAt: earlier, reservationClosesAt: earlier }, 'edit', NOW, original).errors).toEqual({});
      expect(checkSaleForm({ ...original, startsAt: earlier, lotteryClosesAt: local(NOW + 1800_000) }, 'edit', NOW, original).errors).toHaveProperty('lotteryClosesAt');
    });

    it('sends an emptied description', () => {
      const original = form({ description: 'old' });
      expect(checkSaleForm({ ...original, description: '' }, 'edit', NOW, original).body).toEqual({ description: '' });
    });
  });
});

describe(fieldErrorsFromDetails.name, () => {
  it("puts the server's messages next to their fields and keeps the rest", () => {
    expect(
      fieldErrorsFromDetails([
        { field: 'priceCents', message: 'must be an integer' },
        { field: 'startsAt', message: 'must be before endsAt' },
        { field: 'body', message: 'bad json' },
      ]),
    ).toEqual({ fields: { priceCents: 'must be an integer', startsAt: 'must be before endsAt' }, other: [{ field: 'body', message: 'bad json' }] });
  });
});
