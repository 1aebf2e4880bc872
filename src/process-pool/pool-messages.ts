import cluster from 'node:cluster';
import { isMainThread } from 'node:worker_threads';

/**
 * What the primary of `WEB_CONCURRENCY` and its HTTP workers say to each other over Node's cluster IPC
 * channel: the gathering of every worker's metrics for one `/metrics` scrape. The worker that answers the
 * scrape asks the primary (`gather`); the primary asks every other worker (`report`), collects their
 * answers (`reported`) for at most `METRICS_GATHER_TIMEOUT_MS`, and hands them to the asking worker
 * (`gathered`), which sums them with its own (see MetricsService).
 */
export const METRICS_GATHER_TIMEOUT_MS = 2_000;

/** Metrics as prom-client's `Registry.getMetricsAsJSON()` gives them (plain data, sent as JSON). */
export type MetricsReport = unknown[];

export type PoolMessage =
  | { type: 'sellout:metrics:gather'; requestId: number }
  | { type: 'sellout:metrics:report'; gatheringId: number }
  | { type: 'sellout:metrics:reported'; gatheringId: number; metrics?: MetricsReport }
  | { type: 'sellout:metrics:gathered'; requestId: number; reports: MetricsReport[] };

export function isPoolMessage<Type extends PoolMessage['type']>(message: unknown, type: Type): message is Extract<PoolMessage, { type: Type }> {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

/** True in an HTTP worker of a primary (not in a single process, nor on a worker's own threads). */
export function isPoolWorker(): boolean {
  return cluster.isWorker && isMainThread && typeof process.send === 'function';
}
