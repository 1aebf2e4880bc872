import { useEffect, useRef, useState } from 'preact/hooks';
import { serverClock } from './server-clock';
import type { Sale } from '@sellout/contract';

/**
 * Follows `GET /api/sales/:saleId/events`: calls `onSale` with the sale whenever the server pushes it
 * (every change of stock, pause or phase, and `sold_out`). Returns whether the stream is open right now,
 * so the caller polls only while it is not: a broken stream (a proxy that drops it, a restart) is retried
 * by the browser on its own, and polling covers the gap.
 */
export function useSaleEvents(saleId: string, onSale: (sale: Sale) => void, enabled = true): boolean {
  const [open, setOpen] = useState(false);
  const onSaleRef = useRef(onSale);
  onSaleRef.current = onSale;
  useEffect(() => {
    if (!enabled || typeof EventSource === 'undefined') return undefined;
    const source = new EventSource(`/api/sales/${encodeURIComponent(saleId)}/events`);
    source.addEventListener('open', () => setOpen(true));
    source.addEventListener('error', () => setOpen(false));
    source.addEventListener('sale', (event) => {
      const sale = JSON.parse((event as MessageEvent<string>).data) as Sale;
      serverClock.sync(sale.serverTime);
      onSaleRef.current(sale);
    });
    return () => {
      source.close();
      setOpen(false);
    };
  }, [saleId, enabled]);
  return open;
}
