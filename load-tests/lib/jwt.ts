import { hmac } from 'k6/crypto';
import { b64encode } from 'k6/encoding';

/**
 * HS256 tokens minted inside a load test, so that a million buyers do not each need a round trip to
 * `POST /api/dev/tokens` (which production deployments disable anyway). The claims are the ones the
 * service verifies: `sub` (the user id), `exp`, and `roles` (["ops"] for the admin routes).
 */
export interface MintOptions {
  roles?: string[];
  /** Issue time in epoch seconds; the current time by default. */
  issuedAt?: number;
  /** Lifetime in seconds (one hour by default: longer than any scenario's run). */
  ttlSeconds?: number;
}

export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

const HEADER = b64encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' }), 'rawurl');

export function mintToken(secret: string, userId: string, options: MintOptions = {}): string {
  const issuedAt = options.issuedAt ?? Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { sub: userId, iat: issuedAt, exp: issuedAt + (options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS) };
  if (options.roles && options.roles.length > 0) claims.roles = options.roles;
  const signingInput = `${HEADER}.${b64encode(JSON.stringify(claims), 'rawurl')}`;
  return `${signingInput}.${hmac('sha256', secret, signingInput, 'base64rawurl')}`;
}

export function mintOpsToken(secret: string, userId = 'k6-ops', options: MintOptions = {}): string {
  return mintToken(secret, userId, { ...options, roles: ['ops', ...(options.roles ?? [])] });
}
