import type { SaleEntity } from './sale.entity';

/** The counters of a sale's `sale` hash (src/redis/redis-keys.ts), as numbers. */
export interface SaleCounters {
  general: number;
  fcode: number;
  generalRemaining: number;
  fcodeRemaining: number;
  unitsSold: number;
  accepted: number;
  pending_payment: number;
  paid: number;
  expired: number;
  cancelled: number;
  fcodesRedeemed: number;
  stockVersion: number;
}

export const COUNTER_FIELDS: readonly (keyof SaleCounters)[] = [
  'general',
  'fcode',
  'generalRemaining',
  'fcodeRemaining',
  'unitsSold',
  'accepted',
  'pending_payment',
  'paid',
  'expired',
  'cancelled',
  'fcodesRedeemed',
  'stockVersion',
];

/** The counters of a sale that has sold nothing yet. */
export function freshCounters(sale: Pick<SaleEntity, 'stock' | 'fcodeStock'>): SaleCounters {
  return {
    general: sale.stock,
    fcode: sale.fcodeStock,
    generalRemaining: sale.stock,
    fcodeRemaining: sale.fcodeStock,
    unitsSold: 0,
    accepted: 0,
    pending_payment: 0,
    paid: 0,
    expired: 0,
    cancelled: 0,
    fcodesRedeemed: 0,
    stockVersion: 0,
  };
}

/** The settings part of the `sale` hash: what the hot path reads, in the units the scripts expect. */
export function settingsFields(sale: SaleEntity): Record<string, string | number> {
  return {
    startsAt: sale.startsAt,
    endsAt: sale.endsAt,
    fcodeOpensAt: sale.fcodeOpensAt,
    reservationOpensAt: sale.reservationOpensAt,
    reservationClosesAt: sale.reservationClosesAt,
    paused: sale.paused ? 1 : 0,
    reservationRequired: sale.reservationRequired ? 1 : 0,
    perUserLimit: sale.perUserLimit,
    priceCents: sale.priceCents,
    currency: sale.currency,
    paymentWindowMs: sale.paymentWindowSeconds * 1000,
  };
}

/** Every field of the `sale` hash. */
export function saleHashFields(sale: SaleEntity, counters: SaleCounters): Record<string, string | number> {
  return { ...settingsFields(sale), ...counters };
}
