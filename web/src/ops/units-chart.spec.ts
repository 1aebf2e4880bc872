import { chartGeometry, mergeSamples, niceStep, outcomeMix } from './units-chart';

describe(niceStep.name, () => {
  it.each([
    [1, 4, 1],
    [10, 4, 5],
    [100, 4, 50],
    [100000, 4, 50000],
    [7, 4, 2],
  ])('splits %p into at most %p steps of %p', (max, count, step) => {
    expect(niceStep(max, count)).toBe(step);
  });
});

describe(chartGeometry.name, () => {
  it('draws nothing without samples', () => {
    expect(chartGeometry([], 10).line).toBe('');
  });

  it('reaches the top line when everything is sold, and moves right as time passes', () => {
    const geometry = chartGeometry(
      [
        { at: 0, unitsSold: 0 },
        { at: 1000, unitsSold: 50 },
        { at: 60000, unitsSold: 100 },
      ],
      100,
    );
    expect(geometry.yMax).toBe(100);
    const points = geometry.line
      .slice(1)
      .split(' L')
      .map((point) => point.split(',').map(Number));
    expect(points).toHaveLength(3);
    expect(points[2][1]).toBeCloseTo(geometry.plot.top);
    expect(points[0][1]).toBeCloseTo(geometry.plot.bottom);
    expect(points[2][0]).toBeCloseTo(geometry.plot.right);
    expect(points[1][0]).toBeGreaterThan(points[0][0]);
  });

  it('keeps the first seconds from filling the whole width', () => {
    const geometry = chartGeometry(
      [
        { at: 0, unitsSold: 0 },
        { at: 3000, unitsSold: 5 },
      ],
      10,
    );
    const lastX = Number(geometry.line.split(' L')[1].split(',')[0]);
    expect(lastX).toBeLessThan(geometry.plot.left + (geometry.plot.right - geometry.plot.left) / 5);
  });
});

describe(mergeSamples.name, () => {
  const point = (at: number, unitsSold: number) => ({ at: new Date(at).toISOString(), unitsSold, attempts: { CREATED: 1 } });

  it('draws the recorded timeline up to the first figure the view read itself, then its own figures', () => {
    expect(mergeSamples([point(1000, 1), point(2000, 5), point(3000, 9)], [{ at: 2500, unitsSold: 7 }])).toEqual([
      { at: 1000, unitsSold: 1 },
      { at: 2000, unitsSold: 5 },
      { at: 2500, unitsSold: 7 },
    ]);
  });

  it('draws the whole timeline before the view has read anything', () => {
    expect(mergeSamples([point(1000, 1)], [])).toEqual([{ at: 1000, unitsSold: 1 }]);
  });
});

describe(outcomeMix.name, () => {
  it('sums attempts by outcome, largest first, with shares and the busiest second', () => {
    const mix = outcomeMix([
      { at: '2026-01-01T00:00:00.000Z', unitsSold: 3, attempts: { CREATED: 3, NOT_ELIGIBLE: 1 } },
      { at: '2026-01-01T00:00:01.000Z', unitsSold: 4, attempts: { CREATED: 1, SOLD_OUT: 5 } },
    ]);
    expect(mix.total).toBe(10);
    expect(mix.peakPerSecond).toBe(6);
    expect(mix.outcomes).toEqual([
      { outcome: 'SOLD_OUT', count: 5, percent: 50 },
      { outcome: 'CREATED', count: 4, percent: 40 },
      { outcome: 'NOT_ELIGIBLE', count: 1, percent: 10 },
    ]);
  });

  it('is empty without points', () => {
    expect(outcomeMix([])).toEqual({ total: 0, peakPerSecond: 0, outcomes: [] });
  });
});
