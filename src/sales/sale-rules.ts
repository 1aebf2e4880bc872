import { type AdmissionSettings, lotteryClosesAtOf, queueOpensAtOf } from '../admission/admission-mode';
import type { ErrorDetail } from '../common/errors/sell.exception';
import type { Sale } from '../contract/responses';

/** The settings of a sale that ops choose (times are epoch ms), defaults applied. */
export interface SaleSettings
  extends Pick<Sale, 'sku' | 'name' | 'description' | 'priceCents' | 'currency' | 'stock' | 'fcodeStock' | 'perUserLimit' | 'reservationRequired' | 'paymentWindowSeconds'>,
    AdmissionSettings {
  reservationOpensAt: number;
  reservationClosesAt: number;
  fcodeOpensAt: number;
  startsAt: number;
  endsAt: number;
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
export function timeRuleViolations(
  sale: Pick<SaleSettings, 'reservationOpensAt' | 'reservationClosesAt' | 'fcodeOpensAt' | 'startsAt' | 'endsAt' | 'queueOpensAt' | 'lotteryClosesAt'>,
): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  if (sale.reservationOpensAt > sale.reservationClosesAt) problems.push({ field: 'reservationOpensAt', message: 'reservationOpensAt must not be after reservationClosesAt' });
  if (sale.reservationClosesAt > sale.startsAt) problems.push({ field: 'reservationClosesAt', message: 'reservationClosesAt must not be after startsAt' });
  if (sale.fcodeOpensAt > sale.startsAt) problems.push({ field: 'fcodeOpensAt', message: 'fcodeOpensAt must not be after startsAt' });
  if (sale.startsAt >= sale.endsAt) problems.push({ field: 'endsAt', message: 'endsAt must be after startsAt' });
  // Only the times that were set: unset ones follow the reservation close and the start, which keep the rule.
  if (sale.queueOpensAt !== null && queueOpensAtOf(sale) > sale.startsAt) problems.push({ field: 'queueOpensAt', message: 'queueOpensAt must not be after startsAt' });
  if (sale.lotteryClosesAt !== null && lotteryClosesAtOf(sale) > sale.startsAt) problems.push({ field: 'lotteryClosesAt', message: 'lotteryClosesAt must not be after startsAt' });
  return problems;
}

export { SALE_PHASES, salePhase, type PhaseInputs, type SalePhase } from '../contract/sale-phase';
