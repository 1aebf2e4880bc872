import { createHash, createHmac, randomBytes as nodeRandomBytes } from 'node:crypto';

/**
 * The part of k6's `k6/crypto` module that the load-test helpers use, on Node's crypto, so that jest can
 * run the helpers and check their output against the real service. Output encodings follow k6: `base64url`
 * is padded, `base64rawurl` is not, `binary` is an ArrayBuffer.
 */
type OutputEncoding = 'hex' | 'base64' | 'base64url' | 'base64rawurl' | 'binary';
type Input = string | ArrayBuffer;

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return Uint8Array.prototype.slice.call(bytes).buffer as ArrayBuffer;
}

function toBuffer(input: Input): Buffer {
  return typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(new Uint8Array(input));
}

function encode(digest: Buffer, encoding: OutputEncoding): string | ArrayBuffer {
  switch (encoding) {
    case 'hex':
      return digest.toString('hex');
    case 'base64':
      return digest.toString('base64');
    case 'base64url':
      return digest.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    case 'base64rawurl':
      return digest.toString('base64url');
    case 'binary':
      return toArrayBuffer(digest);
  }
}

export function hmac(algorithm: string, secret: Input, data: Input, outputEncoding: OutputEncoding): any {
  return encode(createHmac(algorithm, toBuffer(secret)).update(toBuffer(data)).digest(), outputEncoding);
}

export function sha256(input: Input, outputEncoding: OutputEncoding): any {
  return encode(createHash('sha256').update(toBuffer(input)).digest(), outputEncoding);
}

export function randomBytes(size: number): ArrayBuffer {
  return toArrayBuffer(nodeRandomBytes(size));
}

export default { hmac, sha256, randomBytes };
