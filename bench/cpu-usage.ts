import { readdirSync, readFileSync } from 'node:fs';
import Redis, { Cluster } from 'ioredis';

/** The benchmark's Redis: one server, or a Redis Cluster (BENCH_REDIS=cluster). */
export type BenchRedis = Redis | Cluster;

/** An `INFO` section of every server: the one, or every node (masters and replicas) of a cluster. */
async function infoOfEveryServer(redis: BenchRedis, section: string): Promise<string[]> {
  const servers = redis instanceof Cluster ? redis.nodes('all') : [redis];
  return Promise.all(servers.map((server) => server.info(section)));
}

/**
 * CPU time of the three parties of a run — the server under test, Redis and this load generator — so a
 * result says who was busy. On a 2-core machine they share the cores, and a server starved by its own
 * load generator looks slower than it is.
 */
export interface CpuSnapshot {
  at: number;
  /** Seconds of CPU, or null where it cannot be read (the server's on non-Linux systems); a server's worker processes included. */
  server: number | null;
  /**
   * The server's main thread alone (its event loop: HTTP, the purchase path), without its worker threads;
   * with worker processes, the sum of their main threads.
   */
  serverMain?: number | null;
  redis: number | null;
  /** The load generator's: wrk's process, or this one when autocannon runs in it. */
  generator: number | null;
  /** This process's (the harness: the sampler, and autocannon when it is the generator). */
  harness: number;
  /** True when the generator is a process of its own. */
  separateGenerator: boolean;
  /** The standalone order writer's, when there is one. */
  writer?: number | null;
}

export interface CpuShare {
  wallSeconds: number;
  /** Average cores busy over the run (1.0 = one core all the time). */
  serverCores: number | null;
  /** The server's main thread's share of `serverCores`. */
  serverMainCores?: number | null;
  redisCores: number | null;
  generatorCores: number | null;
  /** This process's cores, when the load generator is another process (wrk). */
  harnessCores?: number;
  writerCores?: number | null;
  /**
   * Server CPU time per response (writer included), in microseconds: unlike throughput, it hardly
   * depends on what else the machine is doing, so builds can be compared on a busy machine.
   */
  serverMicrosPerResponse?: number | null;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a process (or of one of its threads) from /proc (Linux), in seconds. */
export function processCpuSeconds(pid: number, thread?: number): number | null {
  try {
    const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields 14 and 15 count from after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** A process and its descendants (a `WEB_CONCURRENCY` primary and its workers), from /proc (Linux). */
export function processTree(pid: number): number[] {
  const pids = [pid];
  for (let index = 0; index < pids.length && index < 1000; index += 1) {
    try {
      for (const task of readdirSync(`/proc/${pids[index]}/task`)) {
        const children = readFileSync(`/proc/${pids[index]}/task/${task}/children`, 'utf8').trim();
        if (children) pids.push(...children.split(' ').map(Number));
      }
    } catch {
      // Gone meanwhile, or no /proc: counted as far as it could be read.
    }
  }
  return pids;
}

/** CPU seconds of a process tree: all its threads, or only each process's main thread. Null if the root cannot be read. */
function treeCpuSeconds(pids: number[], mainThreadsOnly: boolean): number | null {
  if (processCpuSeconds(pids[0]) === null) return null;
  return pids.reduce((sum, pid) => sum + (processCpuSeconds(pid, mainThreadsOnly ? pid : undefined) ?? 0), 0);
}

/** CPU seconds Redis used so far: of the one server, or summed over every node of a cluster. */
export async function redisCpuSeconds(redis: BenchRedis): Promise<number | null> {
  try {
    let total = 0;
    for (const info of await infoOfEveryServer(redis, 'cpu')) {
      const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
      total += field('used_cpu_sys') + field('used_cpu_user');
    }
    return Number.isFinite(total) ? total : null;
  } catch {
    return null;
  }
}

/** `generatorPid`: the load generator's process when it is not this one. */
export async function cpuSnapshot(serverPid: number, redis: BenchRedis, writerPid?: number, generatorPid?: number): Promise<CpuSnapshot> {
  const usage = process.cpuUsage();
  const harness = (usage.user + usage.system) / 1e6;
  const generator = generatorPid === undefined ? harness : processCpuSeconds(generatorPid);
  // The server with its worker processes, if any (WEB_CONCURRENCY).
  const server = processTree(serverPid);
  const snapshot: CpuSnapshot = { at: Date.now(), server: treeCpuSeconds(server, false), serverMain: treeCpuSeconds(server, true), redis: await redisCpuSeconds(redis), generator, harness, separateGenerator: generatorPid !== undefined };
  if (writerPid !== undefined) snapshot.writer = processCpuSeconds(writerPid);
  return snapshot;
}

export function cpuShare(from: CpuSnapshot, to: CpuSnapshot, responses?: number): CpuShare {
  const wallSeconds = Math.max(0.001, (to.at - from.at) / 1000);
  const cores = (start: number | null, end: number | null) => (start === null || end === null ? null : (end - start) / wallSeconds);
  const share: CpuShare = {
    wallSeconds,
    serverCores: cores(from.server, to.server),
    redisCores: cores(from.redis, to.redis),
    generatorCores: cores(from.generator, to.generator),
  };
  if (from.serverMain !== undefined && to.serverMain !== undefined) share.serverMainCores = cores(from.serverMain, to.serverMain);
  if (to.separateGenerator) share.harnessCores = (to.harness - from.harness) / wallSeconds;
  if (from.writer !== undefined && to.writer !== undefined) share.writerCores = cores(from.writer, to.writer);
  if (responses !== undefined && responses > 0 && share.serverCores !== null) {
    share.serverMicrosPerResponse = ((share.serverCores + (share.writerCores ?? 0)) * wallSeconds * 1e6) / responses;
  }
  return share;
}

/** Calls and microseconds per command from `INFO commandstats` (scripts count as `evalsha`). */
export type CommandStats = Record<string, { calls: number; usec: number }>;

export async function redisCommandStats(redis: BenchRedis): Promise<CommandStats | null> {
  try {
    const stats: CommandStats = {};
    for (const info of await infoOfEveryServer(redis, 'commandstats')) {
      for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
        const sum = stats[match[1]] ?? { calls: 0, usec: 0 };
        stats[match[1]] = { calls: sum.calls + Number(match[2]), usec: sum.usec + Number(match[3]) };
      }
    }
    return stats;
  } catch {
    return null;
  }
}

/** What Redis did between two readings, per command, busiest first: calls and microseconds per call. */
export function commandStatsDelta(from: CommandStats, to: CommandStats): { command: string; calls: number; usecPerCall: number }[] {
  return Object.entries(to)
    .map(([command, { calls, usec }]) => ({ command, calls: calls - (from[command]?.calls ?? 0), usec: usec - (from[command]?.usec ?? 0) }))
    .filter((entry) => entry.calls > 0)
    .sort((left, right) => right.usec - left.usec)
    .map(({ command, calls, usec }) => ({ command, calls, usecPerCall: usec / calls }));
}
