import { chartGeometry, niceStep } from './units-chart';

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
