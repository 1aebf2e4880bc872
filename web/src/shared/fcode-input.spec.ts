import { formatFcode, generateFcode, parseFcode } from '../../../src/fcodes/fcode-codec';
import { checkFcodeInput } from './fcode-input';

describe(checkFcodeInput.name, () => {
  it('accepts what the server generates, grouped or not, in any case', () => {
    for (let index = 0; index < 200; index += 1) {
      const code = generateFcode();
      expect(checkFcodeInput(code)).toEqual({ ok: true, normalized: code });
      expect(checkFcodeInput(` ${formatFcode(code).toLowerCase()} `)).toEqual({ ok: true, normalized: code });
    }
  });

  it('agrees with the server codec on every single-character change', () => {
    const code = generateFcode();
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    for (let position = 0; position < code.length; position += 1) {
      for (const replacement of alphabet) {
        const typed = code.slice(0, position) + replacement + code.slice(position + 1);
        const server = parseFcode(typed);
        const browser = checkFcodeInput(typed);
        expect(browser.ok).toBe(server.ok);
        if (!server.ok && !browser.ok) expect(browser.reason).toBe(server.reason);
      }
    }
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['ABC', 'malformed'],
    ['ABCD-EFGH-JKMN-U', 'malformed'],
  ])('tells %p apart as %s', (typed, reason) => {
    expect(checkFcodeInput(typed)).toEqual({ ok: false, reason });
  });
});
