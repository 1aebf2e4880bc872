/**
 * k6's `k6/encoding` base64 functions on Node's Buffer (see crypto.ts beside it). Variants follow k6:
 * `std` and `url` are padded, `rawstd` and `rawurl` are not.
 */
type Base64Variant = 'std' | 'rawstd' | 'url' | 'rawurl';

function toBuffer(input: string | ArrayBuffer): Buffer {
  return typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(new Uint8Array(input));
}

export function b64encode(input: string | ArrayBuffer, encoding: Base64Variant = 'std'): string {
  const standard = toBuffer(input).toString('base64');
  const urlSafe = encoding === 'url' || encoding === 'rawurl';
  const raw = encoding === 'rawstd' || encoding === 'rawurl';
  let encoded = urlSafe ? standard.replace(/\+/g, '-').replace(/\//g, '_') : standard;
  if (raw) encoded = encoded.replace(/=+$/, '');
  return encoded;
}

export function b64decode(input: string, encoding: Base64Variant = 'std', format?: 's'): ArrayBuffer | string {
  const standard = encoding === 'url' || encoding === 'rawurl' ? input.replace(/-/g, '+').replace(/_/g, '/') : input;
  const bytes = Buffer.from(standard, 'base64');
  if (format === 's') return bytes.toString('utf8');
  return Uint8Array.prototype.slice.call(bytes).buffer as ArrayBuffer;
}

export default { b64encode, b64decode };
