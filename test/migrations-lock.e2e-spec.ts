import { ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import Database from 'better-sqlite3';
import type { DatabaseConfig } from '../src/config/app-config';
import type { MigrationsReport } from '../src/database/migrations-lock';
import { migrations } from '../src/database/migrations';

const PROCESSES = 4;
const migrationNames = migrations.map((migration) => migration.name).sort();

type ChildResult = { ok: true; report: MigrationsReport } | { ok: false; message: string };

/**
 * Boots `PROCESSES` processes on one fresh database and lets them all open it at the same moment (each
 * waits for a `go` after it has loaded), as a process per core or a fleet of hosts does.
 */
async function bootTogether(database: DatabaseConfig): Promise<ChildResult[]> {
  const children: ChildProcess[] = [];
  const results: Promise<ChildResult>[] = [];
  const ready: Promise<void>[] = [];
  for (let index = 0; index < PROCESSES; index += 1) {
    const child = fork(join(__dirname, 'support', 'migrate-child.ts'), [], {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      env: { ...process.env, MIGRATE_DATABASE: JSON.stringify(database) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    ready.push(new Promise((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`a child exited with code ${code} before it was ready`)));
    }));
    results.push(
      new Promise((resolve) => {
        child.on('message', (message: ChildResult | 'ready') => {
          if (message !== 'ready') resolve(message);
        });
        child.once('exit', (code) => resolve({ ok: false, message: `exited with code ${code}` }));
      }),
    );
  }
  await Promise.all(ready);
  for (const child of children) child.send('go');
  return Promise.all(results);
}

function expectAppliedOnce(results: ChildResult[]): void {
  expect(results.filter((result) => !result.ok)).toEqual([]);
  const applied = results.flatMap((result) => (result.ok ? result.report.applied : []));
  expect(applied.sort()).toEqual(migrationNames);
  // Exactly one process applied them all; the others found nothing pending.
  expect(results.filter((result) => result.ok && result.report.applied.length > 0)).toHaveLength(1);
}

describe('Migrations when several processes boot together', () => {
  describe('on the embedded database', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'sellout-migrate-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('applies every migration exactly once and every process comes up', async () => {
      const file = join(dir, 'sellout.sqlite');
      expectAppliedOnce(await bootTogether({ kind: 'sqlite', file }));
      const db = new Database(file, { readonly: true });
      try {
        const rows = db.prepare('SELECT name FROM migrations ORDER BY name').all() as { name: string }[];
        expect(rows.map((row) => row.name)).toEqual(migrationNames);
        expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'orders'").get()).toEqual({ n: 1 });
      } finally {
        db.close();
      }
    });
  });

  const postgresUrl = process.env.DATABASE_URL && /^postgres(ql)?:/.test(process.env.DATABASE_URL) ? process.env.DATABASE_URL : undefined;
  (postgresUrl ? describe : describe.skip)('on PostgreSQL', () => {
    const name = `sellout_migrate_${randomBytes(5).toString('hex')}`;
    const admin = () => new Client({ connectionString: postgresUrl });
    let url: string;

    beforeEach(async () => {
      const client = admin();
      await client.connect();
      await client.query(`CREATE DATABASE ${name}`);
      await client.end();
      const parsed = new URL(postgresUrl as string);
      parsed.pathname = `/${name}`;
      url = parsed.toString();
    });
    afterEach(async () => {
      const client = admin();
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    });

    it('applies every migration exactly once and every process comes up', async () => {
      expectAppliedOnce(await bootTogether({ kind: 'postgres', url }));
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ name: string }>('SELECT name FROM migrations ORDER BY name');
        expect(rows.map((row) => row.name)).toEqual(migrationNames);
        expect((await client.query("SELECT to_regclass('public.orders') AS orders")).rows).toEqual([{ orders: 'orders' }]);
      } finally {
        await client.end();
      }
    });
  });
});
