import type { Order, OrderStatus, StockPool } from '../contract/responses';
import type { OrderEntity } from './order.entity';

/**
 * One order as the service handles it, whichever store it was read from: the live `order:<id>` hash in
 * Redis, the JSON of a `created` event (or an idempotent response), or a database row. Times are epoch ms.
 */
export interface OrderRecord extends Omit<Order, 'createdAt' | 'payBy' | 'paidAt'> {
  /** Keyed hash of the F-code that backs the order, `null` without one. Never shown to buyers. */
  fcodeHash: string | null;
  createdAt: number;
  payBy: number;
  paidAt: number | null;
}

const STATUSES: readonly string[] = ['pending_payment', 'paid', 'expired', 'cancelled'];
const POOLS: readonly string[] = ['general', 'fcode'];

export class MalformedOrderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedOrderError';
  }
}

function integerField(source: Record<string, unknown>, name: string): number {
  const value = typeof source[name] === 'string' ? Number(source[name]) : source[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new MalformedOrderError(`order field ${name} is not an integer`);
  return value;
}

function stringField(source: Record<string, unknown>, name: string): string {
  const value = source[name];
  if (typeof value !== 'string' || value === '') throw new MalformedOrderError(`order field ${name} is missing`);
  return value;
}

/**
 * Reads an order from the Redis hash or event JSON written by `purchase.lua` (and updated by the
 * lifecycle scripts). `paying` (a payment in flight) is still `pending_payment` to everyone outside.
 */
export function orderFromFields(source: Record<string, unknown>): OrderRecord {
  const rawStatus = stringField(source, 'status');
  const status = rawStatus === 'paying' ? 'pending_payment' : rawStatus;
  if (!STATUSES.includes(status)) throw new MalformedOrderError(`order status ${rawStatus} is unknown`);
  const pool = stringField(source, 'pool');
  if (!POOLS.includes(pool)) throw new MalformedOrderError(`order pool ${pool} is unknown`);
  const fcodeHash = source.fcodeHash;
  const paidAt = source.paidAt;
  return {
    id: stringField(source, 'id'),
    saleId: stringField(source, 'saleId'),
    userId: stringField(source, 'userId'),
    quantity: integerField(source, 'quantity'),
    unitPriceCents: integerField(source, 'unitPriceCents'),
    amountCents: integerField(source, 'amountCents'),
    currency: stringField(source, 'currency'),
    status: status as OrderStatus,
    pool: pool as StockPool,
    fcodeHash: typeof fcodeHash === 'string' && fcodeHash !== '' ? fcodeHash : null,
    createdAt: integerField(source, 'createdAt'),
    payBy: integerField(source, 'payBy'),
    paidAt: paidAt === undefined || paidAt === null || paidAt === '' ? null : integerField(source, 'paidAt'),
  };
}

export function orderFromJson(json: string): OrderRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new MalformedOrderError('order JSON does not parse');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new MalformedOrderError('order JSON is not an object');
  return orderFromFields(parsed as Record<string, unknown>);
}

export function orderFromEntity(entity: OrderEntity): OrderRecord {
  return {
    id: entity.id,
    saleId: entity.saleId,
    userId: entity.userId,
    quantity: entity.quantity,
    unitPriceCents: entity.unitPriceCents,
    amountCents: entity.amountCents,
    currency: entity.currency,
    status: entity.status,
    pool: entity.pool,
    fcodeHash: entity.fcodeHash,
    createdAt: entity.createdAt,
    payBy: entity.payBy,
    paidAt: entity.paidAt,
  };
}
