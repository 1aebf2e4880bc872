import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DEV_JWT_SECRET } from '../../src/config/app-config';
import { TokenService } from '../../src/auth/token.service';
import { isBuildCurrent, SERVER_NODE_FLAGS } from '../../bench/processes';
import { freePort } from './test-services';

/**
 * The service as its own process (`node dist/main.js`, what `npm run start:prod` runs), for the tests of
 * what only a real process shows: a primary and its workers, signals, several instances on one port or
 * behind a proxy. CI builds before it tests, so `dist/` is current there; when `dist/main.js` is missing
 * or older than `src/`, the sources run under ts-node instead (the same code, slower to start), and the
 * test says so.
 */
const ROOT = join(__dirname, '..', '..');

/** `main` is the service (`npm run start:prod`), `worker` the standalone order writer (`npm run start:worker`). */
function serverArgs(entry: 'main' | 'worker' = 'main'): string[] {
  const built = join(ROOT, 'dist', `${entry}.js`);
  if (isBuildCurrent(built)) return [...SERVER_NODE_FLAGS, built];
  process.stderr.write(`dist/ is missing or older than src/: running src/${entry}.ts under ts-node (npm run build to test the build)\n`);
  return ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', `${entry}.ts`)];
}

/** How a standalone order writer process ended its start: refused (exited), or running (then stopped). */
export interface WorkerStart {
  running: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Starts `npm run start:worker` with `env` and waits until it exits or says it runs (bounded); one that
 * runs is stopped with SIGTERM before this resolves.
 */
export async function startWorkerProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<WorkerStart> {
  const child = spawn(process.execPath, serverArgs('worker'), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const running = new Promise<void>((resolve) =>
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('Sellout order writer running')) resolve();
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  const first = await Promise.race([exited, running, timedOut]);
  clearTimeout(timer);
  if (first !== undefined) return { running: false, ...first, stderr };
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const stopped = await exited;
  clearTimeout(killer);
  return { running: true, ...stopped, stderr };
}

/** A database for processes of one test: a fresh embedded file, or a throwaway PostgreSQL database. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL;
  const name = `sellout_proc_${randomBytes(5).toString('hex')}`;
  if (!base || !/^postgres(ql)?:/.test(base)) {
    const file = join(tmpdir(), `${name}.sqlite`);
    return { url: `sqlite:${file}`, drop: async () => ['', '-wal', '-shm'].forEach((suffix) => rmSync(`${file}${suffix}`, { force: true })) };
  }
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: base });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** A JSON log line of the service (pino), or a plain line as `{ msg }`. */
export type LogLine = { msg?: string; pid?: number; requestId?: string; [field: string]: unknown };

export class ServerProcess {
  readonly lines: LogLine[] = [];
  private readonly waiters: { test: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly url: string;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const text of complete) if (text.trim() !== '') this.push(text);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (process.env.TEST_SERVER_STDERR) process.stderr.write(chunk);
    });
  }

  /** Starts the service with `env` on a free port (or `env.PORT`) and waits until it says it listens. */
  static async start(env: Record<string, string>, timeoutMs = 90_000): Promise<ServerProcess> {
    const port = env.PORT ? Number(env.PORT) : await freePort();
    const child = spawn(process.execPath, serverArgs(), {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', HOST: '127.0.0.1', ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ServerProcess(child, port);
    const listening = server.waitForLine((line) => /^Sellout listening/.test(line.msg ?? ''), timeoutMs);
    const exited = server.exited.then(({ code, signal }) => Promise.reject(new Error(`the service exited (${code ?? signal}) while starting; set TEST_SERVER_STDERR=1 to see why`)));
    try {
      await Promise.race([listening, exited]);
    } catch (error) {
      server.kill('SIGKILL');
      throw error;
    }
    return server;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** The first line, already seen or still to come, that passes `test`. */
  waitForLine(test: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no such log line within ${timeoutMs} ms; last lines:\n${this.lines.slice(-10).map((line) => JSON.stringify(line)).join('\n')}`)), timeoutMs);
      // A wait that lost a race (another instance logged the line) must not keep the test runner alive.
      timer.unref();
      this.waiters.push({
        test,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  kill(signal: NodeJS.Signals): void {
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }

  /** SIGTERM, and SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 45_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private push(text: string): void {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text };
    }
    this.lines.push(line);
    for (const waiter of [...this.waiters]) {
      if (waiter.test(line)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  }
}

/** Whether a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Signs a token with the development secret the test processes run with. */
export function devToken(userId: string, roles: string[] = []): string {
  return new TokenService({ jwtSecret: DEV_JWT_SECRET } as never).sign(userId, roles);
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/**
 * One request on a connection of its own (no keep-alive), so that consecutive requests are spread over
 * the workers of a primary like separate clients are.
 */
export function httpCall(url: string, method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { connection: 'close', ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}${path}`, { method, headers, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        let body: unknown = text;
        try {
          body = text.length > 0 ? JSON.parse(text) : undefined;
        } catch {
          // not JSON
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
      });
    });
    request.on('error', reject);
    request.end(payload);
  });
}
