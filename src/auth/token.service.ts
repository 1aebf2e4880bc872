import { Inject, Injectable } from '@nestjs/common';
import * as jwt from 'jsonwebtoken';
import { createHmac, createSecretKey, KeyObject, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

export interface AuthUser {
  userId: string;
  roles: string[];
}

export const OPS_ROLE = 'ops';
const USER_ID_PATTERN = /^[\x21-\x7e]{1,64}$/;

export type TokenCheck = { ok: true; user: AuthUser } | { ok: false; reason: string };

/** Signs and verifies HS256 buyer and ops tokens with JWT_SECRET (the HTTP contract, "Authentication"). */
@Injectable()
export class TokenService {
  // A KeyObject made once: given the secret as a string, jsonwebtoken first tries to parse it as a PEM
  // key on every call, which would be repeated on every request of the hot path.
  private readonly key: KeyObject;
  /** The encoded header of the last token that verified (signature and `alg`). */
  private lastGoodHeader?: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.key = createSecretKey(Buffer.from(config.jwtSecret, 'utf8'));
  }

  sign(userId: string, roles: string[] = [], expiresInSeconds = 12 * 3600): string {
    return jwt.sign({ roles }, this.key, { algorithm: 'HS256', subject: userId, expiresIn: expiresInSeconds });
  }

  /**
   * Verifies an HS256 token directly with one HMAC and a constant-time compare. This runs on every
   * purchase; `jsonwebtoken.verify` does the same checks with more work around them (decoding and
   * option handling it needs for algorithms this service never accepts). Tokens are signed with
   * `jsonwebtoken` above, so the format is the standard one.
   */
  verify(token: string): TokenCheck {
    const parts = token.split('.');
    if (parts.length !== 3) return INVALID;
    const [headerPart, payloadPart, signaturePart] = parts;
    const expected = createHmac('sha256', this.key).update(`${headerPart}.${payloadPart}`).digest();
    const given = Buffer.from(signaturePart, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return INVALID;
    // Only HS256 is accepted: a token that names `none` or an asymmetric algorithm is refused. Every
    // token this service signs has the same header, so the last one found good is not decoded again.
    if (headerPart !== this.lastGoodHeader) {
      if (decodeJson(headerPart)?.alg !== 'HS256') return INVALID;
      this.lastGoodHeader = headerPart;
    }
    const payload = decodeJson(payloadPart);
    if (payload === undefined) return INVALID;
    const nowSeconds = Date.now() / 1000;
    if (typeof payload.exp !== 'number') return { ok: false, reason: 'Token has no expiry' };
    if (nowSeconds >= payload.exp) return { ok: false, reason: 'Token expired' };
    if (typeof payload.nbf === 'number' && nowSeconds < payload.nbf) return { ok: false, reason: 'Token not yet valid' };
    if (typeof payload.sub !== 'string' || !USER_ID_PATTERN.test(payload.sub)) return { ok: false, reason: 'Token subject must be a user id of 1-64 characters' };
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === 'string') : [];
    return { ok: true, user: { userId: payload.sub, roles } };
  }
}

const INVALID: TokenCheck = { ok: false, reason: 'Invalid token' };

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
