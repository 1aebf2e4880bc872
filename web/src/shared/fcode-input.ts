/**
 * Checks a typed F-code the way the server reads it (src/fcodes/fcode-codec.ts): 12 Crockford base32
 * characters and a Luhn mod 32 check character; case, spaces and dashes ignored, I/L read as 1, O as 0.
 * A typo is caught here, before any request, and told apart from a code the server does not know.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const PAYLOAD_LENGTH = 12;

export type FcodeInputCheck = { ok: true; normalized: string } | { ok: false; reason: 'empty' | 'malformed' | 'typo' };

function checkCharacter(payload: string): string {
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

export function checkFcodeInput(input: string): FcodeInputCheck {
  const cleaned = input.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  if (cleaned === '') return { ok: false, reason: 'empty' };
  if (cleaned.length !== PAYLOAD_LENGTH + 1 || [...cleaned].some((character) => !ALPHABET.includes(character))) return { ok: false, reason: 'malformed' };
  if (checkCharacter(cleaned.slice(0, PAYLOAD_LENGTH)) !== cleaned[PAYLOAD_LENGTH]) return { ok: false, reason: 'typo' };
  return { ok: true, normalized: cleaned };
}
