import { parseSaleSignal, saleChangedMessage } from './sale-signal';

describe(parseSaleSignal.name, () => {
  it('reads a stock announcement, whose sale id may hold colons', () => {
    expect(parseSaleSignal('s_1:7')).toEqual({ saleId: 's_1', kind: 'stock', stockVersion: 7 });
    expect(parseSaleSignal('a:b:12')).toEqual({ saleId: 'a:b', kind: 'stock', stockVersion: 12 });
  });

  it('reads a change notice', () => {
    expect(parseSaleSignal(saleChangedMessage('s_1'))).toEqual({ saleId: 's_1', kind: 'changed' });
  });

  it.each(['', 's_1', ':3', 's_1:', 's_1:x', 's_1:1.5', 's_1:1234567890123456'])('ignores %p', (message) => {
    expect(parseSaleSignal(message)).toBeUndefined();
  });
});
