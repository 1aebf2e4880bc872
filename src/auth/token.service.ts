import { Inject, Injectable } from '@nestjs/common';
import * as jwt from 'jsonwebtoken';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

export interface AuthUser {
  userId: string;
  roles: string[];
}

export const OPS_ROLE = 'ops';
const USER_ID_PATTERN = /^[\x21-\x7e]{1,64}$/;

export type TokenCheck = { ok: true; user: AuthUser } | { ok: false; reason: string };

/** Signs and verifies HS256 buyer and ops tokens with JWT_SECRET (API.md "Authentication"). */
@Injectable()
export class TokenService {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  sign(userId: string, roles: string[] = [], expiresInSeconds = 12 * 3600): string {
    return jwt.sign({ roles }, this.config.jwtSecret, { algorithm: 'HS256', subject: userId, expiresIn: expiresInSeconds });
  }

  verify(token: string): TokenCheck {
    let payload: jwt.JwtPayload | string;
    try {
      // Only HS256 is accepted: a token signed with `none` or an asymmetric algorithm is refused.
      payload = jwt.verify(token, this.config.jwtSecret, { algorithms: ['HS256'] });
    } catch (error) {
      return { ok: false, reason: error instanceof jwt.TokenExpiredError ? 'Token expired' : 'Invalid token' };
    }
    if (typeof payload === 'string') return { ok: false, reason: 'Invalid token' };
    if (typeof payload.sub !== 'string' || !USER_ID_PATTERN.test(payload.sub)) return { ok: false, reason: 'Token subject must be a user id of 1-64 characters' };
    if (typeof payload.exp !== 'number') return { ok: false, reason: 'Token has no expiry' };
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === 'string') : [];
    return { ok: true, user: { userId: payload.sub, roles } };
  }
}
