import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { freePort, startRedisCluster } from '../test/support/test-services';

export { freePort };

/**
 * The processes a benchmark drives: a Redis (the caller's, or a private one), the built service and the
 * bare baseline server, each a child with its own environment and log file. Children are stopped by
 * their own pid, and killed if the harness dies first.
 */

const ROOT = join(__dirname, '..');
const children = new Set<ChildProcess>();

process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.pid) tryKill(child.pid, 'SIGKILL');
});

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** True when `builtFile` exists and is newer than every file under `src/` (so it runs the current code). */
export function isBuildCurrent(builtFile: string): boolean {
  return existsSync(builtFile) && statSync(builtFile).mtimeMs >= newestMtime(join(ROOT, 'src'));
}

function newestMtime(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds the service when `dist/main.js` is missing or older than the sources (`auto`), always, or
 * never. The benchmark measures what `npm run start:prod` would run.
 */
export function ensureBuilt(policy: 'auto' | 'always' | 'never', log: (line: string) => void, distDir = 'dist'): void {
  if (resolve(ROOT, distDir) !== join(ROOT, 'dist')) {
    // Another build (e.g. a branch's) is measured as it is.
    if (!existsSync(join(resolve(ROOT, distDir), 'main.js'))) throw new Error(`${distDir}/main.js is missing`);
    return;
  }
  const main = join(ROOT, 'dist', 'main.js');
  const stale = !isBuildCurrent(main);
  if (policy === 'never' || (policy === 'auto' && !stale)) {
    if (!existsSync(main)) throw new Error('dist/main.js is missing: run `npm run build` (or BENCH_BUILD=auto)');
    return;
  }
  log(stale ? 'building the service (dist/ is older than src/)…' : 'building the service…');
  const started = Date.now();
  const result = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error('npm run build failed');
  log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export interface RedisHandle {
  url: string;
  /** True when this benchmark started the server (and so may throw it away). */
  private: boolean;
  version: string;
  stop(): Promise<void>;
}

async function answers(url: string): Promise<string | undefined> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    const info = await probe.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    return undefined;
  } finally {
    probe.disconnect();
  }
}

/**
 * REDIS_URL when it answers; otherwise a private redis-server on a free port, persisting as `persistence`
 * says (its files in `dir`), with one replica of its own when `withReplica`.
 */
export async function obtainRedis(redisUrl: string | undefined, log: (line: string) => void, persistence: string[] = ['--appendonly', 'no'], dir = tmpdir(), withReplica = false): Promise<RedisHandle> {
  if (redisUrl) {
    const version = await answers(redisUrl);
    if (version) {
      log(`using Redis ${version} at ${redisUrl}`);
      return { url: redisUrl, private: false, version, stop: async () => undefined };
    }
    log(`REDIS_URL ${redisUrl} does not answer; starting a private redis-server`);
  }
  if (spawnSync('redis-server', ['--version']).error) throw new Error('redis-server is not on PATH and no REDIS_URL answers (Debian/Ubuntu: apt-get install redis-server)');
  const master = await startRedisChild(['--dir', dir, ...persistence]);
  log(`started a private Redis ${master.version} on port ${master.port} (${persistence.join(' ')})`);
  if (!withReplica) return { url: master.url, private: true, version: master.version, stop: () => stopChild(master.child) };
  const replicaDir = join(dir, 'replica');
  mkdirSync(replicaDir, { recursive: true });
  const replica = await startRedisChild(['--dir', replicaDir, '--appendonly', 'no', '--replicaof', '127.0.0.1', String(master.port)]);
  const probe = new Redis(replica.url, { lazyConnect: true });
  try {
    await probe.connect();
    const deadline = Date.now() + 10_000;
    while (!/master_link_status:up/.test(await probe.info('replication'))) {
      if (Date.now() > deadline) throw new Error('the private Redis replica did not sync within 10 s');
      await sleep(50);
    }
  } finally {
    probe.disconnect();
  }
  log(`started its replica on port ${replica.port}`);
  return { url: master.url, private: true, version: master.version, stop: async () => void (await Promise.all([stopChild(replica.child), stopChild(master.child)])) };
}

export interface ClusterHandle {
  /** `host:port` of every node, as REDIS_CLUSTER_NODES takes them. */
  nodes: string[];
  version: string;
  stop(): Promise<void>;
}

/**
 * A private Redis Cluster: 3 masters with a replica each, started as the tests start theirs. Its servers
 * run detached, so they are killed by pid when the harness exits (or is interrupted) before stopping them.
 */
export async function startClusterRedis(log: (line: string) => void): Promise<ClusterHandle> {
  const started = Date.now();
  const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  const killServers = () => {
    for (const server of cluster.servers) tryKill(server.pid, 'SIGKILL');
  };
  const interrupted = () => process.exit(130);
  process.on('exit', killServers);
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const version = (await answers(cluster.servers[0].url)) ?? 'unknown';
  log(`started a private Redis ${version} Cluster in ${((Date.now() - started) / 1000).toFixed(1)} s: 3 masters with a replica each (${cluster.nodes.join(' ')})`);
  return {
    nodes: cluster.nodes,
    version,
    stop: async () => {
      await cluster.stop();
      process.off('exit', killServers);
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
    },
  };
}

async function startRedisChild(args: string[]): Promise<{ child: ChildProcess; port: number; url: string; version: string }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--loglevel', 'warning', ...args], { stdio: 'ignore' });
  children.add(child);
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  let version: string | undefined;
  while (!(version = await answers(url))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not start on port ${port}`);
    await sleep(50);
  }
  return { child, port, url, version };
}

export interface ChildHandle {
  url: string;
  pid: number;
  stop(): Promise<void>;
  /** Sends a message over the IPC channel (only children started with one). */
  send(message: unknown): void;
}

export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) {
    children.delete(child);
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  tryKill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid && tryKill(child.pid, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

/**
 * Node flags of every server the benchmark starts, the service and the baseline alike (and the same as
 * `npm run start:prod`): a larger young generation, so that the many short-lived objects of a request
 * stampede die in fewer, cheaper scavenges (bench/README.md has the comparison).
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=64'];

/**
 * BENCH_NODE_FLAGS: Node flags, separated by spaces, added for every server the benchmark starts (the
 * service, the baseline, the writer process), to look inside a run: `--trace-gc-nvp` (each garbage
 * collection, in the server's log), `--perf-basic-prof` (JavaScript frames for Linux `perf`).
 */
export function benchNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.BENCH_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '');
}

/** Starts `node <args>` with `env` (added to a minimal environment), its output going to `logFile`. */
async function startNode(name: string, args: string[], env: Record<string, string>, port: number, healthPath: string, logFile: string, ipc = false, timeoutMs = 60_000): Promise<ChildHandle> {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...benchNodeFlags(), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  if (ipc) child.channel?.unref();
  children.add(child);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} while starting; see ${logFile}`);
    try {
      const response = await fetch(`${url}${healthPath}`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`${name} did not become healthy within ${timeoutMs / 1000} s; see ${logFile}`);
    }
    await sleep(100);
  }
  return {
    url,
    pid: child.pid as number,
    stop: () => stopChild(child),
    send: (message) => {
      if (child.connected) child.send(message as object);
    },
  };
}

/**
 * Starts `node main.js` from `distDir`; with `cpuProfileFile`, preloads the profiler that
 * `{ cpuProfile: 'start' | 'stop' }` messages drive.
 */
export async function startService(distDir: string, env: Record<string, string>, logFile: string, cpuProfileFile?: string): Promise<ChildHandle> {
  const port = await freePort();
  const profiler = cpuProfileFile ? ['--require', join(ROOT, 'bench', 'cpu-profiler.js')] : [];
  const profileEnv: Record<string, string> = cpuProfileFile ? { BENCH_CPU_PROFILE_FILE: cpuProfileFile } : {};
  return startNode('the service', [...profiler, join(distDir, 'main.js')], { ...env, ...profileEnv, PORT: String(port), HOST: '127.0.0.1' }, port, '/health', logFile, cpuProfileFile !== undefined);
}

/**
 * Starts the standalone order writer (`node worker.js`, what `npm run start:worker` runs) and waits for
 * it to say it is running; with `cpuProfileDir`, V8 writes a CPU profile of it there when it exits.
 */
export async function startWorker(distDir: string, env: Record<string, string>, logFile: string, cpuProfileDir?: string, timeoutMs = 60_000): Promise<ChildHandle> {
  const log = createWriteStream(logFile, { flags: 'a' });
  // Its whole life is profiled (written when it exits): it does nothing but write orders.
  const profiler = cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir] : [];
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...benchNodeFlags(), ...profiler, join(distDir, 'worker.js')], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.stderr?.pipe(log);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the order writer did not start within ${timeoutMs / 1000} s; see ${logFile}`)), timeoutMs);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      output += chunk.toString();
      if (output.includes('order writer running')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the order writer exited with code ${code} while starting; see ${logFile}`));
    });
  });
  return { url: '', pid: child.pid as number, stop: () => stopChild(child), send: () => undefined };
}

/**
 * A private copy of `dist/`, inside the repository so that the service still finds `node_modules`: a
 * rebuild during the benchmark (which empties `dist/`) cannot pull files from under the running service.
 */
export function snapshotDist(from: string, into: string): string {
  cpSync(resolve(ROOT, from), into, { recursive: true, filter: (source) => !source.endsWith('.tsbuildinfo') });
  return into;
}

/** Starts the bare baseline; with `cpuProfileFile`, preloads the profiler as `startService` does. */
export async function startBaseline(redisUrl: string, jwtSecret: string, keyPrefix: string, logFile: string, cpuProfileFile?: string): Promise<ChildHandle> {
  const port = await freePort();
  const profiler = cpuProfileFile ? ['--require', join(ROOT, 'bench', 'cpu-profiler.js')] : [];
  return startNode(
    'the baseline server',
    [...profiler, '-r', 'ts-node/register/transpile-only', join(ROOT, 'bench', 'baseline-server.ts')],
    { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: keyPrefix, JWT_SECRET: jwtSecret, PORT: String(port), NODE_ENV: 'production', ...(cpuProfileFile ? { BENCH_CPU_PROFILE_FILE: cpuProfileFile } : {}) },
    port,
    '/health',
    logFile,
    cpuProfileFile !== undefined,
  );
}
