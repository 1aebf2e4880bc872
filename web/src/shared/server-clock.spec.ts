import { ServerClock } from './server-clock';
import { formatCountdown, formatMoney } from './format';

describe(ServerClock.name, () => {
  it('follows the server, not the device: offset = serverTime − local time at the response', () => {
    let local = Date.parse('2026-06-01T12:00:00.000Z');
    const clock = new ServerClock(() => local);
    // The device is two hours ahead of the server.
    clock.sync('2026-06-01T10:00:00.000Z', local);
    expect(clock.offset).toBe(-2 * 3600 * 1000);
    local += 5000;
    expect(new Date(clock.now()).toISOString()).toBe('2026-06-01T10:00:05.000Z');
  });

  it('ignores an unreadable serverTime', () => {
    const clock = new ServerClock(() => 1000);
    clock.sync('not a time');
    expect(clock.synced).toBe(false);
    expect(clock.now()).toBe(1000);
  });
});

describe('formatting', () => {
  it.each([
    [0, '0:00'],
    [999, '0:01'],
    [65_000, '1:05'],
    [3_600_000, '1:00:00'],
    [90_061_000, '1d 01:01:01'],
    [-5000, '0:00'],
  ])('shows %p ms as %p', (milliseconds, text) => {
    expect(formatCountdown(milliseconds)).toBe(text);
  });

  it('writes minor units in the currency, including those without decimals', () => {
    expect(formatMoney(69900, 'USD')).toMatch(/699\.00/);
    expect(formatMoney(500, 'JPY')).toMatch(/500/);
    expect(formatMoney(500, 'JPY')).not.toMatch(/5\.00/);
  });
});
