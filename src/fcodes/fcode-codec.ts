import { createHmac, randomBytes } from 'node:crypto';

/**
 * F-code format: 12 characters of Crockford base32 drawn from a cryptographic source (60 bits) plus one
 * Luhn mod 32 check character, shown grouped as `ABCD-EFGH-JKMN-P`. The alphabet has no I, L, O or U;
 * on input, case, spaces and dashes are ignored and I/L read as 1, O as 0. The check character catches
 * every single-character typo and most swaps of neighbours before any lookup.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const PAYLOAD_LENGTH = 12;

export type ParsedFcode = { ok: true; normalized: string } | { ok: false; reason: 'malformed' | 'typo' };

function checkCharacter(payload: string): string {
  // Luhn mod N over the alphabet, doubling every second character from the right.
  let sum = 0;
  for (let index = payload.length - 1, double = true; index >= 0; index -= 1, double = !double) {
    let value = ALPHABET.indexOf(payload[index]);
    if (double) {
      value *= 2;
      value = Math.floor(value / 32) + (value % 32);
    }
    sum += value;
  }
  return ALPHABET[(32 - (sum % 32)) % 32];
}

/**
 * Random bytes are drawn in blocks (one call per 4,096 codes instead of twelve per code: batches of
 * 100,000 codes are issued in one request). 256 is a multiple of 32, so the low five bits of a uniform
 * byte are a uniform character.
 */
const RANDOM_BLOCK = PAYLOAD_LENGTH * 4096;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

export function generateFcode(): string {
  if (randomOffset + PAYLOAD_LENGTH > randomPool.length) {
    randomPool = randomBytes(RANDOM_BLOCK);
    randomOffset = 0;
  }
  let payload = '';
  for (let index = 0; index < PAYLOAD_LENGTH; index += 1) payload += ALPHABET[randomPool[randomOffset + index] & 31];
  randomOffset += PAYLOAD_LENGTH;
  return payload + checkCharacter(payload);
}

/** `ABCDEFGHJKMNP` → `ABCD-EFGH-JKMN-P`. */
export function formatFcode(normalized: string): string {
  return normalized.replace(/(.{4})(?=.)/g, '$1-');
}

export function parseFcode(input: string): ParsedFcode {
  const cleaned = input.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  if (cleaned.length !== PAYLOAD_LENGTH + 1 || [...cleaned].some((character) => !ALPHABET.includes(character))) {
    return { ok: false, reason: 'malformed' };
  }
  const payload = cleaned.slice(0, PAYLOAD_LENGTH);
  if (checkCharacter(payload) !== cleaned[PAYLOAD_LENGTH]) return { ok: false, reason: 'typo' };
  return { ok: true, normalized: cleaned };
}

/** The keyed hash under which a code is stored (database primary key and Redis key suffix). */
export function hashFcode(secret: string, normalized: string): string {
  return createHmac('sha256', secret).update(normalized).digest('hex');
}
