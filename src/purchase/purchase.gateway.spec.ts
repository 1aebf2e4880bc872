import { scriptOrderJson } from '../../test/support/orders';
import { parseReply, purchaseFingerprint } from './purchase.gateway';

describe('parseReply', () => {
  const orderJson = scriptOrderJson();

  it('types an accepted purchase and a replay', () => {
    expect(parseReply(['CREATED', orderJson])).toEqual({ outcome: 'CREATED', order: expect.objectContaining({ id: 'o_1.s_1' }) });
    expect(parseReply(['REPLAYED', orderJson])).toEqual({ outcome: 'REPLAYED', order: expect.objectContaining({ id: 'o_1.s_1' }) });
  });

  it('carries the numbers that come with a refusal', () => {
    expect(parseReply(['SOLD_OUT', 0, 3, 7])).toEqual({ outcome: 'SOLD_OUT', generalRemaining: 0, fcodeRemaining: 3, stockVersion: 7 });
    expect(parseReply(['LIMIT_REACHED', 1, 2])).toEqual({ outcome: 'LIMIT_REACHED', held: 1, perUserLimit: 2 });
    expect(parseReply(['SALE_NOT_STARTED', '1000'])).toEqual({ outcome: 'SALE_NOT_STARTED', opensAt: 1000 });
    expect(parseReply(['SALE_ENDED', 9])).toEqual({ outcome: 'SALE_ENDED', endsAt: 9 });
    expect(parseReply(['FCODE_EXPIRED', 5])).toEqual({ outcome: 'FCODE_EXPIRED', expiresAt: 5 });
    expect(parseReply(['NOT_ELIGIBLE'])).toEqual({ outcome: 'NOT_ELIGIBLE' });
  });

  it('refuses an outcome it does not know', () => {
    expect(() => parseReply(['MAYBE'])).toThrow('unknown outcome');
  });
});

describe('purchaseFingerprint', () => {
  it('tells apart requests that differ in buyer, quantity or code, and has no line break', () => {
    const base = purchaseFingerprint({ userId: 'u1', quantity: 1 });
    expect(purchaseFingerprint({ userId: 'u1', quantity: 1, fcodeHash: undefined })).toBe(base);
    expect(purchaseFingerprint({ userId: 'u2', quantity: 1 })).not.toBe(base);
    expect(purchaseFingerprint({ userId: 'u1', quantity: 2 })).not.toBe(base);
    expect(purchaseFingerprint({ userId: 'u1', quantity: 1, fcodeHash: 'abc' })).not.toBe(base);
    // User ids may hold any printable character, ':' and '"' included.
    expect(purchaseFingerprint({ userId: 'a"\n:b', quantity: 1 })).not.toContain('\n');
  });
});
