/**
 * Request bodies and buyer identities for the scenarios, as plain functions (unit-tested with jest and
 * shared with the Node benchmark). Times are epoch milliseconds in, ISO-8601 out, as the HTTP contract (README) wants.
 */

/** The import route takes at most this many user ids per call (the HTTP contract, "Reservations"). */
export const IMPORT_CHUNK_MAX = 100_000;
/** `POST /api/admin/sales/:id/fcodes` issues at most this many codes per call. */
export const FCODE_BATCH_MAX = 100_000;

const iso = (epochMs: number): string => new Date(epochMs).toISOString();

export interface SaleDraftOptions {
  /** Short label that makes the sale recognisable in the ops console (`k6-flash-sale-…`). */
  label: string;
  stock: number;
  fcodeStock?: number;
  perUserLimit?: number;
  priceCents?: number;
  reservationRequired?: boolean;
  paymentWindowSeconds?: number;
  reservationOpensAt: number;
  reservationClosesAt: number;
  fcodeOpensAt: number;
  startsAt: number;
  endsAt: number;
}

/** Body of `POST /api/admin/sales`, every window explicit so that a later reschedule stays valid. */
export function saleDraft(options: SaleDraftOptions): Record<string, unknown> {
  return {
    sku: options.label.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 200),
    name: `Rehearsal ${options.label}`.slice(0, 200),
    description: 'Created by a Sellout load test.',
    priceCents: options.priceCents ?? 69_900,
    currency: 'CNY',
    stock: options.stock,
    fcodeStock: options.fcodeStock ?? 0,
    perUserLimit: options.perUserLimit ?? 1,
    reservationRequired: options.reservationRequired ?? true,
    reservationOpensAt: iso(options.reservationOpensAt),
    reservationClosesAt: iso(options.reservationClosesAt),
    fcodeOpensAt: iso(options.fcodeOpensAt),
    startsAt: iso(options.startsAt),
    endsAt: iso(options.endsAt),
    paymentWindowSeconds: options.paymentWindowSeconds ?? 900,
  };
}

export interface Schedule {
  reservationClosesAt: number;
  fcodeOpensAt: number;
  startsAt: number;
}

/**
 * Body of `PATCH /api/admin/sales/:id` that moves the start. Sales are created with a far start so that
 * a slow bulk import can never overrun it, then brought forward to a few seconds after the import ends.
 */
export function rescheduleBody(schedule: Schedule): Record<string, string> {
  if (!(schedule.reservationClosesAt <= schedule.startsAt && schedule.fcodeOpensAt <= schedule.startsAt)) {
    throw new Error('reservationClosesAt and fcodeOpensAt must not be after startsAt');
  }
  return { reservationClosesAt: iso(schedule.reservationClosesAt), fcodeOpensAt: iso(schedule.fcodeOpensAt), startsAt: iso(schedule.startsAt) };
}

/** A short random tag that keeps one run's sales and buyers apart from every other run's. */
export function runTag(random: () => number = Math.random): string {
  let tag = '';
  for (let index = 0; index < 8; index += 1) tag += '0123456789abcdefghijklmnopqrstuvwxyz'[Math.floor(random() * 36)];
  return tag;
}

/** Buyer ids are `<prefix><index>`, so any buyer of a run can be named again from its index alone. */
export function buyerId(prefix: string, index: number): string {
  return `${prefix}${index}`;
}

export interface IdRange {
  from: number;
  count: number;
}

/** Splits `total` consecutive indexes into ranges of at most `size` (the import route's chunks). */
export function chunkRanges(total: number, size: number = IMPORT_CHUNK_MAX): IdRange[] {
  if (!Number.isInteger(size) || size < 1) throw new Error('chunk size must be a positive integer');
  const ranges: IdRange[] = [];
  for (let from = 0; from < total; from += size) ranges.push({ from, count: Math.min(size, total - from) });
  return ranges;
}

/** Body of `POST /api/admin/sales/:id/reservations/import` for one range of buyers. */
export function importBody(prefix: string, range: IdRange): string {
  // Built as a string: at 100,000 ids a call, this avoids an intermediate array per chunk in k6.
  const parts: string[] = new Array(range.count);
  for (let offset = 0; offset < range.count; offset += 1) parts[offset] = JSON.stringify(buyerId(prefix, range.from + offset));
  return `{"userIds":[${parts.join(',')}]}`;
}

export function purchaseBody(quantity = 1, fcode?: string): string {
  return fcode === undefined ? JSON.stringify({ quantity }) : JSON.stringify({ quantity, fcode });
}

/** A uniformly random integer in [0, bound). */
export function randomIndex(bound: number, random: () => number = Math.random): number {
  return Math.min(bound - 1, Math.floor(random() * bound));
}

/** An Idempotency-Key as a storefront would make one per intended purchase. */
export function idempotencyKey(random: () => number = Math.random): string {
  return `k6-${runTag(random)}${runTag(random)}`;
}

const FCODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The code with one character replaced by another of the F-code alphabet, as a buyer who misreads one
 * character would type it. The code's check character catches every such typo, so the service must
 * answer FCODE_INVALID without looking the code up.
 */
export function mistypeFcode(code: string, random: () => number = Math.random): string {
  const positions: number[] = [];
  for (let index = 0; index < code.length; index += 1) if (FCODE_ALPHABET.includes(code[index].toUpperCase())) positions.push(index);
  if (positions.length === 0) throw new Error('not an F-code');
  const position = positions[randomIndex(positions.length, random)];
  const current = code[position].toUpperCase();
  const others = FCODE_ALPHABET.replace(current, '');
  const replacement = others[randomIndex(others.length, random)];
  return code.slice(0, position) + replacement + code.slice(position + 1);
}

/** How a buyer might type a code: lower case, without the dashes. Codes are case- and dash-insensitive. */
export function casualFcode(code: string): string {
  return code.replace(/-/g, '').toLowerCase();
}

/** A plausible private client address for `X-Forwarded-For`, one per simulated device. */
export function clientAddress(index: number): string {
  return `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
}
