import type { ErrorDetail } from '../common/errors/sell.exception';
import type { CreateSaleDto } from './dto/create-sale.dto';
import { epochOf } from './dto/validators';
import { SALE_LIMITS } from './sale-limits';

/** The settings of a sale that ops choose (times are epoch ms), defaults applied. */
export interface SaleSettings {
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  currency: string;
  stock: number;
  fcodeStock: number;
  perUserLimit: number;
  reservationRequired: boolean;
  reservationOpensAt: number;
  reservationClosesAt: number;
  fcodeOpensAt: number;
  startsAt: number;
  endsAt: number;
  paymentWindowSeconds: number;
}

/** Applies the contract's defaults to a validated create request; `now` is when it was received. */
export function settingsFromCreate(request: CreateSaleDto, now: number): SaleSettings {
  const startsAt = epochOf(request.startsAt);
  const reservationClosesAt = request.reservationClosesAt === undefined ? startsAt : epochOf(request.reservationClosesAt);
  return {
    sku: request.sku,
    name: request.name,
    description: request.description ?? '',
    priceCents: request.priceCents,
    currency: request.currency ?? SALE_LIMITS.defaultCurrency,
    stock: request.stock,
    fcodeStock: request.fcodeStock ?? 0,
    perUserLimit: request.perUserLimit ?? SALE_LIMITS.defaultPerUserLimit,
    reservationRequired: request.reservationRequired ?? true,
    // "Now" by default, but never after the close: a sale set up after its window gets an empty one rather than an error about a field nobody sent.
    reservationOpensAt: request.reservationOpensAt === undefined ? Math.min(now, reservationClosesAt) : epochOf(request.reservationOpensAt),
    reservationClosesAt,
    fcodeOpensAt: request.fcodeOpensAt === undefined ? startsAt : epochOf(request.fcodeOpensAt),
    startsAt,
    endsAt: request.endsAt === undefined ? startsAt + SALE_LIMITS.defaultDurationMs : epochOf(request.endsAt),
    paymentWindowSeconds: request.paymentWindowSeconds ?? SALE_LIMITS.defaultPaymentWindowSeconds,
  };
}

/**
 * The rules between fields, checked on the whole sale (after defaults on create, after merging on
 * PATCH): each broken rule is one detail, named after the field that would have to change.
 */
export function saleRuleViolations(sale: SaleSettings): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  if (sale.stock + sale.fcodeStock < 1) problems.push({ field: 'stock', message: 'stock + fcodeStock must be at least 1' });
  return [...problems, ...timeRuleViolations(sale)];
}

/** The order of a sale's times (the rules a PATCH must keep; stock changes have their own route). */
export function timeRuleViolations(sale: Pick<SaleSettings, 'reservationOpensAt' | 'reservationClosesAt' | 'fcodeOpensAt' | 'startsAt' | 'endsAt'>): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  if (sale.reservationOpensAt > sale.reservationClosesAt) problems.push({ field: 'reservationOpensAt', message: 'reservationOpensAt must not be after reservationClosesAt' });
  if (sale.reservationClosesAt > sale.startsAt) problems.push({ field: 'reservationClosesAt', message: 'reservationClosesAt must not be after startsAt' });
  if (sale.fcodeOpensAt > sale.startsAt) problems.push({ field: 'fcodeOpensAt', message: 'fcodeOpensAt must not be after startsAt' });
  if (sale.startsAt >= sale.endsAt) problems.push({ field: 'endsAt', message: 'endsAt must be after startsAt' });
  return problems;
}
