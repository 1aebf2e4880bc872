import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * The lint rule that keeps one door per store (eslint.config.mjs): Redis only through `*.gateway.ts`,
 * the database only through `*.repository.ts`. Each snippet is linted as if it were the named file.
 */
const DOOR_RULES = new Set(['no-restricted-imports', '@typescript-eslint/no-restricted-imports', 'no-restricted-syntax']);

/**
 * ESLint loads its flat config with a dynamic import, which Jest's module sandbox refuses: the snippets are
 * linted by ESLint's API in a Node process of its own (one for all, ESLint takes seconds to start).
 */
const LINT_STDIN = `
import { ESLint } from 'eslint';
let input = '';
for await (const chunk of process.stdin) input += chunk;
const eslint = new ESLint();
const ruleIds = [];
for (const { filePath, code } of JSON.parse(input)) {
  const [result] = await eslint.lintText(code, { filePath });
  ruleIds.push(result.messages.map((message) => message.ruleId));
}
process.stdout.write(JSON.stringify(ruleIds));
`;

const REDIS = `import type Redis from 'ioredis';
import { REDIS_CLIENT } from '../redis/redis.constants';
export const used: [symbol, Redis | undefined] = [REDIS_CLIENT, undefined];
`;
const DATABASE_VALUES = `import { MoreThan } from 'typeorm';
import { SaleEntity } from '../sales/sale.entity';
export const used = [MoreThan, SaleEntity];
`;
const DATABASE_TYPES = `import type { EntityManager } from 'typeorm';
import type { SaleEntity } from '../sales/sale.entity';
export type Used = [EntityManager, SaleEntity];
`;
const MANAGER_QUERY = `export class Reader {
  constructor(private readonly database: { manager: { query(sql: string): Promise<unknown> } }) {}
  read(): Promise<unknown> {
    return this.database.manager.query('SELECT 1');
  }
}
`;

const MANAGER_DESTRUCTURED = `export class Reader {
  constructor(private readonly database: { manager: { query(sql: string): Promise<unknown> } }) {}
  read(): Promise<unknown> {
    const { manager } = this.database;
    return manager.query('SELECT 1');
  }
}
`;

const CASES = {
  redisInService: ['src/orders/orders.service.ts', REDIS],
  redisInGateway: ['src/orders/orders.gateway.ts', REDIS],
  databaseInService: ['src/orders/orders.service.ts', DATABASE_VALUES],
  databaseInRepository: ['src/orders/orders.repository.ts', DATABASE_VALUES],
  databaseTypesInService: ['src/orders/orders.service.ts', DATABASE_TYPES],
  managerInService: ['src/orders/orders.service.ts', MANAGER_QUERY],
  managerInRepository: ['src/orders/orders.repository.ts', MANAGER_QUERY],
  managerDestructuredInService: ['src/orders/orders.service.ts', MANAGER_DESTRUCTURED],
} satisfies Record<string, [filePath: string, code: string]>;

function lintAll(): Record<keyof typeof CASES, string[]> {
  const entries = Object.entries(CASES);
  const input = JSON.stringify(entries.map(([, [filePath, code]]) => ({ filePath, code })));
  const output = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', LINT_STDIN], { cwd: resolve(__dirname, '..'), input, encoding: 'utf8' })) as (string | null)[][];
  return Object.fromEntries(entries.map(([name], index) => [name, output[index].filter((ruleId): ruleId is string => ruleId !== null && DOOR_RULES.has(ruleId))])) as Record<keyof typeof CASES, string[]>;
}

describe('one door per store (lint rule)', () => {
  let errors: Record<keyof typeof CASES, string[]>;
  beforeAll(() => {
    errors = lintAll();
  });

  it('refuses the Redis client outside a gateway, and allows it in one', () => {
    expect(errors.redisInService).toEqual(['no-restricted-imports', 'no-restricted-imports']);
    expect(errors.redisInGateway).toEqual([]);
  });

  it("refuses TypeORM and another feature's entity outside a repository, but not their types", () => {
    expect(errors.databaseInService).toEqual(['@typescript-eslint/no-restricted-imports', '@typescript-eslint/no-restricted-imports']);
    expect(errors.databaseInRepository).toEqual([]);
    expect(errors.databaseTypesInService).toEqual([]);
  });

  it("refuses queries on DatabaseService's manager outside a repository", () => {
    expect(errors.managerInService).toEqual(['no-restricted-syntax']);
    expect(errors.managerDestructuredInService).toEqual(['no-restricted-syntax']);
    expect(errors.managerInRepository).toEqual([]);
  });
});
