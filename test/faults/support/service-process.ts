import type { Refund } from './answer-audit';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

function newestSource(directory: string): { file: string; mtimeMs: number } {
  let newest = { file: directory, mtimeMs: 0 };
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    // Unit tests next to the code are not part of the build.
    if (entry.name.endsWith('.spec.ts')) continue;
    const path = join(directory, entry.name);
    const candidate = entry.isDirectory() ? newestSource(path) : { file: path, mtimeMs: statSync(path).mtimeMs };
    if (candidate.mtimeMs > newest.mtimeMs) newest = candidate;
  }
  return newest;
}

/** The repository root, where `npm run build` puts `dist/main.js`. */
export const REPOSITORY = join(__dirname, '..', '..', '..');
const ENTRY = join(REPOSITORY, 'dist', 'main.js');

const LOG_TAIL = 60;

/**
 * The built service as a real process (`node dist/main.js`), as an operator runs it: the fault suite
 * kills it, stops it and restarts it. Its log is read line by line: the tail explains a failed boot, and
 * refund records show which charges the service gave back.
 */
export class ServiceProcess {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  private readonly tail: string[] = [];
  /** Every charge the service logged as refunded, across restarts. */
  readonly refunds: Refund[] = [];
  /** Log records at level error or above, across restarts (counted for the summary). */
  errorRecords = 0;
  starts = 0;

  constructor(private readonly env: Record<string, string>) {}

  /** The suite must test the code of the working tree: a missing or stale build stops it at once. */
  static assertBuilt(): void {
    if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: the fault suite runs the built service; run \`npm run build\` (npm run test:faults does) first`);
    const built = statSync(ENTRY).mtimeMs;
    const newer = newestSource(join(REPOSITORY, 'src'));
    if (newer.mtimeMs > built) throw new Error(`${newer.file} is newer than ${ENTRY}: run \`npm run build\` (npm run test:faults does) so that the suite tests this code`);
  }

  get port(): number {
    return Number(this.env.PORT);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and resolves once it listens; rejects with its log if it exits first. */
  async start(): Promise<void> {
    ServiceProcess.assertBuilt();
    this.starts += 1;
    const child = spawn(process.execPath, [ENTRY], { cwd: REPOSITORY, env: { PATH: process.env.PATH ?? '', ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let listening: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream as NodeJS.ReadableStream }).on('line', (line) => {
        this.remember(line);
        if (line.startsWith('Sellout listening on')) listening();
      });
    }
    const exitedEarly = this.exited.then((code) => {
      throw new Error(`the service exited with code ${code} before listening:\n${this.logTail()}`);
    });
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the service did not listen within 45 s:\n${this.logTail()}`)), 45_000).unref());
    await Promise.race([ready, exitedEarly, timeout]);
    exitedEarly.catch(() => undefined);
  }

  /** Sends a signal; resolves with the exit code (null when killed by the signal), bounded in time. */
  async stop(signal: NodeJS.Signals, timeoutMs = 15_000): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    child.kill(signal);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the service did not exit within ${timeoutMs} ms of ${signal}`)), timeoutMs).unref());
    try {
      return await Promise.race([this.exited as Promise<number | null>, timeout]);
    } catch (error) {
      child.kill('SIGKILL');
      await this.exited;
      throw error;
    }
  }

  logTail(): string {
    return this.tail.join('\n');
  }

  private remember(line: string): void {
    this.tail.push(line);
    if (this.tail.length > LOG_TAIL) this.tail.shift();
    if (!line.startsWith('{')) return;
    try {
      const record = JSON.parse(line) as { level?: number; msg?: string; orderId?: string; reference?: string };
      if ((record.level ?? 0) >= 50) this.errorRecords += 1;
      // The service logs each refund it makes as a warning naming the order (a failed refund is an error).
      if (record.level === 40 && typeof record.msg === 'string' && /refund/i.test(record.msg) && record.orderId) this.refunds.push({ orderId: record.orderId, reference: record.reference ?? '' });
    } catch {
      // not a log record
    }
  }
}
