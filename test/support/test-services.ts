import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis, { Cluster } from 'ioredis';

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

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.on('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (the port + 10000) is free too. */
async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = await freePort();
    if (port + 10000 <= 65535 && (await canListen(port + 10000))) return port;
  }
  throw new Error('no free port pair for a cluster node');
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
      // A server still loading its append-only file answers LOADING; wait until it is done. A cluster node
      // answers a redirection or CLUSTERDOWN (no slots yet): it is up.
      await probe.get('ready-probe').catch((error: Error) => {
        if (!/^(MOVED|ASK|CLUSTERDOWN)/.test(error.message)) throw error;
      });
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

export interface RedisClusterOptions {
  /** Masters sharing the 16384 slots; 3 by default. */
  masters?: number;
  /** Replicas of each master; 1 by default. */
  replicasPerMaster?: number;
  /** `always` or `everysec` turns every node's append-only file on. */
  appendfsync?: 'always' | 'everysec';
}

/** One node of a test cluster as the cluster sees it now. */
export interface ClusterNodeState {
  port: number;
  id: string;
  role: 'master' | 'replica';
  /** For a replica, the id of its master. */
  masterId?: string;
}

export interface RedisClusterHandle {
  /** `host:port` of every node, as REDIS_CLUSTER_NODES takes them. */
  nodes: string[];
  servers: ControlledRedisServer[];
  /** A cluster client for direct inspection (disconnect it when done). */
  client(): Promise<Cluster>;
  /** An admin connection to one node. */
  nodeClient(port: number): Redis;
  /** Every node's role now (from CLUSTER NODES as one node sees it). */
  state(): Promise<ClusterNodeState[]>;
  /** The port of the master serving `key`'s slot now. */
  masterPortOf(key: string): Promise<number>;
  /** The ports of a master's replicas now. */
  replicaPortsOf(masterPort: number): Promise<number[]>;
  /**
   * `CLUSTER FAILOVER` on a replica of the master at `masterPort`: resolves, with the replica's port, once
   * the replica is a master and the cluster is healthy again (`waitUntilHealthy`).
   */
  failover(masterPort: number): Promise<number>;
  /**
   * Polls until every node reports `cluster_state:ok`, every master has its replicas in sync, and every
   * node's slot map (CLUSTER SLOTS) lists every node.
   */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function redisCli(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

async function withNode<T>(port: number, work: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    return await work(client);
  } finally {
    client.disconnect();
  }
}

function parseClusterNodes(text: string): ClusterNodeState[] {
  return text
    .trim()
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => !fields[2].includes('fail') && !fields[2].includes('noaddr'))
    .map(([id, address, flags, masterId]) => ({
      id,
      port: Number(address.split('@')[0].split(':')[1]),
      role: flags.includes('master') ? ('master' as const) : ('replica' as const),
      masterId: masterId === '-' ? undefined : masterId,
    }));
}

/**
 * Starts a private Redis Cluster on free ports: `masters` × (1 + `replicasPerMaster`) redis-server
 * processes with `--cluster-enabled yes`, joined by `redis-cli --cluster create`, and resolves once every
 * node reports `cluster_state:ok` and every replica is in sync.
 */
/** The test cluster's `cluster-node-timeout`: a dead master is replaced within a few seconds. */
const CLUSTER_NODE_TIMEOUT_MS = 2_000;
/** How long Redis gives a manual failover (`CLUSTER_MF_TIMEOUT`) before abandoning it. */
const MANUAL_FAILOVER_TIMEOUT_MS = 5_000;

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  assertRedisInstalled();
  let lastFailoverAt = 0;
  if (spawnSync('redis-cli', ['--version']).error) throw new Error('redis-cli is not on PATH. Install it (Debian/Ubuntu: apt-get install redis-tools; macOS: brew install redis).');
  const masters = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 1;
  const servers: ControlledRedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  try {
    for (let index = 0; index < masters * (1 + replicasPerMaster); index += 1) {
      // A short node timeout: a failed master is replaced within seconds, as the fault tests need.
      servers.push(await startRedisServer({ port: await freeClusterPort(), appendfsync: options.appendfsync, extraArgs: ['--cluster-enabled', 'yes', '--cluster-node-timeout', String(CLUSTER_NODE_TIMEOUT_MS)] }));
    }
    const nodes = servers.map((server) => `127.0.0.1:${server.port}`);
    const created = await redisCli(['--cluster', 'create', ...nodes, '--cluster-replicas', String(replicasPerMaster), '--cluster-yes']);
    if (created.code !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.output}`);

    /** Asks the first node that answers (a test may have killed some). */
    const askAnyNode = async <T>(work: (client: Redis) => Promise<T>): Promise<T> => {
      for (const server of servers) {
        try {
          return await withNode(server.port, work);
        } catch {
          // this node is down: ask the next one
        }
      }
      throw new Error('no node of the test cluster answers');
    };
    const state = async (): Promise<ClusterNodeState[]> => parseClusterNodes(String(await askAnyNode((client) => client.call('CLUSTER', 'NODES'))));
    const waitUntilHealthy = async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let healthy = true;
        try {
          for (const server of servers) {
            const info = String(await withNode(server.port, (client) => client.call('CLUSTER', 'INFO')));
            if (!info.includes('cluster_state:ok') || !info.includes(`cluster_known_nodes:${servers.length}`)) healthy = false;
            const replication = await withNode(server.port, (client) => client.info('replication'));
            if (replication.includes('role:master') && Number(/connected_slaves:(\d+)/.exec(replication)?.[1] ?? 0) < replicasPerMaster) healthy = false;
            if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) healthy = false;
            // A node's CLUSTER SLOTS lists a replica only once gossip has brought it a replication offset for
            // it: for up to seconds after a failover some nodes leave the demoted master out. A client whose
            // slot refresh reads such a map closes its connection to that node, failing what is in flight on it.
            const slots = (await withNode(server.port, (client) => client.call('CLUSTER', 'SLOTS'))) as [number, number, ...[string, number][]][];
            const listed = new Set(slots.flatMap(([, , ...nodes]) => nodes.map((node) => Number(node[1]))));
            if (servers.some((other) => !listed.has(other.port))) healthy = false;
          }
          const roles = await state();
          if (roles.filter((node) => node.role === 'master').length !== masters) healthy = false;
        } catch {
          healthy = false;
        }
        if (healthy) return;
        if (Date.now() > deadline) throw new Error(`the test Redis Cluster did not become healthy within ${timeoutMs} ms`);
        await sleep(100);
      }
    };
    await waitUntilHealthy();

    const masterPortOf = async (key: string) => {
      const slot = Number(await askAnyNode((client) => client.call('CLUSTER', 'KEYSLOT', key)));
      const ranges = (await askAnyNode((client) => client.call('CLUSTER', 'SLOTS'))) as [number, number, [string, number, string]][];
      const range = ranges.find(([first, last]) => slot >= first && slot <= last);
      if (!range) throw new Error(`no master serves slot ${slot}`);
      return Number(range[2][1]);
    };
    const replicaPortsOf = async (masterPort: number) => {
      const roles = await state();
      const master = roles.find((node) => node.port === masterPort && node.role === 'master');
      if (!master) throw new Error(`port ${masterPort} is not a master`);
      return roles.filter((node) => node.masterId === master.id).map((node) => node.port);
    };
    const handle: RedisClusterHandle = {
      nodes,
      servers,
      client: async () => {
        const cluster = new Cluster(nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })), { scaleReads: 'master' });
        cluster.on('error', () => undefined);
        await new Promise<void>((resolve, reject) => {
          cluster.once('ready', resolve);
          cluster.once('end', () => reject(new Error('the test cluster client could not connect')));
        });
        return cluster;
      },
      nodeClient: (port) => {
        const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on('error', () => undefined);
        return client;
      },
      state,
      masterPortOf,
      replicaPortsOf,
      failover: async (masterPort) => {
        const [replicaPort] = await replicaPortsOf(masterPort);
        if (replicaPort === undefined) throw new Error(`master ${masterPort} has no replica`);
        // The masters refuse to vote for a replica of a master they voted on within twice the node timeout,
        // and Redis abandons a manual failover not done within 5 s: a failover asked for right after the
        // same shard's previous one never happened. There is no event for the end of that wait.
        const cooldownLeft = lastFailoverAt + 2 * CLUSTER_NODE_TIMEOUT_MS + 500 - Date.now();
        if (cooldownLeft > 0) await sleep(cooldownLeft);
        const deadline = Date.now() + 30_000;
        let askedAt = 0;
        while (!(await state()).some((node) => node.port === replicaPort && node.role === 'master')) {
          if (Date.now() > deadline) throw new Error(`replica ${replicaPort} did not take over from ${masterPort}`);
          if (Date.now() - askedAt >= MANUAL_FAILOVER_TIMEOUT_MS + 1_000) {
            await withNode(replicaPort, (client) => client.call('CLUSTER', 'FAILOVER'));
            askedAt = Date.now();
          }
          await sleep(50);
        }
        lastFailoverAt = Date.now();
        await waitUntilHealthy();
        return replicaPort;
      },
      waitUntilHealthy,
      stop,
    };
    return handle;
  } catch (error) {
    await stop();
    throw error;
  }
}
