/**
 * Messages on the deployment's stock channel (`RedisKeys.soldOutChannel`), one per line of pub/sub:
 *
 * - `<saleId>:<stockVersion>` — units came back to a pool (published by `adjust-stock.lua` and
 *   `release-order.lua`); every process forgets its sold-out flag for the sale.
 * - `<saleId>:changed` — something buyers see changed (units sold, pause, settings): processes with open
 *   event streams for the sale read it again. Published at most a few times a second per sale and process.
 *
 * Both say "read this sale again" to the live-update streams; only the first clears sold-out flags.
 */
export const SALE_CHANGED = 'changed';

export type SaleSignal = { saleId: string; kind: 'stock'; stockVersion: number } | { saleId: string; kind: 'changed' };

/** Parses a message of the stock channel; undefined for one that is neither kind. */
export function parseSaleSignal(message: string): SaleSignal | undefined {
  const separator = message.lastIndexOf(':');
  if (separator <= 0) return undefined;
  const saleId = message.slice(0, separator);
  const tail = message.slice(separator + 1);
  if (tail === SALE_CHANGED) return { saleId, kind: 'changed' };
  if (/^\d{1,15}$/.test(tail)) return { saleId, kind: 'stock', stockVersion: Number(tail) };
  return undefined;
}

export function saleChangedMessage(saleId: string): string {
  return `${saleId}:${SALE_CHANGED}`;
}
