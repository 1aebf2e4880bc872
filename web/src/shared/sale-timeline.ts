import type { Sale, SalePhase } from '@sellout/contract';

export interface SaleTimes {
  reservationOpensAt: number;
  reservationClosesAt: number;
  fcodeOpensAt: number;
  startsAt: number;
  endsAt: number;
}

export function timesOf(sale: Sale): SaleTimes {
  return {
    reservationOpensAt: Date.parse(sale.reservationOpensAt),
    reservationClosesAt: Date.parse(sale.reservationClosesAt),
    fcodeOpensAt: Date.parse(sale.fcodeOpensAt),
    startsAt: Date.parse(sale.startsAt),
    endsAt: Date.parse(sale.endsAt),
  };
}

/** The phase the HTTP contract (README) derives on the server, derived here from the same times at a given server time. */
export function phaseAt(sale: Sale, now: number): SalePhase {
  const times = timesOf(sale);
  if (now >= times.endsAt) return 'ended';
  if (sale.paused) return 'paused';
  if (now >= times.startsAt) return sale.remaining + sale.fcodeRemaining > 0 ? 'live' : 'sold_out';
  if (now >= times.fcodeOpensAt) return 'priority';
  if (now >= times.reservationOpensAt && now < times.reservationClosesAt) return 'reservation';
  if (now >= times.reservationClosesAt) return 'waiting';
  return 'upcoming';
}

/**
 * The phase to show now. Between two polls the server's word stands; once the local estimate of server
 * time crosses one of the sale's boundaries (the start, say), the page moves on by itself instead of
 * waiting for the next poll.
 */
export function currentPhase(sale: Sale, now: number): SalePhase {
  const atSnapshot = phaseAt(sale, Date.parse(sale.serverTime));
  const atNow = phaseAt(sale, now);
  return atNow === atSnapshot ? sale.phase : atNow;
}

export function reservationOpen(sale: Sale, now: number): boolean {
  const times = timesOf(sale);
  return now >= times.reservationOpensAt && now < times.reservationClosesAt;
}

export function sellingOpen(sale: Sale, now: number): boolean {
  const times = timesOf(sale);
  return now >= times.startsAt && now < times.endsAt;
}

/** F-code holders may buy from `fcodeOpensAt` (the priority window) until the sale ends. */
export function fcodeWindowOpen(sale: Sale, now: number): boolean {
  const times = timesOf(sale);
  return now >= times.fcodeOpensAt && now < times.endsAt;
}

export function isOver(sale: Sale, now: number): boolean {
  return now >= timesOf(sale).endsAt;
}

export interface Milestone {
  label: string;
  at: number;
}

/** What the countdown counts down to. */
export function nextMilestone(sale: Sale, now: number): Milestone | undefined {
  const times = timesOf(sale);
  if (now < times.reservationOpensAt && sale.reservationRequired) return { label: 'Reservations open in', at: times.reservationOpensAt };
  if (now < times.fcodeOpensAt && times.fcodeOpensAt < times.startsAt) return { label: 'F-code priority starts in', at: times.fcodeOpensAt };
  if (now < times.startsAt) return { label: 'Sale starts in', at: times.startsAt };
  if (now < times.endsAt) return { label: 'Sale ends in', at: times.endsAt };
  return undefined;
}

export const PHASE_LABELS: Record<SalePhase, string> = {
  upcoming: 'Coming soon',
  reservation: 'Reservations open',
  waiting: 'Reservations closed',
  priority: 'F-code priority',
  live: 'On sale now',
  sold_out: 'Sold out',
  paused: 'Paused',
  ended: 'Ended',
};
