import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuthUser } from './token.service';

export const IS_PUBLIC = 'sellout:isPublic';
export const REQUIRES_OPS = 'sellout:requiresOps';

/** The route needs no token. Every other route needs one (the guard is global). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The route needs a token with the `ops` role. */
export const OpsOnly = () => SetMetadata(REQUIRES_OPS, true);

export type AuthenticatedRequest = FastifyRequest & { user?: AuthUser };

export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthUser => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.user) throw new Error('CurrentUser used on a public route');
  return request.user;
});
