import { RestartBackoff } from './restart-backoff';

describe(RestartBackoff.name, () => {
  describe('when workers keep dying soon after they start', () => {
    it('replaces the first at once, then doubles the wait up to the maximum', () => {
      const backoff = new RestartBackoff(1000, 8000, 10_000);
      expect([undefined, 50, undefined, 9_999, undefined, 0].map((served) => backoff.next(served))).toEqual([0, 1000, 2000, 4000, 8000, 8000]);
    });
  });

  describe('when the worker that died had served long enough', () => {
    it('starts over: the replacement is immediate', () => {
      const backoff = new RestartBackoff(1000, 30_000, 10_000);
      backoff.next(undefined);
      backoff.next(undefined);
      expect(backoff.next(undefined)).toBe(2000);
      expect(backoff.next(10_000)).toBe(0);
      expect(backoff.next(100)).toBe(1000);
    });
  });
});
