import { AdmissionTokens } from './admission-token';

const tokens = new AdmissionTokens('a-test-secret-of-enough-length');
const now = 1_800_000_000_000;
const grant = { saleId: 's_1', userId: 'buyer:1', expiresAt: now + 120_000 };

describe(AdmissionTokens.name, () => {
  it('admits the buyer and sale it was signed for until it expires', () => {
    const token = tokens.sign(grant);
    expect(tokens.admits(token, 's_1', 'buyer:1', now)).toBe(true);
    expect(tokens.admits(token, 's_1', 'buyer:1', grant.expiresAt - 1)).toBe(true);
  });

  it('refuses a missing token', () => {
    expect(tokens.admits(undefined, 's_1', 'buyer:1', now)).toBe(false);
  });

  it('refuses an expired token', () => {
    expect(tokens.admits(tokens.sign(grant), 's_1', 'buyer:1', grant.expiresAt)).toBe(false);
  });

  it("refuses another buyer's token and another sale's token", () => {
    const token = tokens.sign(grant);
    expect(tokens.admits(token, 's_1', 'buyer:2', now)).toBe(false);
    expect(tokens.admits(token, 's_2', 'buyer:1', now)).toBe(false);
  });

  it('refuses a token whose expiry was moved, or signed with another secret', () => {
    const token = tokens.sign(grant);
    const [version, sale, user, , signature] = token.split('.');
    expect(tokens.admits([version, sale, user, String(grant.expiresAt + 3600_000), signature].join('.'), 's_1', 'buyer:1', now)).toBe(false);
    expect(tokens.admits(new AdmissionTokens('another-secret-of-enough-length').sign(grant), 's_1', 'buyer:1', now)).toBe(false);
  });

  it.each(['', 'v1', 'v1.a.b.c.d', 'x'.repeat(600), `${tokens.sign(grant)}x`, tokens.sign(grant).slice(0, -2)])('refuses the malformed token %#', (token) => {
    expect(tokens.admits(token, 's_1', 'buyer:1', now)).toBe(false);
  });
});

describe('admission token signatures', () => {
  it('are HMAC-SHA-256 over the token body (RFC 2104), with the key kept to 7-bit bytes', () => {
    const { createHmac, hkdfSync } = jest.requireActual<typeof import('node:crypto')>('node:crypto');
    const secret = 'a-test-secret-of-enough-length';
    const key = Buffer.from(hkdfSync('sha256', secret, 'sellout', 'admission-token-v1', 32)).map((byte) => byte & 0x7f);
    const token = new AdmissionTokens(secret).sign({ saleId: 's_1', userId: 'buyer:1', expiresAt: 1 });
    const body = token.slice(0, token.lastIndexOf('.'));
    expect(token.slice(token.lastIndexOf('.') + 1)).toBe(createHmac('sha256', key).update(body).digest('base64url'));
  });
});
