import { formatFcode, generateFcode, hashFcode, parseFcode } from './fcode-codec';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

describe('F-code codec', () => {
  describe('generateFcode', () => {
    it('produces codes that parse back to themselves', () => {
      for (let index = 0; index < 1000; index += 1) {
        const code = generateFcode();
        expect(parseFcode(code)).toEqual({ ok: true, normalized: code });
        expect(parseFcode(formatFcode(code))).toEqual({ ok: true, normalized: code });
      }
    });

    it('carries at least 60 bits of randomness: 12 free characters of a 32-character alphabet, each uniformly drawn', () => {
      const samples = 32 * 400;
      const counts = Array.from({ length: 12 }, () => new Map<string, number>());
      const seen = new Set<string>();
      for (let index = 0; index < samples; index += 1) {
        const code = generateFcode();
        expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{13}$/);
        seen.add(code);
        for (let position = 0; position < 12; position += 1) counts[position].set(code[position], (counts[position].get(code[position]) ?? 0) + 1);
      }
      expect(ALPHABET.length ** 12).toBeGreaterThanOrEqual(2 ** 60);
      expect(seen.size).toBe(samples);
      for (const positionCounts of counts) {
        // Every symbol at every position, each near its expected 400 (more than 6 standard deviations off fails).
        expect(positionCounts.size).toBe(32);
        for (const count of positionCounts.values()) {
          expect(count).toBeGreaterThan(280);
          expect(count).toBeLessThan(520);
        }
      }
    });
  });

  describe('parseFcode', () => {
    it('detects every single-character substitution as a typo', () => {
      for (let sample = 0; sample < 200; sample += 1) {
        const code = generateFcode();
        for (let position = 0; position < code.length; position += 1) {
          for (const replacement of ALPHABET) {
            if (replacement === code[position]) continue;
            const typo = code.slice(0, position) + replacement + code.slice(position + 1);
            expect(parseFcode(typo)).toEqual({ ok: false, reason: 'typo' });
          }
        }
      }
    });

    it('ignores case, spaces and dashes', () => {
      const code = generateFcode();
      const variants = [code.toLowerCase(), formatFcode(code), formatFcode(code).toLowerCase(), ` ${code.slice(0, 4)} ${code.slice(4, 8)} - ${code.slice(8)} `, code.split('').join('-')];
      for (const variant of variants) expect(parseFcode(variant)).toEqual({ ok: true, normalized: code });
    });

    it('reads I and L as 1 and O as 0', () => {
      let code = generateFcode();
      while (!code.includes('1') && !code.includes('0')) code = generateFcode();
      const misread = code.replace(/1/g, () => (Math.random() < 0.5 ? 'I' : 'l')).replace(/0/g, 'O');
      expect(parseFcode(misread)).toEqual({ ok: true, normalized: code });
    });

    it.each([
      ['too short', 'ABCD-EFGH-JKM'],
      ['too long', 'ABCD-EFGH-JKMN-PQ'],
      ['a character outside the alphabet', 'ABCD-EFGH-JKMN-U'],
      ['punctuation', 'ABCD.EFGH.JKMN.P'],
      ['empty', ''],
    ])('calls %s malformed', (_name, input) => {
      expect(parseFcode(input)).toEqual({ ok: false, reason: 'malformed' });
    });
  });

  describe('formatFcode', () => {
    it('groups by four with dashes', () => {
      expect(formatFcode('ABCDEFGHJKMNP')).toBe('ABCD-EFGH-JKMN-P');
    });
  });

  describe('hashFcode', () => {
    it('is keyed: the same code under another secret hashes differently', () => {
      const code = generateFcode();
      expect(hashFcode('secret-one-0123456789', code)).toMatch(/^[0-9a-f]{64}$/);
      expect(hashFcode('secret-one-0123456789', code)).toBe(hashFcode('secret-one-0123456789', code));
      expect(hashFcode('secret-one-0123456789', code)).not.toBe(hashFcode('secret-two-0123456789', code));
    });
  });
});
