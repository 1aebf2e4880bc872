import { type ChildProcess, fork, type Serializable, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { envInt, envString } from '../load-tests/lib/env';
import { saleDraft } from '../load-tests/lib/payloads';
import { AdminClient } from './admin-client';
import { ensureBuilt, obtainRedis, sleep, snapshotDist, startService } from './processes';
import { percentiles } from './statistics';
import { mintToken } from './tokens';

/**
 * `npm run bench:sse`: idle live-update streams on one service process. Opens CONNECTIONS streams
 * (default 20,000) of one sale to the service on 127.0.0.1 from client processes (`sse-clients.ts`),
 * measures the service's resident memory before and after (per stream), then sells the sale's last unit
 * and times the `sold_out` event's arrival on every stream. The service needs a file descriptor per
 * stream: the harness raises its open-file limit (inherited by the service) with prlimit, and where that
 * is refused measures as many streams as the limit allows, and says so.
 */

const log = (line: string) => process.stdout.write(`${line}\n`);
/** Streams per client process: well under a process's open-file limit. */
const STREAMS_PER_CLIENT = 8000;
/** File descriptors the service needs besides its streams (Redis, database, listener, stdio, epoll…). */
const SERVICE_OWN_FILES = 100;

function openFileLimit(): number {
  const answer = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
  return answer === 'unlimited' ? Number.POSITIVE_INFINITY : Number(answer);
}

/** Tries to raise this process's open-file limit (children inherit it); the limit in force afterwards. */
function raiseOpenFileLimit(wanted: number): number {
  // Node cannot set its own limit; prlimit(1) can, given the privilege (CAP_SYS_RESOURCE past the hard limit).
  spawnSync('prlimit', [`--pid=${process.pid}`, `--nofile=${wanted}:${wanted}`], { stdio: 'ignore' });
  return openFileLimit();
}

function residentBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

interface ClientProcess {
  child: ChildProcess;
  answer<T>(message: unknown): Promise<T>;
}

function startClient(): ClientProcess {
  const child = fork(join(__dirname, 'sse-clients.ts'), [], { execArgv: ['-r', 'ts-node/register/transpile-only'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    child,
    answer: <T>(message: unknown) =>
      new Promise<T>((resolveAnswer, reject) => {
        child.once('message', (reply: T & { error?: string }) => (reply.error ? reject(new Error(reply.error)) : resolveAnswer(reply)));
        child.once('exit', (code) => reject(new Error(`a client process exited with code ${code}`)));
        child.send(message as Serializable);
      }),
  };
}

export async function runSseBench(): Promise<number> {
  const wanted = envInt(process.env, 'CONNECTIONS', 20_000, 1, 200_000);
  const limit = raiseOpenFileLimit(wanted + SERVICE_OWN_FILES);
  // The service holds a file descriptor per stream: past its limit, a stream cannot be accepted at all.
  const connections = Math.min(wanted, limit - SERVICE_OWN_FILES);
  const startedAt = new Date();
  log(`Sellout npm run bench:sse: ${connections.toLocaleString('en-US')} idle event streams on one service process`);
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}, load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}, open-file limit ${limit}`);
  if (connections < wanted) {
    log(`the open-file limit (${limit}) could not be raised to ${wanted + SERVICE_OWN_FILES} (prlimit needs CAP_SYS_RESOURCE past the hard limit): measuring ${connections.toLocaleString('en-US')} streams, the most one service process can hold here`);
  }
  const distDir = envString(process.env, 'BENCH_DIST_DIR', 'dist');
  ensureBuilt('auto', log, distDir);
  const resultsDir = resolve(envString(process.env, 'RESULTS_DIR', 'bench/results'));
  mkdirSync(resultsDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const scratch = join(tmpdir(), `sellout-bench-sse-${stamp}`);
  mkdirSync(scratch, { recursive: true });
  const snapshot = snapshotDist(distDir, join(resultsDir, `.dist-${stamp}`));
  const redis = await obtainRedis(undefined, log, ['--appendonly', 'no'], scratch);
  const jwtSecret = randomBytes(24).toString('hex');
  const service = await startService(
    snapshot,
    {
      NODE_ENV: 'production',
      REDIS_URL: redis.url,
      REDIS_DURABILITY: 'none',
      DATABASE_URL: `sqlite:${join(scratch, 'sellout.sqlite')}`,
      DATA_DIR: scratch,
      REDIS_KEY_PREFIX: `bench-${randomBytes(6).toString('hex')}`,
      JWT_SECRET: jwtSecret,
      FCODE_SECRET: randomBytes(24).toString('hex'),
      LOG_LEVEL: 'warn',
      SSE_MAX_CONNECTIONS: String(connections),
    },
    join(resultsDir, `${stamp}-sse-service.log`),
    // Preloads the benchmark's inspector hook (bench/cpu-profiler.js), through which memory is read after a full GC; no profile is taken.
    join(resultsDir, `${stamp}-sse-service.cpuprofile`),
  );
  const settledMemory = async () => {
    service.send({ collectGarbage: true });
    await sleep(1000);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    const heap = /^sellout_nodejs_heap_size_used_bytes (\S+)$/m.exec(metrics);
    return { resident: residentBytes(service.pid), heap: heap ? Number(heap[1]) : Number.NaN };
  };
  const clients: ClientProcess[] = [];
  try {
    const admin = new AdminClient(service.url, mintToken(jwtSecret, 'bench-ops', ['ops']));
    const now = Date.now();
    const startsAt = now + 1000;
    const sale = await admin.createSale(
      saleDraft({ label: `bench-sse-${stamp}`, stock: 1, perUserLimit: 1, reservationRequired: false, reservationOpensAt: now - 60_000, reservationClosesAt: startsAt, fcodeOpensAt: startsAt, startsAt, endsAt: startsAt + 3600_000 }),
    );
    const port = Number(new URL(service.url).port);
    const path = `/api/sales/${sale.id}/events`;
    const before = await settledMemory();

    const opening = Date.now();
    const shares: number[] = [];
    for (let left = connections; left > 0; left -= STREAMS_PER_CLIENT) shares.push(Math.min(STREAMS_PER_CLIENT, left));
    for (let index = 0; index < shares.length; index += 1) clients.push(startClient());
    const opened = await Promise.all(clients.map((client, index) => client.answer<{ opened: number }>({ port, path, count: shares[index] })));
    const streams = opened.reduce((sum, answer) => sum + answer.opened, 0);
    log(`opened ${streams.toLocaleString('en-US')} streams from ${clients.length} client processes in ${((Date.now() - opening) / 1000).toFixed(1)} s`);
    // Idle for a while, as waiting buyers are: the service settles (and collects its garbage).
    await sleep(envInt(process.env, 'IDLE_MS', 5000, 0));
    const after = await settledMemory();
    const perStream = (bytes: number) => `${(bytes / streams / 1024).toFixed(1)} KB per stream`;
    log(
      `service memory after a full GC: resident ${(before.resident / 2 ** 20).toFixed(0)} → ${(after.resident / 2 ** 20).toFixed(0)} MB (${perStream(after.resident - before.resident)}), ` +
        `JavaScript heap ${(before.heap / 2 ** 20).toFixed(0)} → ${(after.heap / 2 ** 20).toFixed(0)} MB (${perStream(after.heap - before.heap)})`,
    );

    await sleep(Math.max(0, startsAt - Date.now() + 50));
    const sent = performance.timeOrigin + performance.now();
    const response = await fetch(`${service.url}/api/sales/${sale.id}/purchase`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mintToken(jwtSecret, 'bench-last-buyer')}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const answered = performance.timeOrigin + performance.now();
    if (response.status !== 201) throw new Error(`the last unit's purchase answered ${response.status}: ${await response.text()}`);
    // Every stream gets the event within a second or two; the reports are asked for after a bounded wait.
    await sleep(envInt(process.env, 'SOLD_OUT_WAIT_MS', 5000, 1));
    const reports = await Promise.all(clients.map((client) => client.answer<{ soldOutAt: number[] }>({ report: true })));
    const arrivals = reports.flatMap((report) => report.soldOutAt.map((at) => at - sent));
    const spread = percentiles(arrivals);
    log(`the last unit's purchase answered 201 after ${(answered - sent).toFixed(1)} ms`);
    log(
      `sold_out reached ${arrivals.length.toLocaleString('en-US')} of ${streams.toLocaleString('en-US')} streams; from the purchase: ` +
        (spread ? `first ${Math.min(...arrivals).toFixed(0)} ms, p50 ${spread.p50.toFixed(0)} ms, p90 ${spread.p90.toFixed(0)} ms, p99 ${spread.p99.toFixed(0)} ms, all ${spread.max.toFixed(0)} ms` : 'none'),
    );
    log(`load average after: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
    return arrivals.length === streams ? 0 : 1;
  } finally {
    for (const client of clients) if (client.child.exitCode === null) client.child.kill();
    await service.stop();
    await redis.stop();
    rmSync(scratch, { recursive: true, force: true });
    rmSync(snapshot, { recursive: true, force: true });
  }
}
