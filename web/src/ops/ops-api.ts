import { apiRequest } from '../shared/api';
import { serverClock } from '../shared/server-clock';
import type { IssuedFcodes, FcodeBatchSummary, LotteryResult, Sale, SalePage, SaleReport, SaleStats, SaleTimeline, VoidedFcode } from '@sellout/contract';

const encode = encodeURIComponent;

async function saleRequest(method: string, url: string, token: string, body?: unknown): Promise<Sale> {
  const response = await apiRequest<Sale>(method, url, { token, body });
  serverClock.sync(response.data.serverTime, response.receivedAt);
  return response.data;
}

export const createSale = (token: string, body: Record<string, unknown>) => saleRequest('POST', '/api/admin/sales', token, body);
export const fetchAdminSale = (token: string, saleId: string) => saleRequest('GET', `/api/admin/sales/${encode(saleId)}`, token);
export const updateSale = (token: string, saleId: string, body: Record<string, unknown>) => saleRequest('PATCH', `/api/admin/sales/${encode(saleId)}`, token, body);
export const addStock = (token: string, saleId: string, add: number, pool: 'general' | 'fcode') =>
  saleRequest('POST', `/api/admin/sales/${encode(saleId)}/stock`, token, { add, pool });
export const pauseSale = (token: string, saleId: string) => saleRequest('POST', `/api/admin/sales/${encode(saleId)}/pause`, token);
export const resumeSale = (token: string, saleId: string) => saleRequest('POST', `/api/admin/sales/${encode(saleId)}/resume`, token);

export async function fetchStats(token: string, saleId: string): Promise<{ stats: SaleStats; receivedAt: number }> {
  const response = await apiRequest<SaleStats>('GET', `/api/admin/sales/${encode(saleId)}/stats`, { token });
  return { stats: response.data, receivedAt: response.receivedAt };
}

/** `GET …/timeline`: the sell-out curve and the outcome mix since the first purchase attempt, one point a second. */
export async function fetchTimeline(token: string, saleId: string): Promise<SaleTimeline> {
  return (await apiRequest<SaleTimeline>('GET', `/api/admin/sales/${encode(saleId)}/timeline?stepSeconds=1`, { token })).data;
}

export interface SaleArchiveQuery {
  /** Comma-separated phases; empty for every phase. */
  phase: string;
  q: string;
  limit: number;
  cursor: string | null;
}

/** `GET /api/admin/sales`: one page of every sale, ended ones included, newest start first. */
export async function fetchSaleArchive(token: string, query: SaleArchiveQuery): Promise<SalePage> {
  const parameters = new URLSearchParams({ limit: String(query.limit) });
  if (query.phase !== '') parameters.set('phase', query.phase);
  if (query.q.trim() !== '') parameters.set('q', query.q.trim());
  if (query.cursor !== null) parameters.set('cursor', query.cursor);
  const response = await apiRequest<SalePage>('GET', `/api/admin/sales?${parameters.toString()}`, { token });
  const first = response.data.items[0];
  if (first) serverClock.sync(first.serverTime, response.receivedAt);
  return response.data;
}

/**
 * One call of the import route (at most 100,000 ids), sent as CSV: the server reads it faster than the
 * same ids as JSON, which it validates id by id. The header line keeps an id spelled `userId` from being
 * taken for one; ids with a double quote (which CSV reading would strip) go as JSON.
 */
export async function importReservations(token: string, saleId: string, userIds: string[]): Promise<{ imported: number; duplicates: number }> {
  const asJson = userIds.some((userId) => userId.includes('"'));
  const response = await apiRequest<{ imported: number; duplicates: number }>('POST', `/api/admin/sales/${encode(saleId)}/reservations/import`, {
    token,
    ...(asJson ? { body: { userIds } } : { rawBody: `userId\n${userIds.join('\n')}`, contentType: 'text/csv' }),
    timeoutMs: 120000,
  });
  return response.data;
}

export async function issueFcodes(token: string, saleId: string, body: { count: number; expiresAt?: string; userIds?: string[] }): Promise<IssuedFcodes> {
  return (await apiRequest<IssuedFcodes>('POST', `/api/admin/sales/${encode(saleId)}/fcodes`, { token, body, timeoutMs: 120000 })).data;
}

/** The CSV of one batch, or of every code of the sale when `batchId` is undefined. */
export async function downloadFcodesCsv(token: string, saleId: string, batchId?: string): Promise<string> {
  const query = batchId === undefined ? '' : `?batchId=${encode(batchId)}`;
  const response = await apiRequest<string>('GET', `/api/admin/sales/${encode(saleId)}/fcodes.csv${query}`, {
    token,
    headers: { accept: 'text/csv' },
    timeoutMs: 120000,
  });
  return typeof response.data === 'string' ? response.data : String(response.data);
}

export async function fetchFcodeBatches(token: string, saleId: string): Promise<FcodeBatchSummary[]> {
  return (await apiRequest<{ items: FcodeBatchSummary[] }>('GET', `/api/admin/sales/${encode(saleId)}/fcodes/batches`, { token, timeoutMs: 60000 })).data.items;
}

export async function voidFcode(token: string, code: string): Promise<VoidedFcode> {
  return (await apiRequest<VoidedFcode>('POST', `/api/admin/fcodes/${encode(code)}/void`, { token })).data;
}

export async function fetchSaleReport(token: string, saleId: string): Promise<SaleReport> {
  return (await apiRequest<SaleReport>('GET', `/api/admin/sales/${encode(saleId)}/report`, { token, timeoutMs: 60000 })).data;
}

export async function commitLottery(token: string, saleId: string): Promise<{ seedHash: string }> {
  return (await apiRequest<{ seedHash: string }>('POST', `/api/admin/sales/${encode(saleId)}/lottery/commit`, { token })).data;
}

export async function drawLottery(token: string, saleId: string): Promise<LotteryResult> {
  return (await apiRequest<LotteryResult>('POST', `/api/admin/sales/${encode(saleId)}/lottery/draw`, { token })).data;
}
