import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { LiveGateway } from './live.gateway';

/** Shortest gap between two change notices of one sale from one process. */
export const CHANGE_NOTICE_GAP_MS = 100;

/**
 * Announces sale changes on the stock channel, coalesced: the first change of a sale is announced at
 * once, and further changes within `CHANGE_NOTICE_GAP_MS` become one notice at the end of the gap. A
 * sell-out of 100,000 units is thus at most ten notices a second per process, whatever the purchase rate;
 * the purchase path pays a map lookup. One timer per sale with changes, none per purchase.
 */
@Injectable()
export class SaleChangeNotifier implements OnModuleDestroy {
  /** Sales inside a gap: true when a change arrived during it and is still to be announced. */
  private readonly gaps = new Map<string, { pending: boolean; timer: NodeJS.Timeout }>();

  constructor(private readonly gateway: LiveGateway) {}

  saleChanged(saleId: string): void {
    const gap = this.gaps.get(saleId);
    if (gap) {
      gap.pending = true;
      return;
    }
    this.gateway.publishChanged(saleId);
    this.openGap(saleId);
  }

  onModuleDestroy(): void {
    for (const [saleId, gap] of this.gaps) {
      clearTimeout(gap.timer);
      if (gap.pending) this.gateway.publishChanged(saleId);
    }
    this.gaps.clear();
  }

  private openGap(saleId: string): void {
    const timer = setTimeout(() => {
      const gap = this.gaps.get(saleId);
      this.gaps.delete(saleId);
      if (gap?.pending) {
        this.gateway.publishChanged(saleId);
        this.openGap(saleId);
      }
    }, CHANGE_NOTICE_GAP_MS);
    timer.unref();
    this.gaps.set(saleId, { pending: false, timer });
  }
}
