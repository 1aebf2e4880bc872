import { hash, hkdfSync } from 'node:crypto';

const VERSION = 'v1';
/** SHA-256's block size: HMAC pads its key to one block. */
const BLOCK_BYTES = 64;
/** HMAC-SHA-256 output, base64url. */
const SIGNATURE_LENGTH = 43;
const EXPIRY_PATTERN = /^\d{1,16}$/;

/** What a valid admission token says: this user may buy in this sale until `expiresAt` (epoch ms). */
export interface AdmissionGrant {
  saleId: string;
  userId: string;
  expiresAt: number;
}

/**
 * Admission tokens: `v1.<base64url(saleId)>.<base64url(userId)>.<expiresAt>.<base64url(HMAC-SHA-256)>`.
 * The MAC covers the version, sale, user and expiry, so a token works only for the buyer and sale it
 * names and only until it expires; checking one is a single HMAC and needs neither Redis nor the
 * database. The key is derived from JWT_SECRET with HKDF under its own label, so an admission token can
 * never pass for a bearer token or the other way round, and rotating JWT_SECRET voids both.
 *
 * The check runs on every purchase of a queue or lottery sale, so the HMAC is computed with two one-shot
 * SHA-256 calls over the padded key (RFC 2104, exactly HMAC-SHA-256) instead of `createHmac`, whose
 * per-call object setup costs more than the hashing itself (bench/README.md). That needs the padded key as text, so every key byte
 * is kept below 0x80 (224 bits of key); the signature is compared in constant time.
 */
export class AdmissionTokens {
  /** The key XOR ipad, as text (ASCII, see above): the inner hash's prefix. */
  private readonly innerPrefix: string;
  /** The key XOR opad, followed by room for the inner digest: the outer hash's whole input. */
  private readonly outer = Buffer.alloc(BLOCK_BYTES + 32);
  /** base64url of the sale ids seen: a process serves few sales and checks many tokens for each. */
  private readonly encodedSales = new Map<string, string>();

  constructor(jwtSecret: string) {
    const key = Buffer.from(hkdfSync('sha256', jwtSecret, 'sellout', 'admission-token-v1', 32));
    const inner = Buffer.alloc(BLOCK_BYTES, 0x36);
    this.outer.fill(0x5c, 0, BLOCK_BYTES);
    for (let index = 0; index < key.length; index += 1) {
      const byte = key[index] & 0x7f;
      inner[index] ^= byte;
      this.outer[index] ^= byte;
    }
    this.innerPrefix = inner.toString('latin1');
  }

  sign(grant: AdmissionGrant): string {
    const body = `${VERSION}.${this.encodedSale(grant.saleId)}.${encode(grant.userId)}.${grant.expiresAt}`;
    return `${body}.${this.mac(body)}`;
  }

  /**
   * Whether `token` admits `userId` to `saleId` at `now`. Anything malformed, forged, expired or issued
   * to another buyer or sale is simply not an admission.
   */
  admits(token: string | undefined, saleId: string, userId: string, now: number): boolean {
    if (token === undefined || token.length > 512) return false;
    const lastDot = token.lastIndexOf('.');
    if (lastDot < 0 || token.length - lastDot - 1 !== SIGNATURE_LENGTH) return false;
    const body = token.slice(0, lastDot);
    const parts = body.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION || parts[1] !== this.encodedSale(saleId) || parts[2] !== encode(userId)) return false;
    if (!EXPIRY_PATTERN.test(parts[3]) || Number(parts[3]) <= now) return false;
    return equalInConstantTime(token.slice(lastDot + 1), this.mac(body));
  }

  /** HMAC-SHA-256(key, body), base64url. `body` is ASCII (base64url, digits and dots). */
  private mac(body: string): string {
    this.outer.write(hash('sha256', this.innerPrefix + body, 'hex'), BLOCK_BYTES, 'hex');
    return hash('sha256', this.outer, 'base64url');
  }

  private encodedSale(saleId: string): string {
    let encoded = this.encodedSales.get(saleId);
    if (encoded === undefined) {
      encoded = encode(saleId);
      if (this.encodedSales.size >= 1000) this.encodedSales.clear();
      this.encodedSales.set(saleId, encoded);
    }
    return encoded;
  }
}

function encode(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** Compares two strings of equal length without stopping at the first difference. */
function equalInConstantTime(left: string, right: string): boolean {
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let index = 0; index < left.length; index += 1) difference |= left.charCodeAt(index) ^ right.charCodeAt(index);
  return difference === 0;
}
