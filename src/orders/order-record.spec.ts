import { MalformedOrderError, orderFromFields, orderFromJson } from './order-record';

const hash = {
  id: 'o_1.s_1',
  saleId: 's_1',
  userId: 'u1',
  quantity: '2',
  unitPriceCents: '100',
  amountCents: '200',
  currency: 'CNY',
  status: 'pending_payment',
  pool: 'general',
  fcodeHash: '',
  createdAt: '1763900000000',
  payBy: '1763900900000',
  paidAt: '',
};

describe('orderFromFields', () => {
  it('reads the Redis hash, with empty strings as absent values', () => {
    expect(orderFromFields(hash)).toEqual({
      id: 'o_1.s_1',
      saleId: 's_1',
      userId: 'u1',
      quantity: 2,
      unitPriceCents: 100,
      amountCents: 200,
      currency: 'CNY',
      status: 'pending_payment',
      pool: 'general',
      fcodeHash: null,
      createdAt: 1763900000000,
      payBy: 1763900900000,
      paidAt: null,
    });
  });

  it('shows a payment in flight as pending_payment', () => {
    expect(orderFromFields({ ...hash, status: 'paying' }).status).toBe('pending_payment');
  });

  it('keeps the F-code hash and the payment time when there are some', () => {
    expect(orderFromFields({ ...hash, fcodeHash: 'abc', status: 'paid', paidAt: '1763900100000' })).toMatchObject({ fcodeHash: 'abc', status: 'paid', paidAt: 1763900100000 });
  });

  it.each([
    ['an unknown status', { status: 'lost' }],
    ['an unknown pool', { pool: 'vip' }],
    ['a missing user', { userId: '' }],
    ['a fractional quantity', { quantity: '1.5' }],
    ['a non-numeric time', { createdAt: 'yesterday' }],
  ])('refuses %s', (_case, change) => {
    expect(() => orderFromFields({ ...hash, ...change })).toThrow(MalformedOrderError);
  });
});

describe('orderFromJson', () => {
  it('reads the JSON written by purchase.lua, numbers as numbers', () => {
    expect(orderFromJson(JSON.stringify({ ...hash, quantity: 2, createdAt: 1763900000000 })).quantity).toBe(2);
  });

  it.each([['{"id":'], ['[]'], ['null'], ['"order"']])('refuses %s', (json) => {
    expect(() => orderFromJson(json)).toThrow(MalformedOrderError);
  });
});
