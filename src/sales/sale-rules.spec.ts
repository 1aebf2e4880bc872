import { type PhaseInputs, salePhase } from './sale-rules';

const MINUTE = 60_000;
const reservationOpensAt = 1_000 * MINUTE;
const reservationClosesAt = reservationOpensAt + 60 * MINUTE;
const fcodeOpensAt = reservationClosesAt + 30 * MINUTE;
const startsAt = fcodeOpensAt + 30 * MINUTE;
const endsAt = startsAt + 60 * MINUTE;

const sale: PhaseInputs = { reservationOpensAt, reservationClosesAt, fcodeOpensAt, startsAt, endsAt, paused: false, generalRemaining: 10, fcodeRemaining: 5 };

describe(salePhase.name, () => {
  describe('at each boundary of an unpaused sale with stock', () => {
    it.each([
      ['upcoming', 'one ms before reservations open', reservationOpensAt - 1],
      ['reservation', 'the instant reservations open', reservationOpensAt],
      ['reservation', 'one ms before reservations close', reservationClosesAt - 1],
      ['waiting', 'the instant reservations close', reservationClosesAt],
      ['waiting', 'one ms before F-codes open', fcodeOpensAt - 1],
      ['priority', 'the instant F-codes open', fcodeOpensAt],
      ['priority', 'one ms before the start', startsAt - 1],
      ['live', 'the instant the sale starts', startsAt],
      ['live', 'one ms before the end', endsAt - 1],
      ['ended', 'the instant the sale ends', endsAt],
      ['ended', 'long after the end', endsAt + 365 * 24 * 60 * MINUTE],
    ])('is %s %s', (phase, _when, now) => {
      expect(salePhase(sale, now)).toBe(phase);
    });
  });

  describe('when both pools are empty', () => {
    const soldOut = { ...sale, generalRemaining: 0, fcodeRemaining: 0 };

    it('is sold_out from the start to the end', () => {
      expect(salePhase(soldOut, startsAt)).toBe('sold_out');
      expect(salePhase(soldOut, endsAt - 1)).toBe('sold_out');
    });

    it('is ended at the end', () => {
      expect(salePhase(soldOut, endsAt)).toBe('ended');
    });

    it('is not sold_out before the start', () => {
      expect(salePhase(soldOut, startsAt - 1)).toBe('priority');
    });
  });

  describe('when only one pool is empty', () => {
    it('is live while the F-code pool still holds units', () => {
      expect(salePhase({ ...sale, generalRemaining: 0 }, startsAt)).toBe('live');
    });

    it('is live while the general pool still holds units', () => {
      expect(salePhase({ ...sale, fcodeRemaining: 0 }, startsAt)).toBe('live');
    });
  });

  describe('when paused', () => {
    const paused = { ...sale, paused: true };

    it.each([
      ['before reservations open', reservationOpensAt - 1],
      ['during reservations', reservationOpensAt],
      ['while waiting', reservationClosesAt],
      ['during priority', fcodeOpensAt],
      ['while live', startsAt],
      ['one ms before the end', endsAt - 1],
    ])('is paused %s', (_when, now) => {
      expect(salePhase(paused, now)).toBe('paused');
    });

    it('is paused rather than sold_out', () => {
      expect(salePhase({ ...paused, generalRemaining: 0, fcodeRemaining: 0 }, startsAt)).toBe('paused');
    });

    it('is ended at the end', () => {
      expect(salePhase(paused, endsAt)).toBe('ended');
    });
  });

  describe('when the F-code window overlaps the reservation window', () => {
    const overlapping = { ...sale, reservationClosesAt: startsAt, fcodeOpensAt: startsAt - 10 * MINUTE };

    it('is reservation before F-codes open', () => {
      expect(salePhase(overlapping, startsAt - 10 * MINUTE - 1)).toBe('reservation');
    });

    it('is priority once F-codes open', () => {
      expect(salePhase(overlapping, startsAt - 10 * MINUTE)).toBe('priority');
    });
  });

  describe('with the default times (fcodeOpensAt = reservationClosesAt = startsAt)', () => {
    const defaults = { ...sale, reservationClosesAt: startsAt, fcodeOpensAt: startsAt };

    it('goes from reservation straight to live', () => {
      expect(salePhase(defaults, startsAt - 1)).toBe('reservation');
      expect(salePhase(defaults, startsAt)).toBe('live');
    });
  });
});
