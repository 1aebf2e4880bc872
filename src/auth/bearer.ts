import { ErrorCode } from '../common/errors/error-code';
import { SellException } from '../common/errors/sell.exception';
import type { AuthUser, TokenService } from './token.service';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The caller of a request from its `Authorization: Bearer <token>` header, or a 401. The only source of
 * identity: no other header is trusted. Used by the global guard and by the purchase route, which is
 * served by Fastify directly.
 */
export function authenticate(tokens: TokenService, header: string | string[] | undefined): AuthUser {
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  if (!match) throw new SellException(ErrorCode.Unauthenticated, 'Missing bearer token');
  const check = tokens.verify(match[1]);
  if (!check.ok) throw new SellException(ErrorCode.Unauthenticated, check.reason);
  return check.user;
}
