/** Shapes of the HTTP contract as the browser sees them: times are ISO strings. */

export type SalePhase = 'upcoming' | 'reservation' | 'waiting' | 'priority' | 'live' | 'sold_out' | 'paused' | 'ended';

export interface Sale {
  id: string;
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  currency: string;
  stock: number;
  fcodeStock: number;
  perUserLimit: number;
  reservationRequired: boolean;
  reservationOpensAt: string;
  reservationClosesAt: string;
  fcodeOpensAt: string;
  startsAt: string;
  endsAt: string;
  paymentWindowSeconds: number;
  paused: boolean;
  phase: SalePhase;
  remaining: number;
  fcodeRemaining: number;
  reservations: number;
  serverTime: string;
}

export interface SalePage {
  items: Sale[];
  nextCursor: string | null;
}

export type OrderStatus = 'pending_payment' | 'paid' | 'expired' | 'cancelled';

export interface Order {
  id: string;
  saleId: string;
  userId: string;
  quantity: number;
  unitPriceCents: number;
  amountCents: number;
  currency: string;
  status: OrderStatus;
  pool: 'general' | 'fcode';
  createdAt: string;
  payBy: string;
  paidAt: string | null;
}

export interface Reservation {
  saleId: string;
  userId: string;
  reservedAt: string;
}

export interface SaleStats {
  saleId: string;
  phase: SalePhase;
  stock: { general: number; fcode: number; generalRemaining: number; fcodeRemaining: number };
  unitsSold: number;
  reservations: number;
  orders: { pending_payment: number; paid: number; expired: number; cancelled: number; persisted: number };
  fcodes: { issued: number; redeemed: number };
}

export interface FcodeBatch {
  batchId: string;
  codes: string[];
}

export interface FcodeBatchSummary {
  batchId: string;
  count: number;
  bound: number;
  expiresAt: string | null;
  createdAt: string;
  redeemed: number;
  void: number;
  expired: number;
}

export interface VoidedFcode {
  code: string;
  status: 'void';
  saleId: string;
  voidedAt: string;
  orderId: string | null;
}

export interface OrderCounts {
  pending_payment: number;
  paid: number;
  expired: number;
  cancelled: number;
  total: number;
}

export interface ReportDifference {
  check: string;
  message: string;
  expected?: number;
  actual?: number;
  orderId?: string;
}

/** `GET /api/admin/sales/:saleId/report`. */
export interface SaleReport {
  saleId: string;
  sku: string;
  name: string;
  phase: SalePhase;
  startsAt: string;
  endsAt: string;
  generatedAt: string;
  units: {
    loaded: { general: number; fcode: number };
    loadedTotal: number;
    remaining: { general: number; fcode: number } | null;
    sold: number;
    pending: number;
    paid: number;
    expired: number;
    cancelled: number;
    returned: number;
  };
  orders: { redis: OrderCounts | null; database: OrderCounts };
  payments: { charges: number; chargedCents: number; declined: number; refunds: number; refundedCents: number; netCents: number; paidOrdersCents: number; currency: string };
  fcodes: { issued: number; redeemed: number; void: number; expired: number };
  reservations: { redis: number | null; database: number };
  buyers: { withOrders: number; withLiveOrders: number; withPaidOrders: number };
  soldOutAt: string | null;
  orderPipeline: { lag: number; parked: number } | null;
  consistent: boolean;
  differences: ReportDifference[];
  notes: string[];
}

export interface ErrorDetail {
  field: string;
  message: string;
}
