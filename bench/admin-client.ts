import type { SaleStats } from '@sellout/contract';
import { chunkRanges, importBody, rescheduleBody, Schedule } from '../load-tests/lib/payloads';

/** The admin calls of a benchmark, over HTTP with an ops token, exactly as the HTTP contract (README) describes them. */
export interface SaleView {
  id: string;
  serverTime: string;
  remaining: number;
  phase: string;
}

export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async call<T>(method: string, path: string, body?: string, expected: number[] = [200, 201]): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body,
    });
    const text = await response.text();
    if (!expected.includes(response.status)) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  createSale(draft: Record<string, unknown>): Promise<SaleView> {
    return this.call<SaleView>('POST', '/api/admin/sales', JSON.stringify(draft), [201]);
  }

  reschedule(saleId: string, schedule: Schedule): Promise<SaleView> {
    return this.call<SaleView>('PATCH', `/api/admin/sales/${saleId}`, JSON.stringify(rescheduleBody(schedule)), [200]);
  }

  async importReservations(saleId: string, prefix: string, total: number): Promise<{ imported: number; duplicates: number; seconds: number }> {
    const started = Date.now();
    let imported = 0;
    let duplicates = 0;
    for (const range of chunkRanges(total)) {
      const result = await this.call<{ imported: number; duplicates: number }>('POST', `/api/admin/sales/${saleId}/reservations/import`, importBody(prefix, range), [200]);
      imported += result.imported;
      duplicates += result.duplicates;
    }
    return { imported, duplicates, seconds: (Date.now() - started) / 1000 };
  }

  stats(saleId: string): Promise<SaleStats> {
    return this.call<SaleStats>('GET', `/api/admin/sales/${saleId}/stats`);
  }
}
