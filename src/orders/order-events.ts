import { MalformedOrderError, orderFromJson, OrderRecord } from './order-record';
import type { FinalStatus } from './orders.repository';

/**
 * The events of a sale's order outbox stream (`events`, see src/redis/redis-keys.ts):
 * `type=created order=<order JSON>` written by purchase.lua, and
 * `type=status orderId=<id> status=<paid|expired|cancelled> at=<ms>` written by the lifecycle scripts.
 */
export type OrderEvent =
  | { type: 'created'; order: OrderRecord }
  | { type: 'status'; orderId: string; status: FinalStatus; at: number };

const FINAL_STATUSES: readonly string[] = ['paid', 'expired', 'cancelled'];

/** Turns a stream entry's flat field list into an event; throws MalformedOrderError for anything else. */
export function parseOrderEvent(fields: string[]): OrderEvent {
  const values = new Map<string, string>();
  for (let index = 0; index + 1 < fields.length; index += 2) values.set(fields[index], fields[index + 1]);
  const type = values.get('type');
  if (type === 'created') {
    const json = values.get('order');
    if (json === undefined) throw new MalformedOrderError('created event without an order');
    return { type, order: orderFromJson(json) };
  }
  if (type === 'status') {
    const orderId = values.get('orderId');
    const status = values.get('status');
    const at = Number(values.get('at'));
    if (!orderId) throw new MalformedOrderError('status event without an orderId');
    if (status === undefined || !FINAL_STATUSES.includes(status)) throw new MalformedOrderError(`status event with unknown status ${String(status)}`);
    if (!Number.isSafeInteger(at)) throw new MalformedOrderError('status event without a time');
    return { type, orderId, status: status as FinalStatus, at };
  }
  throw new MalformedOrderError(`unknown event type ${String(type)}`);
}
