import type { SaleStats } from '@sellout/contract';

/**
 * The stock checks every scenario ends with, on the body of `GET /api/admin/sales/:id/stats` (docs/api.md,
 * "Sales (ops)"): the stock equation `general + fcode − generalRemaining − fcodeRemaining = unitsSold`, no
 * units sold beyond what the pools held, and once the order writer is idle every accepted order in the
 * database exactly once.
 */

/** The part of the stats body the checks read. */
export type StockFigures = Pick<SaleStats, 'stock' | 'unitsSold' | 'orders'>;

export interface StockCheck {
  unitsSold: number;
  /** Units ever loaded into both pools. */
  capacity: number;
  /** Units sold beyond what the pools held (must be 0). */
  oversold: number;
  equationHolds: boolean;
  /** Orders the admission script accepted (every status). */
  ordersAccepted: number;
  ordersPersisted: number;
  /** True when the database holds exactly the accepted orders. */
  persistedAll: boolean;
  violations: string[];
}

export function checkStock(stats: StockFigures): StockCheck {
  const { general, fcode, generalRemaining, fcodeRemaining } = stats.stock;
  const capacity = general + fcode;
  const sold = capacity - generalRemaining - fcodeRemaining;
  const oversold = Math.max(0, stats.unitsSold - capacity, -Math.min(0, generalRemaining) - Math.min(0, fcodeRemaining));
  const orders = stats.orders;
  const ordersAccepted = orders.pending_payment + orders.paid + orders.expired + orders.cancelled;
  const violations: string[] = [];
  const equationHolds = sold === stats.unitsSold;
  if (!equationHolds) violations.push(`stock equation broken: ${general} + ${fcode} - ${generalRemaining} - ${fcodeRemaining} = ${sold}, but unitsSold = ${stats.unitsSold}`);
  if (oversold > 0) violations.push(`oversold by ${oversold} unit(s)`);
  if (orders.persisted > ordersAccepted) violations.push(`database holds ${orders.persisted} orders but only ${ordersAccepted} were accepted`);
  return { unitsSold: stats.unitsSold, capacity, oversold, equationHolds, ordersAccepted, ordersPersisted: orders.persisted, persistedAll: orders.persisted === ordersAccepted, violations };
}
