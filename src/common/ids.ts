import { randomFillSync } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

const RANDOM_BYTES = 10;
/** Random bytes drawn from the CSPRNG in blocks: one call per 409 ids instead of one per id. */
const randomPool = Buffer.alloc(RANDOM_BYTES * 409);
let randomOffset = randomPool.length;

/** The offset of 10 fresh random bytes in the pool; each byte is handed out once. */
function takeRandom(): number {
  if (randomOffset + RANDOM_BYTES > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  const offset = randomOffset;
  randomOffset += RANDOM_BYTES;
  return offset;
}

/**
 * A ULID (48-bit millisecond time + 80 random bits, Crockford base32, lower case): sortable by creation
 * time and unique across processes without coordination.
 */
export function ulid(now: number = Date.now()): string {
  let time = now;
  let head = '';
  for (let index = 0; index < 10; index += 1) {
    head = CROCKFORD[time % 32] + head;
    time = Math.floor(time / 32);
  }
  const offset = takeRandom();
  let tail = '';
  // 80 bits -> 16 base32 characters, 5 bits each.
  let buffer = 0;
  let bits = 0;
  for (let index = offset; index < offset + RANDOM_BYTES; index += 1) {
    buffer = (buffer << 8) | randomPool[index];
    bits += 8;
    while (bits >= 5) {
      tail += CROCKFORD[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  return head + tail;
}

export { ID_PATTERN } from '../contract/ids';

export function newSaleId(now?: number): string {
  return `s_${ulid(now)}`;
}

/**
 * Order ids carry their sale id (`o_<ulid>.<saleId>`) so that an order can be found in Redis, where all
 * of a sale's keys share one hash tag, before the order writer has put it in the database.
 */
export function newOrderId(saleId: string, now?: number): string {
  return `o_${ulid(now)}.${saleId}`;
}

export function saleIdOfOrder(orderId: string): string | undefined {
  const dot = orderId.indexOf('.');
  if (!orderId.startsWith('o_') || dot < 0 || dot === orderId.length - 1) return undefined;
  return orderId.slice(dot + 1);
}
