import fc from 'fast-check';
import { salePhase, type Sale } from '@sellout/contract';
import { currentPhase, fcodeWindowOpen, nextMilestone, phaseAt, reservationOpen, sellingOpen } from './sale-timeline';

const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.parse('2026-06-01T10:00:00.000Z');

function sale(overrides: Partial<Sale> = {}): Sale {
  return {
    id: 's_1',
    sku: 'sku',
    name: 'Phone',
    description: '',
    priceCents: 69900,
    currency: 'CNY',
    stock: 10,
    fcodeStock: 2,
    perUserLimit: 1,
    reservationRequired: true,
    reservationOpensAt: iso(T0),
    reservationClosesAt: iso(T0 + 60_000),
    fcodeOpensAt: iso(T0 + 30_000),
    startsAt: iso(T0 + 60_000),
    endsAt: iso(T0 + 120_000),
    paymentWindowSeconds: 900,
    admission: 'open',
    queueOpensAt: iso(T0 + 60_000),
    admissionRatePerSecond: 1000,
    admissionTtlSeconds: 120,
    lotteryClosesAt: iso(T0 + 60_000),
    purchaseWindowSeconds: 3600,
    paused: false,
    phase: 'reservation',
    remaining: 10,
    fcodeRemaining: 2,
    reservations: 0,
    serverTime: iso(T0 + 1000),
    ...overrides,
  };
}

describe(phaseAt.name, () => {
  it('derives the same phase as the server for any times, pause flag and stock', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 1, max: 1000 }),
        // Either any moment, or one millisecond around a boundary, where off-by-one mistakes live.
        fc.oneof(fc.record({ free: fc.integer({ min: -100, max: 3200 }) }), fc.record({ boundary: fc.nat(4), delta: fc.integer({ min: -1, max: 1 }) })),
        fc.boolean(),
        fc.nat(3),
        fc.nat(3),
        (gaps, length, moment, paused, remaining, fcodeRemaining) => {
          // reservationOpensAt ≤ reservationClosesAt ≤ startsAt, fcodeOpensAt ≤ startsAt < endsAt (the HTTP contract).
          const reservationOpensAt = T0;
          const reservationClosesAt = reservationOpensAt + gaps[0];
          const startsAt = reservationClosesAt + gaps[1];
          const fcodeOpensAt = startsAt - gaps[2];
          const endsAt = startsAt + length;
          const boundaries = [reservationOpensAt, reservationClosesAt, fcodeOpensAt, startsAt, endsAt];
          const now = 'free' in moment ? T0 + moment.free : boundaries[moment.boundary] + moment.delta;
          const subject = sale({
            reservationOpensAt: iso(reservationOpensAt),
            reservationClosesAt: iso(reservationClosesAt),
            fcodeOpensAt: iso(fcodeOpensAt),
            startsAt: iso(startsAt),
            endsAt: iso(endsAt),
            paused,
            remaining,
            fcodeRemaining,
          });
          expect(phaseAt(subject, now)).toBe(
            salePhase({ reservationOpensAt, reservationClosesAt, fcodeOpensAt, startsAt, endsAt, paused, generalRemaining: remaining, fcodeRemaining }, now),
          );
        },
      ),
    );
  });
});

describe(currentPhase.name, () => {
  it("keeps the server's word until a boundary passes", () => {
    // The server said "waiting" (say, its own nuance); nothing has changed locally since.
    expect(currentPhase(sale({ phase: 'waiting' }), T0 + 2000)).toBe('waiting');
  });

  it('moves to live by itself at startsAt, without a new snapshot', () => {
    expect(currentPhase(sale({ phase: 'priority', serverTime: iso(T0 + 59_000) }), T0 + 60_000)).toBe('live');
  });
});

describe('windows', () => {
  const subject = sale();
  it.each([
    [T0 - 1, false, false, false],
    [T0, true, false, false],
    [T0 + 30_000, true, true, false],
    [T0 + 60_000, false, true, true],
    [T0 + 120_000, false, false, false],
  ])('at %p: reservation %p, F-code %p, selling %p', (now, reservation, fcode, selling) => {
    expect(reservationOpen(subject, now)).toBe(reservation);
    expect(fcodeWindowOpen(subject, now)).toBe(fcode);
    expect(sellingOpen(subject, now)).toBe(selling);
  });

  it('counts down to the next boundary', () => {
    expect(nextMilestone(subject, T0 + 10_000)).toEqual({ label: 'F-code priority starts in', at: T0 + 30_000 });
    expect(nextMilestone(subject, T0 + 30_000)).toEqual({ label: 'Sale starts in', at: T0 + 60_000 });
    expect(nextMilestone(subject, T0 + 60_000)).toEqual({ label: 'Sale ends in', at: T0 + 120_000 });
    expect(nextMilestone(subject, T0 + 120_000)).toBeUndefined();
  });
});
