import { throttled } from './throttle';

describe('throttled', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs at once after a quiet interval, and once at the end of the interval for a burst', () => {
    const run = jest.fn();
    const refresh = throttled(run, 1000);
    refresh.call();
    expect(run).toHaveBeenCalledTimes(1);
    for (let index = 0; index < 10; index += 1) {
      jest.advanceTimersByTime(50);
      refresh.call();
    }
    expect(run).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(499);
    expect(run).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(1);
    expect(run).toHaveBeenCalledTimes(2);
    jest.advanceTimersByTime(5000);
    expect(run).toHaveBeenCalledTimes(2);
    refresh.call();
    expect(run).toHaveBeenCalledTimes(3);
  });

  it('runs nothing more once cancelled', () => {
    const run = jest.fn();
    const refresh = throttled(run, 1000);
    refresh.call();
    refresh.call();
    refresh.cancel();
    jest.advanceTimersByTime(5000);
    expect(run).toHaveBeenCalledTimes(1);
  });
});
