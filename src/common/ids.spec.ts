import { newOrderId, saleIdOfOrder, ulid } from './ids';

describe('ulid', () => {
  it('is 26 lower-case Crockford characters that start with the time', () => {
    const id = ulid(1_700_000_000_000);
    expect(id).toMatch(/^[0-9a-hjkmnp-tv-z]{26}$/);
    expect(id.slice(0, 10)).toBe(ulid(1_700_000_000_000).slice(0, 10));
    expect(ulid(1_700_000_000_001) > id).toBe(true);
  });

  it('never repeats its random part, across many refills of the random pool', () => {
    const tails = new Set<string>();
    for (let index = 0; index < 20_000; index += 1) tails.add(ulid(0).slice(10));
    expect(tails.size).toBe(20_000);
  });

  it('uses all 80 random bits: every tail character takes every value', () => {
    const seen = Array.from({ length: 16 }, () => new Set<string>());
    for (let index = 0; index < 5_000; index += 1) [...ulid(0).slice(10)].forEach((char, position) => seen[position].add(char));
    expect(seen.map((values) => values.size)).toEqual(Array(16).fill(32));
  });
});

describe('order ids', () => {
  it('carry their sale id', () => {
    expect(saleIdOfOrder(newOrderId('s_abc'))).toBe('s_abc');
    expect(saleIdOfOrder('o_x')).toBeUndefined();
  });
});
