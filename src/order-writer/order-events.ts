import { MalformedOrderError, orderFromJson, OrderRecord } from '../orders/order-record';
import type { FinalStatus } from '../orders/orders.repository';

/**
 * The events of a sale's order outbox stream (`events`, see src/redis/redis-keys.ts):
 * `type=created order=<order JSON>` written by purchase.lua, and
 * `type=status orderId=<id> status=<paid|expired|cancelled> at=<ms>` written by the lifecycle scripts.
 */
export type OrderEvent =
  | { type: 'created'; order: OrderRecord }
  | { type: 'status'; orderId: string; status: FinalStatus; at: number };

const FINAL_STATUSES: readonly string[] = ['paid', 'expired', 'cancelled'];

/** The value of `name` in a stream entry's flat field list (read in place: this runs for every order). */
function fieldOf(fields: string[], name: string): string | undefined {
  for (let index = 0; index + 1 < fields.length; index += 2) if (fields[index] === name) return fields[index + 1];
  return undefined;
}

/** Turns a stream entry's flat field list into an event; throws MalformedOrderError for anything else. */
export function parseOrderEvent(fields: string[]): OrderEvent {
  const type = fieldOf(fields, 'type');
  if (type === 'created') {
    const json = fieldOf(fields, 'order');
    if (json === undefined) throw new MalformedOrderError('created event without an order');
    return { type, order: orderFromJson(json) };
  }
  if (type === 'status') {
    const orderId = fieldOf(fields, 'orderId');
    const status = fieldOf(fields, 'status');
    const at = Number(fieldOf(fields, 'at'));
    if (!orderId) throw new MalformedOrderError('status event without an orderId');
    if (status === undefined || !FINAL_STATUSES.includes(status)) throw new MalformedOrderError(`status event with unknown status ${String(status)}`);
    if (!Number.isSafeInteger(at)) throw new MalformedOrderError('status event without a time');
    return { type, orderId, status: status as FinalStatus, at };
  }
  throw new MalformedOrderError(`unknown event type ${String(type)}`);
}
