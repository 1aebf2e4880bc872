import { createHmac } from 'node:crypto';

/**
 * HS256 buyer and ops tokens minted in the harness (the service verifies them with JWT_SECRET like any
 * other), so that a run needs no round trip per buyer and `AUTH_DEV_TOKENS` can stay off.
 */
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

export function mintToken(secret: string, userId: string, roles: string[] = [], ttlSeconds = 3600): string {
  const issuedAt = Math.floor(Date.now() / 1000);
  const claims = roles.length > 0 ? { sub: userId, roles, iat: issuedAt, exp: issuedAt + ttlSeconds } : { sub: userId, iat: issuedAt, exp: issuedAt + ttlSeconds };
  const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

/** `count` distinct integers drawn uniformly from [0, bound) (Floyd's algorithm: no array of size `bound`). */
export function distinctIndexes(count: number, bound: number, random: () => number = Math.random): number[] {
  if (count > bound) throw new Error(`cannot draw ${count} distinct values below ${bound}`);
  const chosen = new Set<number>();
  for (let upper = bound - count; upper < bound; upper += 1) {
    const candidate = Math.floor(random() * (upper + 1));
    chosen.add(chosen.has(candidate) ? upper : candidate);
  }
  return [...chosen];
}
