/** Where a sale stands, as buyers see it (docs/api.md, "Sales"). */
export type SalePhase = 'upcoming' | 'reservation' | 'waiting' | 'priority' | 'live' | 'sold_out' | 'paused' | 'ended';

export const SALE_PHASES: readonly SalePhase[] = ['upcoming', 'reservation', 'waiting', 'priority', 'live', 'sold_out', 'paused', 'ended'];

export interface PhaseInputs {
  reservationOpensAt: number;
  reservationClosesAt: number;
  fcodeOpensAt: number;
  startsAt: number;
  endsAt: number;
  paused: boolean;
  generalRemaining: number;
  fcodeRemaining: number;
}

/**
 * The phase at `now` (epoch ms). Every window is half-open, [opens, closes): a phase begins at its
 * instant. Precedence, first match wins:
 *
 * 1. `ended` from `endsAt` on, paused or not: nothing can happen any more.
 * 2. `paused` while the pause flag is set (purchases are refused; reservations still work).
 * 3. `live` from `startsAt`, or `sold_out` when both pools are empty.
 * 4. `priority` from `fcodeOpensAt`. It may overlap the reservation window (only `fcodeOpensAt ≤ startsAt`
 *    is required); F-code holders can then buy, which matters more than the still-open reservations.
 * 5. `reservation` inside [reservationOpensAt, reservationClosesAt), `waiting` after it, `upcoming` before.
 */
export function salePhase(sale: PhaseInputs, now: number): SalePhase {
  if (now >= sale.endsAt) return 'ended';
  if (sale.paused) return 'paused';
  if (now >= sale.startsAt) return sale.generalRemaining <= 0 && sale.fcodeRemaining <= 0 ? 'sold_out' : 'live';
  if (now >= sale.fcodeOpensAt) return 'priority';
  if (now >= sale.reservationClosesAt) return 'waiting';
  if (now >= sale.reservationOpensAt) return 'reservation';
  return 'upcoming';
}
