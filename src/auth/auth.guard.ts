import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ErrorCode } from '../common/errors/error-code';
import { SellException } from '../common/errors/sell.exception';
import { AuthenticatedRequest, IS_PUBLIC, REQUIRES_OPS } from './auth.decorators';
import { authenticate } from './bearer';
import { OPS_ROLE, TokenService } from './token.service';

/**
 * Global guard: verifies the bearer token itself (no other header is trusted for identity) and, on
 * routes marked `@OpsOnly()`, requires the `ops` role.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const user = authenticate(this.tokens, request.headers.authorization);
    request.user = user;
    if (this.reflector.getAllAndOverride<boolean>(REQUIRES_OPS, targets) && !user.roles.includes(OPS_ROLE)) {
      throw new SellException(ErrorCode.Forbidden, 'This route needs the ops role');
    }
    return true;
  }
}
