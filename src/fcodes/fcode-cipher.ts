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
  /** IVs are cut from one block of random bytes at a time: a batch encrypts up to 100,000 codes. */
  private ivPool = Buffer.alloc(0);
  private ivOffset = 0;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'sellout', 'fcode-export-encryption-v1', 32));
  }

  encrypt(normalizedCode: string, codeHash: string): string {
    const iv = this.nextIv();
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(codeHash, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(normalizedCode, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url')}`;
  }

  private nextIv(): Buffer {
    if (this.ivOffset + IV_BYTES > this.ivPool.length) {
      this.ivPool = randomBytes(IV_BYTES * 4096);
      this.ivOffset = 0;
    }
    // A copy, so that no two ciphertexts can ever share the pool's memory.
    const iv = Buffer.from(this.ivPool.subarray(this.ivOffset, this.ivOffset + IV_BYTES));
    this.ivOffset += IV_BYTES;
    return iv;
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
