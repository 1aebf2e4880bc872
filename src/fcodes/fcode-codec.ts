import { createHmac, randomBytes } from 'node:crypto';
import { checkCharacter, FCODE_ALPHABET, FCODE_PAYLOAD_LENGTH } from '../contract/fcode-format';

/**
 * The server side of F-codes: generation from a cryptographic source and the keyed hash they are stored
 * under. The format itself (alphabet, check character, parsing) is in `src/contract/fcode-format.ts`, shared with
 * the storefront.
 */
export { formatFcode, parseFcode } from '../contract/fcode-format';
export type { ParsedFcode } from '../contract/fcode-format';

/**
 * Random bytes are drawn in blocks (one call per 4,096 codes instead of twelve per code: batches of
 * 100,000 codes are issued in one request). 256 is a multiple of 32, so the low five bits of a uniform
 * byte are a uniform character.
 */
const RANDOM_BLOCK = FCODE_PAYLOAD_LENGTH * 4096;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

export function generateFcode(): string {
  if (randomOffset + FCODE_PAYLOAD_LENGTH > randomPool.length) {
    randomPool = randomBytes(RANDOM_BLOCK);
    randomOffset = 0;
  }
  let payload = '';
  for (let index = 0; index < FCODE_PAYLOAD_LENGTH; index += 1) payload += FCODE_ALPHABET[randomPool[randomOffset + index] & 31];
  randomOffset += FCODE_PAYLOAD_LENGTH;
  return payload + checkCharacter(payload);
}

/** The keyed hash under which a code is stored (database primary key and Redis key suffix). */
export function hashFcode(secret: string, normalized: string): string {
  return createHmac('sha256', secret).update(normalized).digest('hex');
}
