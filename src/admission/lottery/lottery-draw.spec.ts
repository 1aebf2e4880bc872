import { createHash } from 'node:crypto';
import { newSeed, rankEntries, sha256Hex, winnersFor } from './lottery-draw';

describe('lottery draw', () => {
  it('ranks entries by SHA-256(seed:userId) ascending, whatever order they came in', () => {
    const seed = newSeed();
    const users = Array.from({ length: 200 }, (_, index) => `user-${index}`);
    const expected = [...users].sort((left, right) => {
      const key = (userId: string) => createHash('sha256').update(`${seed}:${userId}`).digest('hex');
      return key(left).localeCompare(key(right));
    });
    expect(rankEntries(seed, users)).toEqual(expected);
    expect(rankEntries(seed, [...users].reverse())).toEqual(expected);
  });

  it('gives another ranking for another seed', () => {
    const users = Array.from({ length: 50 }, (_, index) => `user-${index}`);
    expect(rankEntries(newSeed(), users)).not.toEqual(rankEntries(newSeed(), users));
  });

  it('draws as many winners as the units cover at the per-user limit, at least one while units are left', () => {
    expect(winnersFor(10, 3, 100)).toBe(3);
    expect(winnersFor(2, 3, 100)).toBe(1);
    expect(winnersFor(0, 1, 100)).toBe(0);
    expect(winnersFor(1000, 1, 7)).toBe(7);
  });

  it('hashes as SHA-256 hex', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(newSeed()).toMatch(/^[0-9a-f]{64}$/);
  });
});
