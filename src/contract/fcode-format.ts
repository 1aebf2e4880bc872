/**
 * F-code format, shared by the server and the storefront (which checks a typed code before sending it):
 * 12 characters of Crockford base32 (60 bits) plus one Luhn mod 32 check character, shown grouped as
 * `ABCD-EFGH-JKMN-P`. The alphabet has no I, L, O or U; on input, case, spaces and dashes are ignored and
 * I/L read as 1, O as 0. The check character catches every single-character typo and most swaps of
 * neighbours before any lookup. No Node-only imports here: the browser bundle includes this file.
 */
export const FCODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const FCODE_PAYLOAD_LENGTH = 12;

export type ParsedFcode = { ok: true; normalized: string } | { ok: false; reason: 'malformed' | 'typo' };

export function checkCharacter(payload: string): string {
  // Luhn mod N over the alphabet, doubling every second character from the right.
  let sum = 0;
  for (let index = payload.length - 1, double = true; index >= 0; index -= 1, double = !double) {
    let value = FCODE_ALPHABET.indexOf(payload[index]);
    if (double) {
      value *= 2;
      value = Math.floor(value / 32) + (value % 32);
    }
    sum += value;
  }
  return FCODE_ALPHABET[(32 - (sum % 32)) % 32];
}

/** `ABCDEFGHJKMNP` → `ABCD-EFGH-JKMN-P`. */
export function formatFcode(normalized: string): string {
  return normalized.replace(/(.{4})(?=.)/g, '$1-');
}

export function parseFcode(input: string): ParsedFcode {
  const cleaned = input.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  if (cleaned.length !== FCODE_PAYLOAD_LENGTH + 1 || [...cleaned].some((character) => !FCODE_ALPHABET.includes(character))) {
    return { ok: false, reason: 'malformed' };
  }
  if (checkCharacter(cleaned.slice(0, FCODE_PAYLOAD_LENGTH)) !== cleaned[FCODE_PAYLOAD_LENGTH]) return { ok: false, reason: 'typo' };
  return { ok: true, normalized: cleaned };
}
