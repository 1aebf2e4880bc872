import * as jwt from 'jsonwebtoken';
import { loadConfig } from '../config/app-config';
import { TokenService } from './token.service';

const config = loadConfig({ JWT_SECRET: 'a-test-secret-of-enough-length' });
const tokens = new TokenService(config);
const sign = (payload: object, options: jwt.SignOptions = {}) => jwt.sign(payload, config.jwtSecret, { algorithm: 'HS256', ...options });
const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe(TokenService.name, () => {
  it('accepts what it signs, with the subject and roles', () => {
    expect(tokens.verify(tokens.sign('buyer-7', ['ops']))).toEqual({ ok: true, user: { userId: 'buyer-7', roles: ['ops'] } });
  });

  it('refuses a token whose payload was changed after signing', () => {
    const [header, , signature] = tokens.sign('buyer-7').split('.');
    const forged = `${header}.${base64url({ sub: 'someone-else', exp: Math.floor(Date.now() / 1000) + 60 })}.${signature}`;
    expect(tokens.verify(forged)).toEqual({ ok: false, reason: 'Invalid token' });
  });

  it('refuses a correct signature under a header that names another algorithm', () => {
    const token = sign({ sub: 'buyer-7', exp: Math.floor(Date.now() / 1000) + 60 });
    const [, payload] = token.split('.');
    const header = base64url({ alg: 'none', typ: 'JWT' });
    expect(tokens.verify(`${header}.${payload}.`)).toEqual({ ok: false, reason: 'Invalid token' });
  });

  it('refuses a token that is not valid yet', () => {
    const now = Math.floor(Date.now() / 1000);
    expect(tokens.verify(sign({ sub: 'buyer-7', exp: now + 120, nbf: now + 60 }))).toEqual({ ok: false, reason: 'Token not yet valid' });
  });

  it('refuses an expired token as expired', () => {
    expect(tokens.verify(sign({ sub: 'buyer-7', exp: Math.floor(Date.now() / 1000) - 1 }))).toEqual({ ok: false, reason: 'Token expired' });
  });

  it.each(['', 'abc', 'a.b', 'a.b.c.d', '...', 'x.y.z'])('refuses the malformed token %j', (token) => {
    expect(tokens.verify(token)).toEqual({ ok: false, reason: 'Invalid token' });
  });
});
