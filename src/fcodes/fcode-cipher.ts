import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Encrypts F-codes for the database (AES-256-GCM), so that the ops CSV export can show them again while
 * a copy of the database alone reveals none. The key is derived from FCODE_SECRET with HKDF under its own
 * label, so it is independent of the HMAC that keys the `fcodes` table. Each ciphertext is bound to its
 * row's code hash (additional authenticated data): moving a ciphertext to another row makes it fail.
 *
 * Stored form: `v1.<base64url(iv ‖ tag ‖ ciphertext)>` (about 60 characters for a 13-character code).
 */
export class FcodeCipher {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'sellout', 'fcode-export-encryption-v1', 32));
  }

  encrypt(normalizedCode: string, codeHash: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(codeHash, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(normalizedCode, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url')}`;
  }

  /** Throws when the value was not produced by `encrypt` with this secret for this code hash. */
  decrypt(stored: string, codeHash: string): string {
    const [version, payload] = stored.split('.');
    if (version !== VERSION || payload === undefined) throw new Error('Unknown F-code cipher format');
    const bytes = Buffer.from(payload, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(codeHash, 'utf8'));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }
}
