import type { AdmissionMode } from './admission';
import type { SalePhase } from './sale-phase';

/*
 * The JSON bodies of the HTTP API as a client receives them: times are ISO-8601 strings. The server's
 * response DTOs implement these interfaces, so a field the server drops or retypes fails to compile here
 * and in every client that reads it.
 */

/** `GET /api/sales/:saleId` and the items of the sale lists. */
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
  /** How buyers are let in: at once (`open`), through a waiting room (`queue`) or by a draw (`lottery`). */
  admission: AdmissionMode;
  queueOpensAt: string;
  admissionRatePerSecond: number;
  admissionTtlSeconds: number;
  lotteryClosesAt: string;
  purchaseWindowSeconds: number;
  /** Lottery sales only: the SHA-256 of the committed seed (null before the commit). */
  lottery?: { seedHash: string | null; drawn: boolean };
}

/** `GET /api/sales/:saleId/queue/me` (and the answer of joining). */
export interface QueueStatus {
  position: number;
  ahead: number;
  etaSeconds: number;
  admitted: boolean;
  admissionToken?: string;
  admissionExpiresAt?: string;
  soldOut: boolean;
}

/** `GET /api/sales/:saleId/lottery/me`. */
export interface LotteryStatus {
  entered: boolean;
  drawn: boolean;
  won: boolean;
  rank: number | null;
  admissionToken?: string;
  buyBy?: string;
}

/** `GET /api/sales/:saleId/lottery/result` and the answer of the draw. */
export interface LotteryResult {
  seed: string;
  seedHash: string;
  entries: string[];
  winners: string[];
  rounds: { winners: number; buyBy: string }[];
}

/** `GET /api/sales`. */
export interface SaleList {
  items: Sale[];
}

/** `GET /api/admin/sales`. */
export interface SalePage {
  items: Sale[];
  nextCursor: string | null;
}

export type OrderStatus = 'pending_payment' | 'paid' | 'expired' | 'cancelled';
export type StockPool = 'general' | 'fcode';

/** `POST /api/sales/:saleId/purchase`, `GET /api/orders/:orderId`, pay and cancel. */
export interface Order {
  id: string;
  saleId: string;
  userId: string;
  quantity: number;
  unitPriceCents: number;
  amountCents: number;
  currency: string;
  status: OrderStatus;
  pool: StockPool;
  createdAt: string;
  payBy: string;
  paidAt: string | null;
}

/** `GET /api/orders`. */
export interface OrderList {
  items: Order[];
}

/** `POST /api/sales/:saleId/reservations` and `GET /api/sales/:saleId/reservations/me`. */
export interface Reservation {
  saleId: string;
  userId: string;
  reservedAt: string;
}

/** `POST /api/admin/sales/:saleId/reservations/import`. */
export interface ImportResult {
  imported: number;
  duplicates: number;
}

/** `GET /api/admin/sales/:saleId/stats`: the stock equation and the order pipeline at a glance. */
export interface SaleStats {
  saleId: string;
  phase: SalePhase;
  stock: { general: number; fcode: number; generalRemaining: number; fcodeRemaining: number };
  unitsSold: number;
  reservations: number;
  orders: { pending_payment: number; paid: number; expired: number; cancelled: number; persisted: number };
  fcodes: { issued: number; redeemed: number };
  accepted: number;
  stockEquationHolds: boolean;
  orderWriter: { lag: number; parked: number };
}

/** One step of `GET /api/admin/sales/:saleId/timeline`: units sold at its end and attempts by outcome. */
export interface TimelinePoint {
  at: string;
  unitsSold: number;
  /** `CREATED` or the error code each attempt was answered with. */
  attempts: Record<string, number>;
}

export interface SaleTimeline {
  saleId: string;
  stepSeconds: number;
  points: TimelinePoint[];
}

/** `POST /api/admin/sales/:saleId/fcodes`. */
export interface IssuedFcodes {
  batchId: string;
  saleId: string;
  count: number;
  expiresAt: string | null;
  codes: string[];
}

/** `POST /api/admin/sales/:saleId/fcodes/:code/void`. */
export interface VoidedFcode {
  code: string;
  status: 'void';
  saleId: string;
  voidedAt: string;
  orderId: string | null;
}

/** `GET /api/admin/sales/:saleId/fcodes/summary`. */
export interface FcodeSummary {
  issued: number;
  redeemed: number;
  void: number;
  expired: number;
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

/** `GET /api/admin/sales/:saleId/fcodes/batches`. */
export interface FcodeBatchList {
  items: FcodeBatchSummary[];
}

export interface OrderCounts {
  pending_payment: number;
  paid: number;
  expired: number;
  cancelled: number;
  total: number;
}

export interface PoolUnits {
  general: number;
  fcode: number;
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
    loaded: PoolUnits;
    loadedTotal: number;
    remaining: PoolUnits | null;
    sold: number;
    pending: number;
    paid: number;
    expired: number;
    cancelled: number;
    returned: number;
  };
  orders: { redis: OrderCounts | null; database: OrderCounts };
  payments: { charges: number; chargedCents: number; declined: number; refunds: number; refundedCents: number; netCents: number; paidOrdersCents: number; currency: string };
  fcodes: FcodeSummary;
  reservations: { redis: number | null; database: number };
  buyers: { withOrders: number; withLiveOrders: number; withPaidOrders: number };
  soldOutAt: string | null;
  orderPipeline: { lag: number; parked: number } | null;
  consistent: boolean;
  differences: ReportDifference[];
  notes: string[];
}

/** One problem of a refused request: the field (or header, or `body`) and what is wrong with it. */
export interface ErrorDetail {
  field: string;
  message: string;
}

/** The body of every 4xx and 5xx answer. `code` is one of `ErrorCode`. */
export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  details: ErrorDetail[];
  requestId?: string;
}
