import fc from 'fast-check';
import { insertChunkSizes } from './orders.repository';

describe('insertChunkSizes', () => {
  it('splits a batch into at most ten distinct powers of two up to 512 that add up to it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20_000 }), (rows) => {
        const sizes = insertChunkSizes(rows);
        expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(rows);
        for (const size of sizes) expect([512, 256, 128, 64, 32, 16, 8, 4, 2, 1]).toContain(size);
        // Largest first, and only 512s repeat: one INSERT of each smaller size at most.
        expect([...sizes].sort((left, right) => right - left)).toEqual(sizes);
        expect(sizes.filter((size) => size < 512).length).toBe(new Set(sizes.filter((size) => size < 512)).size);
      }),
    );
  });

  it('writes 300 orders as 256 + 32 + 8 + 4', () => {
    expect(insertChunkSizes(300)).toEqual([256, 32, 8, 4]);
    expect(insertChunkSizes(0)).toEqual([]);
  });
});
