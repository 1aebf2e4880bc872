import { ApiError, apiRequest } from '../shared/api';
import { serverClock } from '../shared/server-clock';
import type { LotteryStatus, Order, QueueStatus, Reservation, Sale } from '@sellout/contract';
import type { PurchaseBody } from './purchase';

const path = (...parts: string[]) => parts.map(encodeURIComponent).join('/');

export async function fetchSales(token: string | null): Promise<Sale[]> {
  const response = await apiRequest<{ items: Sale[] }>('GET', '/api/sales', { token });
  const first = response.data.items[0];
  if (first) serverClock.sync(first.serverTime, response.receivedAt);
  return response.data.items;
}

export async function fetchSale(saleId: string, token: string | null): Promise<Sale> {
  const response = await apiRequest<Sale>('GET', `/api/sales/${path(saleId)}`, { token });
  serverClock.sync(response.data.serverTime, response.receivedAt);
  return response.data;
}

export async function reserve(saleId: string, token: string): Promise<Reservation> {
  return (await apiRequest<Reservation>('POST', `/api/sales/${path(saleId)}/reservations`, { token })).data;
}

/** The buyer's reservation, or null when there is none (404 RESERVATION_NOT_FOUND). */
export async function fetchMyReservation(saleId: string, token: string): Promise<Reservation | null> {
  try {
    return (await apiRequest<Reservation>('GET', `/api/sales/${path(saleId)}/reservations/me`, { token })).data;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export async function purchase(saleId: string, body: PurchaseBody, idempotencyKey: string, token: string, admissionToken?: string): Promise<Order> {
  const headers: Record<string, string> = { 'idempotency-key': idempotencyKey };
  if (admissionToken !== undefined) headers['admission-token'] = admissionToken;
  const response = await apiRequest<Order>('POST', `/api/sales/${path(saleId)}/purchase`, { token, body, headers });
  return response.data;
}

/** Joins the sale's waiting room (a repeat keeps the place); an F-code stands in for a reservation. */
export async function joinQueue(saleId: string, token: string, fcode?: string): Promise<QueueStatus> {
  return (await apiRequest<QueueStatus>('POST', `/api/sales/${path(saleId)}/queue`, { token, body: fcode === undefined ? {} : { fcode } })).data;
}

/** The buyer's place in the waiting room, or null when they have not joined (404). */
export async function fetchQueueStatus(saleId: string, token: string): Promise<QueueStatus | null> {
  try {
    return (await apiRequest<QueueStatus>('GET', `/api/sales/${path(saleId)}/queue/me`, { token })).data;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && error.code === 'NOT_FOUND') return null;
    throw error;
  }
}

export async function enterLottery(saleId: string, token: string, fcode?: string): Promise<void> {
  await apiRequest('POST', `/api/sales/${path(saleId)}/lottery/entries`, { token, body: fcode === undefined ? {} : { fcode } });
}

export async function fetchLotteryStatus(saleId: string, token: string): Promise<LotteryStatus> {
  return (await apiRequest<LotteryStatus>('GET', `/api/sales/${path(saleId)}/lottery/me`, { token })).data;
}

export async function fetchOrder(orderId: string, token: string): Promise<Order> {
  return (await apiRequest<Order>('GET', `/api/orders/${path(orderId)}`, { token })).data;
}

export async function fetchMyOrders(token: string): Promise<Order[]> {
  return (await apiRequest<{ items: Order[] }>('GET', '/api/me/orders', { token })).data.items;
}

export async function payOrder(orderId: string, token: string): Promise<Order> {
  return (await apiRequest<Order>('POST', `/api/orders/${path(orderId)}/pay`, { token, body: { method: 'test-card' } })).data;
}

export async function cancelOrder(orderId: string, token: string): Promise<Order> {
  return (await apiRequest<Order>('POST', `/api/orders/${path(orderId)}/cancel`, { token })).data;
}
