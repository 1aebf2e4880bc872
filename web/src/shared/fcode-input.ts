import { parseFcode } from '@sellout/contract';

/**
 * Checks a typed F-code with the server's own parser (src/contract/fcode-format.ts), so a typo is caught
 * here, before any request, and told apart from a code the server does not know.
 */
export type FcodeInputCheck = { ok: true; normalized: string } | { ok: false; reason: 'empty' | 'malformed' | 'typo' };

export function checkFcodeInput(input: string): FcodeInputCheck {
  if (input.replace(/[\s-]/g, '') === '') return { ok: false, reason: 'empty' };
  return parseFcode(input);
}
