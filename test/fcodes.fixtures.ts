import { randomInt } from 'node:crypto';
import { hashFcode, parseFcode } from '../src/fcodes/fcode-codec';
import { TestApp, TestResponse } from './support/test-app';

/** Helpers shared by the F-code e2e specs. */

/**
 * A fresh client address. The F-code brake counts wrong codes per address in the Redis shared by the
 * whole test run, so each buyer of these specs comes from its own address unless a test is about the
 * per-address brake.
 */
export function clientIp(): string {
  return `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
}

export interface BuyOptions {
  fcode?: string;
  quantity?: number;
  ip?: string;
}

/** `POST /api/sales/:saleId/purchase` as this buyer, from `ip` (a fresh address by default). */
export function buy(app: TestApp, saleId: string, userId: string, options: BuyOptions = {}): Promise<TestResponse> {
  const body: Record<string, unknown> = {};
  if (options.fcode !== undefined) body.fcode = options.fcode;
  if (options.quantity !== undefined) body.quantity = options.quantity;
  return app.request('POST', `/api/sales/${saleId}/purchase`, { token: app.token(userId), body, headers: { 'x-forwarded-for': options.ip ?? clientIp() } });
}

export interface IssueOptions {
  count?: number;
  userIds?: string[];
  /** Epoch ms. */
  expiresAt?: number;
}

/** Issues codes through the ops route and returns the response body (throws unless 201). */
export async function issueFcodes(app: TestApp, saleId: string, options: IssueOptions): Promise<{ batchId: string; codes: string[] }> {
  const body: Record<string, unknown> = {};
  if (options.count !== undefined) body.count = options.count;
  if (options.userIds !== undefined) body.userIds = options.userIds;
  if (options.expiresAt !== undefined) body.expiresAt = new Date(options.expiresAt).toISOString();
  const response = await app.request('POST', `/api/admin/sales/${saleId}/fcodes`, { token: app.opsToken(), body });
  if (response.status !== 201) throw new Error(`issuing F-codes failed: ${response.status} ${response.text}`);
  return response.body;
}

/** The Redis key of a code as shown to people. */
export function fcodeKey(app: TestApp, saleId: string, code: string): string {
  const parsed = parseFcode(code);
  if (!parsed.ok) throw new Error(`not a code: ${code}`);
  return app.keys.forSale(saleId).fcode(hashFcode(app.config.fcodeSecret, parsed.normalized));
}

/** The same code with one character replaced by another valid one (the check character then fails). */
export function withTypo(code: string): string {
  const position = code.indexOf('-') === 4 ? 1 : 0;
  const replacement = code[position] === '7' ? '8' : '7';
  return code.slice(0, position) + replacement + code.slice(position + 1);
}

export interface CsvRow {
  code: string;
  userId: string;
  status: string;
  expiresAt: string;
}

/** Parses the export (RFC 4180: quoted fields may hold commas and doubled quotes). */
export function parseCsv(text: string): { header: string; rows: CsvRow[] } {
  const lines = text.split('\r\n');
  expect(lines.pop()).toBe('');
  const [header, ...body] = lines;
  const rows = body.map((line) => {
    const fields: string[] = [];
    const pattern = /("((?:[^"]|"")*)"|[^,]*)(,|$)/g;
    for (let match = pattern.exec(line); match !== null && match.index < line.length; match = pattern.exec(line)) {
      fields.push(match[2] !== undefined ? match[2].replace(/""/g, '"') : match[1]);
      if (match[3] === '') break;
    }
    while (fields.length < 4) fields.push('');
    const [code, userId, status, expiresAt] = fields;
    return { code, userId, status, expiresAt };
  });
  return { header, rows };
}

/** A snapshot of everything a refused purchase must leave untouched. */
export async function saleSnapshot(app: TestApp, saleId: string): Promise<unknown> {
  const keys = app.keys.forSale(saleId);
  const [sale, buyers, events, deadlines] = await Promise.all([app.redis.hgetall(keys.sale), app.redis.hgetall(keys.buyers), app.redis.xlen(keys.events), app.redis.zcard(keys.deadlines)]);
  return { sale, buyers, events, deadlines };
}
