import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * wrk as the benchmark's purchase load generator (bench/wrk-purchase.lua does the per-request work). It
 * reports at the end of its run, not per response: the harness rebuilds the outcome counts over time from
 * its buckets, and the sell-out moment from the last 201 it saw.
 */

/** True when a `wrk` binary is on PATH. */
export function wrkAvailable(): boolean {
  const probe = spawnSync('wrk', ['--version'], { stdio: 'ignore' });
  return probe.error === undefined;
}

export interface WrkOptions {
  url: string;
  path: string;
  connections: number;
  threads: number;
  /** wrk stops by itself after this long at the latest. */
  durationSeconds: number;
  /** One `Authorization` header value per line. */
  tokensFile: string;
  idempotencyKeys: boolean;
  keyPrefix: string;
  /** Where the script writes its result (removed once read). */
  resultFile: string;
  bucketMs: number;
  logFile?: string;
}

export interface WrkResult {
  /** [bucket start (epoch ms), outcome, responses]. */
  buckets: [number, string, number][];
  /** [201s, buyers who got that many], for buyers with more than one. */
  createdPerBuyer: [number, number][];
  created: number;
  /** Epoch ms of the last 201 (0: none). */
  lastCreatedMs: number;
  requests: number;
  durationUs: number;
  errors: { connect: number; read: number; write: number; timeout: number };
  /** wrk's latency histogram over its whole run (warm-up and sold-out tail included), microseconds. */
  latencyUs: { count: number; p50: number; p90: number; p99: number; max: number };
}

export interface WrkRun {
  pid: number;
  /** Ends the run early (wrk still writes its result). */
  stop(): void;
  done: Promise<WrkResult>;
}

const SCRIPT = join(__dirname, 'wrk-purchase.lua');

export function startWrk(options: WrkOptions): WrkRun {
  const args = [
    '-t',
    String(Math.min(options.threads, options.connections)),
    '-c',
    String(options.connections),
    '-d',
    `${Math.ceil(options.durationSeconds)}s`,
    '--timeout',
    '30s',
    '-s',
    SCRIPT,
    options.url,
    '--',
    options.tokensFile,
    options.path,
    options.idempotencyKeys ? '1' : '0',
    options.keyPrefix,
    options.resultFile,
    String(options.bucketMs),
  ];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const done = new Promise<WrkResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      try {
        const result = JSON.parse(readFileSync(options.resultFile, 'utf8')) as WrkResult;
        rmSync(options.resultFile, { force: true });
        resolve(result);
      } catch (error) {
        reject(new Error(`wrk exited (${code ?? signal}) without a readable result: ${error instanceof Error ? error.message : String(error)}\n${output.slice(-2000)}`));
      }
    });
  });
  return {
    pid: child.pid as number,
    stop: () => {
      // SIGINT: wrk stops its threads, prints its summary and runs the script's `done`. One that has not
      // exited 10 s later is killed (its run then fails for want of a result).
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, 10_000).unref();
    },
    done,
  };
}
