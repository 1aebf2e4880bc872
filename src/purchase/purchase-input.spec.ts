import { SellException } from '../common/errors/sell.exception';
import { MAX_QUANTITY, parsePurchaseInput, PURCHASE_BODY_SCHEMA, PurchaseInput } from './purchase-input';

function problemsOf(saleId: string, body: unknown, idempotencyKey?: string | string[]): { field: string; message: string }[] {
  try {
    parsePurchaseInput(saleId, body, idempotencyKey);
  } catch (error) {
    expect(error).toBeInstanceOf(SellException);
    expect((error as SellException).code).toBe('VALIDATION_FAILED');
    return (error as SellException).details;
  }
  return [];
}

describe('parsePurchaseInput', () => {
  it('reads a missing or null body, and null fields, as the defaults', () => {
    const expected: PurchaseInput = { saleId: 's_1', quantity: 1, fcode: undefined, idempotencyKey: undefined };
    expect(parsePurchaseInput('s_1', undefined, undefined)).toEqual(expected);
    expect(parsePurchaseInput('s_1', null, undefined)).toEqual(expected);
    expect(parsePurchaseInput('s_1', {}, undefined)).toEqual(expected);
    expect(parsePurchaseInput('s_1', { quantity: null, fcode: null }, undefined)).toEqual(expected);
  });

  it('passes a well-formed request through unchanged', () => {
    expect(parsePurchaseInput('s_1', { quantity: 3, fcode: 'ABCD-EFGH-JKMN-P' }, 'key 1')).toEqual({ saleId: 's_1', quantity: 3, fcode: 'ABCD-EFGH-JKMN-P', idempotencyKey: 'key 1' });
  });

  it('accepts the bounds the OpenAPI schema states and refuses one past them', () => {
    const { quantity, fcode } = PURCHASE_BODY_SCHEMA.properties;
    expect(quantity.maximum).toBe(MAX_QUANTITY);
    expect(problemsOf('s_1', { quantity: quantity.minimum, fcode: 'x'.repeat(fcode.minLength) })).toEqual([]);
    expect(problemsOf('s_1', { quantity: quantity.maximum, fcode: 'x'.repeat(fcode.maxLength) })).toEqual([]);
    expect(problemsOf('s_1', { quantity: quantity.minimum - 1 })).toEqual([{ field: 'quantity', message: 'quantity must not be less than 1' }]);
    expect(problemsOf('s_1', { quantity: quantity.maximum + 1 })).toEqual([{ field: 'quantity', message: 'quantity must not be greater than 100' }]);
    expect(problemsOf('s_1', { fcode: 'x'.repeat(fcode.maxLength + 1) })).toEqual([{ field: 'fcode', message: expect.stringContaining('shorter than or equal to 64') }]);
    expect(problemsOf('s_1', { fcode: '' })).toEqual([{ field: 'fcode', message: expect.stringContaining('longer than or equal to 1') }]);
  });

  it.each([
    ['a fractional quantity', { quantity: 1.5 }, 'quantity'],
    ['a quantity as a string', { quantity: '1' }, 'quantity'],
    ['a quantity that is not a finite number', { quantity: Number.POSITIVE_INFINITY }, 'quantity'],
    ['an F-code that is not a string', { fcode: 12 }, 'fcode'],
    ['an unknown field', { quantity: 1, price: 1 }, 'price'],
    ['a prototype-pollution key', JSON.parse('{"__proto__": {"quantity": 5}}'), '__proto__'],
    ['an array body', [1, 2], 'body'],
    ['a string body', 'hello', 'body'],
    ['a number body', 42, 'body'],
  ])('refuses %s', (_case, body, field) => {
    expect(problemsOf('s_1', body).map((problem) => problem.field)).toEqual([field]);
  });

  it('lists every problem of a request at once', () => {
    expect(problemsOf('not a sale!', { quantity: 0, fcode: 1, extra: true }, 'clé').map((problem) => problem.field)).toEqual(['saleId', 'Idempotency-Key', 'extra', 'quantity', 'fcode']);
  });

  it.each([
    ['empty', ''],
    ['longer than 128 characters', 'k'.repeat(129)],
    ['with a control character', 'a\tb'],
    ['sent twice', ['a', 'b']],
  ])('refuses an Idempotency-Key %s', (_case, key) => {
    expect(problemsOf('s_1', {}, key)).toEqual([{ field: 'Idempotency-Key', message: 'must be 1-128 printable ASCII characters' }]);
  });

  it('refuses a sale id the other routes would refuse', () => {
    expect(problemsOf('x'.repeat(101), {})).toEqual([{ field: 'saleId', message: expect.any(String) }]);
  });
});
