import { readFileSync } from 'node:fs';
import type Redis from 'ioredis';

/**
 * CPU time of the three parties of a run — the server under test, Redis and this load generator — so a
 * result says who was busy. On a 2-core machine they share the cores, and a server starved by its own
 * load generator looks slower than it is.
 */
export interface CpuSnapshot {
  at: number;
  /** Seconds of CPU, or null where it cannot be read (the server's on non-Linux systems). */
  server: number | null;
  redis: number | null;
  generator: number;
  /** The standalone order writer's, when there is one. */
  writer?: number | null;
}

export interface CpuShare {
  wallSeconds: number;
  /** Average cores busy over the run (1.0 = one core all the time). */
  serverCores: number | null;
  redisCores: number | null;
  generatorCores: number;
  writerCores?: number | null;
  /**
   * Server CPU time per response (writer included), in microseconds: unlike throughput, it hardly
   * depends on what else the machine is doing, so builds can be compared on a busy machine.
   */
  serverMicrosPerResponse?: number | null;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a process from /proc (Linux), in seconds. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields 14 and 15 count from after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

export async function redisCpuSeconds(redis: Redis): Promise<number | null> {
  try {
    const info = await redis.info('cpu');
    const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
    const total = field('used_cpu_sys') + field('used_cpu_user');
    return Number.isFinite(total) ? total : null;
  } catch {
    return null;
  }
}

export async function cpuSnapshot(serverPid: number, redis: Redis, writerPid?: number): Promise<CpuSnapshot> {
  const usage = process.cpuUsage();
  const snapshot: CpuSnapshot = { at: Date.now(), server: processCpuSeconds(serverPid), redis: await redisCpuSeconds(redis), generator: (usage.user + usage.system) / 1e6 };
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
    generatorCores: (to.generator - from.generator) / wallSeconds,
  };
  if (from.writer !== undefined && to.writer !== undefined) share.writerCores = cores(from.writer, to.writer);
  if (responses !== undefined && responses > 0 && share.serverCores !== null) {
    share.serverMicrosPerResponse = ((share.serverCores + (share.writerCores ?? 0)) * wallSeconds * 1e6) / responses;
  }
  return share;
}
