/**
 * Where a CPU profile's time went, for the benchmark's printout: self time by function and by area
 * (the service's own code, each dependency, Node internals, garbage collection, idle).
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileShare {
  name: string;
  percent: number;
}

export interface ProfileSummary {
  seconds: number;
  byArea: ProfileShare[];
  byFunction: ProfileShare[];
}

/** `src/purchase/x.ts`, `ioredis`, `@nestjs/core`, `node:internal`, `(garbage collector)`, … */
export function areaOf(url: string, functionName: string): string {
  if (url === '') return `(${functionName.replace(/[()]/g, '') || 'native'})`;
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith('node:')) return 'node internals';
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return `service: ${url.slice(dist + '/dist/'.length).replace(/\.js$/, '')}`;
  return url;
}

function shares(selfTime: Map<string, number>, total: number, limit: number): ProfileShare[] {
  return [...selfTime.entries()]
    .sort((left, right) => right[1] - left[1])
    .slice(0, limit)
    .map(([name, time]) => ({ name, percent: (100 * time) / total }));
}

export function summarizeProfile(profile: CpuProfile, limit = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const hits = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    // A sample stands for the time until the next one (samples are not evenly spaced); the last one for
    // the average interval.
    const deltas = profile.timeDeltas;
    const average = deltas.reduce((sum, delta) => sum + delta, 0) / Math.max(1, deltas.length);
    profile.samples.forEach((id, index) => hits.set(id, (hits.get(id) ?? 0) + (deltas[index + 1] ?? average)));
  } else {
    for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);
  }
  let total = 0;
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, time] of hits) {
    const node = byId.get(id);
    if (!node || time <= 0) continue;
    total += time;
    const { functionName, url, lineNumber } = node.callFrame;
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + time);
    const name = `${functionName || '(anonymous)'} ${url ? `${area.startsWith('service: ') ? area.slice('service: '.length) : area}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + time);
  }
  return { seconds: (profile.endTime - profile.startTime) / 1e6, byArea: shares(byArea, total || 1, limit), byFunction: shares(byFunction, total || 1, limit) };
}
