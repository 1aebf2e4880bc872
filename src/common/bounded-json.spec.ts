import { checkJsonShape, controlCharacterProblems, JSON_LIMITS, type JsonShapeLimits } from './bounded-json';
import { SellException } from './errors/sell.exception';

const limits: JsonShapeLimits = { maxDepth: 3, maxKeys: 3, maxItems: 4 };

function refusal(text: string): unknown {
  try {
    checkJsonShape(text, limits);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(SellException);
    return (error as SellException).details;
  }
}

describe(checkJsonShape.name, () => {
  it('accepts bodies up to the limits', () => {
    for (const text of ['{}', '[]', '{"a":{"b":[1,2,3,4]}}', '{"a":1,"b":2,"c":3}', '"just a string"', '42', 'null', '']) expect(refusal(text)).toBeUndefined();
  });

  it('refuses nesting past the limit, naming the field', () => {
    expect(refusal('[[[[]]]]')).toEqual([{ field: 'body', message: 'must not nest objects and arrays more than 3 deep' }]);
    expect(refusal('{"a":{"b":{"c":{}}}}')).toEqual([{ field: 'a.b.c', message: expect.any(String) }]);
  });

  it('refuses an object with too many fields and an array with too many elements', () => {
    expect(refusal('{"a":1,"b":2,"c":3,"d":4}')).toEqual([{ field: 'body', message: 'an object must not have more than 3 fields' }]);
    expect(refusal('{"ids":[1,2,3,4,5]}')).toEqual([{ field: 'ids', message: 'an array must not have more than 4 elements' }]);
  });

  it('ignores brackets, braces, commas and escaped quotes inside strings', () => {
    expect(refusal('{"a":"[[[[{{{{,,,,,","b":"\\"[[[[","c":"\\\\"}')).toBeUndefined();
    expect(refusal('["\\\\",[[[]]]]')).toEqual([{ field: 'body', message: expect.stringMatching(/deep/) }]);
  });

  it('refuses 20,000 levels of nesting at once', () => {
    expect(() => checkJsonShape('['.repeat(20_000) + ']'.repeat(20_000), JSON_LIMITS)).toThrow(SellException);
  });
});

describe(controlCharacterProblems.name, () => {
  it('lists strings and field names with control characters, and keeps tabs and line breaks', () => {
    expect(controlCharacterProblems({ name: 'ok\n\t\r', list: ['fine', 'b\u0000ad'], nested: { deep: 'x\u007f' }, 'k\u0001': 1 })).toEqual([
      { field: 'list[1]', message: expect.any(String) },
      { field: 'nested.deep', message: expect.any(String) },
      { field: '"k\\u0001"', message: 'field names must not contain control characters' },
    ]);
  });

  it('finds C1 controls', () => {
    expect(controlCharacterProblems('a\u0085b')).toHaveLength(1);
  });
});
