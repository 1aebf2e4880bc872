import { FcodeCipher } from './fcode-cipher';
import { generateFcode, hashFcode } from './fcode-codec';

const SECRET = 'fcode-cipher-spec-secret';

describe(FcodeCipher.name, () => {
  const cipher = new FcodeCipher(SECRET);
  const code = generateFcode();
  const codeHash = hashFcode(SECRET, code);

  it('decrypts what it encrypted', () => {
    expect(cipher.decrypt(cipher.encrypt(code, codeHash), codeHash)).toBe(code);
  });

  it('never stores the code in clear and never encrypts it the same way twice', () => {
    const first = cipher.encrypt(code, codeHash);
    const second = cipher.encrypt(code, codeHash);
    expect(first).not.toContain(code);
    expect(first).not.toBe(second);
    expect(first.length).toBeLessThanOrEqual(200);
  });

  it('refuses a ciphertext moved to another code row', () => {
    const other = generateFcode();
    expect(() => cipher.decrypt(cipher.encrypt(code, codeHash), hashFcode(SECRET, other))).toThrow();
  });

  it('refuses a ciphertext made with another secret', () => {
    expect(() => new FcodeCipher('another-secret-0123456').decrypt(cipher.encrypt(code, codeHash), codeHash)).toThrow();
  });

  it('refuses a tampered ciphertext', () => {
    const stored = cipher.encrypt(code, codeHash);
    const tampered = stored.slice(0, -2) + (stored.endsWith('AA') ? 'BB' : 'AA');
    expect(() => cipher.decrypt(tampered, codeHash)).toThrow();
  });
});
