import { orderReference } from './format';

describe(orderReference.name, () => {
  it('takes the random end of the ULID in the order id, upper case, in two groups of four', () => {
    expect(orderReference('o_01jd8x3v7q9m2k4p6r8t0w2y4z.s_01jd8x0000000000000000000')).toBe('8T0W-2Y4Z');
  });

  it('tells orders of the same millisecond apart (the time part is not used)', () => {
    expect(orderReference('o_01jd8x3v7qaaaaaaaaaaaaaaaa.s_1')).not.toBe(orderReference('o_01jd8x3v7qaaaaaaaabbbbbbbb.s_1'));
  });

  it('still gives a short reference for an id of another shape', () => {
    expect(orderReference('legacy-order-12345678')).toBe('1234-5678');
  });
});
