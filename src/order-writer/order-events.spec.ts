import { parseOrderEvent } from './order-events';
import { MalformedOrderError } from '../orders/order-record';
import { scriptOrderJson } from '../../test/support/orders';

describe('parseOrderEvent', () => {
  it('reads a created event', () => {
    expect(parseOrderEvent(['type', 'created', 'order', scriptOrderJson({ pool: 'fcode', fcodeHash: 'abc' })])).toEqual({ type: 'created', order: expect.objectContaining({ id: 'o_1.s_1', pool: 'fcode', fcodeHash: 'abc' }) });
  });

  it('reads a status event', () => {
    expect(parseOrderEvent(['type', 'status', 'orderId', 'o_1.s_1', 'status', 'paid', 'at', '5'])).toEqual({ type: 'status', orderId: 'o_1.s_1', status: 'paid', at: 5 });
  });

  it.each([
    ['an unknown type', ['type', 'deleted', 'orderId', 'o_1']],
    ['no type', ['orderId', 'o_1']],
    ['a created event without an order', ['type', 'created']],
    ['a status event to pending_payment', ['type', 'status', 'orderId', 'o_1', 'status', 'pending_payment', 'at', '5']],
    ['a status event without a time', ['type', 'status', 'orderId', 'o_1', 'status', 'paid']],
    ['a status event without an order id', ['type', 'status', 'status', 'paid', 'at', '5']],
  ])('refuses %s', (_case, fields) => {
    expect(() => parseOrderEvent(fields)).toThrow(MalformedOrderError);
  });
});
