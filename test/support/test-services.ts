import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface RedisServerOptions {
  /** Listen here (a restart reuses the port); a free port by default. */
  port?: number;
  /** `always` or `everysec` turns the append-only file on; without it the server keeps nothing on disk. */
  appendfsync?: 'always' | 'everysec';
  /** Follow this primary (`host:port`) as a read-only replica. */
  replicaOf?: string;
  /** Further redis-server arguments (e.g. `--rename-command CONFIG ""`, as a managed Redis might). */
  extraArgs?: string[];
}

export interface RedisServerHandle {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** A Redis the fault tests can kill, restart, stall and disconnect while a service uses it. */
export interface ControlledRedisServer extends RedisServerHandle {
  /** SIGKILL: the process dies at once, as on a crash or an OOM kill. */
  kill(): Promise<void>;
  /**
   * Starts the server again on the same port. With `empty`, or without an append-only file, it starts
   * with no data; otherwise it reloads its append-only file as a restarted production Redis would.
   */
  restart(options?: { empty?: boolean }): Promise<void>;
  /** `CLIENT PAUSE <ms> ALL`: every client's commands wait, as during a long fork or a stalled host. */
  pause(ms: number): Promise<void>;
  /** `CLIENT KILL TYPE normal`: drops every client connection (except the one asking). */
  killClients(): Promise<number>;
  /** A short-lived admin connection for direct inspection. */
  client(): Redis;
}

function assertRedisInstalled(): void {
  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error('redis-server is not on PATH. Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set TEST_REDIS_URL.');
  }
}

function launch(port: number, directory: string, options: RedisServerOptions): number {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--loglevel', 'warning', '--dir', directory];
  if (options.appendfsync) args.push('--appendonly', 'yes', '--appendfsync', options.appendfsync);
  else args.push('--appendonly', 'no');
  if (options.replicaOf) args.push('--replicaof', ...options.replicaOf.split(':'));
  if (options.extraArgs) args.push(...options.extraArgs);
  const child = spawn('redis-server', args, { stdio: 'ignore', detached: true });
  child.unref();
  return child.pid as number;
}

async function waitUntilAnswering(url: string, port: number): Promise<void> {
  const deadline = Date.now() + 10000;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      // A server still loading its append-only file answers LOADING; wait until it is done.
      await probe.get('ready-probe');
      probe.disconnect();
      return;
    } catch {
      probe.disconnect();
      if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}`);
      await sleep(50);
    }
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

async function waitForExit(pid: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (killQuietly(pid, 0)) {
    if (Date.now() > deadline) throw new Error(`redis-server ${pid} did not exit`);
    await sleep(20);
  }
}

/**
 * Starts a private redis-server (no persistence unless asked) on a free port, so tests never touch a
 * developer's Redis. Fails with an install hint when redis-server is not on PATH.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<ControlledRedisServer> {
  assertRedisInstalled();
  const port = options.port ?? (await freePort());
  // Every server gets a directory of its own, persisting or not: a replica writes the snapshot of its
  // full sync there, and a server started later in a shared directory would load it at boot.
  const newDirectory = () => mkdtempSync(join(tmpdir(), 'sellout-redis-'));
  const removeDirectory = () => rmSync(directory, { recursive: true, force: true });
  let directory = newDirectory();
  const url = `redis://127.0.0.1:${port}`;
  let pid = launch(port, directory, options);
  await waitUntilAnswering(url, port);
  const admin = () => {
    const client = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: false });
    client.on('error', () => undefined);
    return client;
  };
  const withAdmin = async <T>(work: (client: Redis) => Promise<T>): Promise<T> => {
    const client = admin();
    try {
      return await work(client);
    } finally {
      client.disconnect();
    }
  };
  const handle: ControlledRedisServer = {
    url,
    port,
    get pid() {
      return pid;
    },
    stop: async () => {
      killQuietly(pid, 'SIGKILL');
      await waitForExit(pid).catch(() => undefined);
      removeDirectory();
    },
    kill: async () => {
      killQuietly(pid, 'SIGKILL');
      await waitForExit(pid);
    },
    restart: async (restartOptions = {}) => {
      if (restartOptions.empty) {
        removeDirectory();
        directory = newDirectory();
      }
      pid = launch(port, directory, options);
      await waitUntilAnswering(url, port);
    },
    pause: (ms) => withAdmin(async (client) => void (await client.call('CLIENT', 'PAUSE', String(ms), 'ALL'))),
    killClients: () => withAdmin(async (client) => Number(await client.call('CLIENT', 'KILL', 'TYPE', 'normal'))),
    client: admin,
  };
  return handle;
}
