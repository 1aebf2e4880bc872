import cluster, { Worker } from 'node:cluster';
import pino, { Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import { isPoolMessage, METRICS_GATHER_TIMEOUT_MS, MetricsReport, PoolMessage } from './pool-messages';
import { RestartBackoff } from './restart-backoff';

/**
 * How long SIGTERM lets the workers drain before they are killed. Long enough for in-flight requests and
 * the order writer's batch; what a killed worker's writer had not acknowledged stays pending in Redis
 * and is claimed by another writer, so forcing loses no accepted order.
 */
export const DRAIN_TIMEOUT_MS = 30_000;

/** One scrape's gathering: which worker asked, and the other workers' reports so far. */
interface MetricsGathering {
  requester: Worker;
  requestId: number;
  pending: Set<number>;
  reports: MetricsReport[];
  timer: NodeJS.Timeout;
}

/**
 * The primary process of `WEB_CONCURRENCY` > 1: it serves nothing and opens no connection to Redis or the
 * database. It forks the HTTP workers (Node's cluster: they share the port, and the primary hands each
 * new connection to the next worker in turn), replaces a worker that dies (with a back-off), and on
 * SIGTERM or SIGINT drains them all: each worker runs the service's own graceful shutdown (in-flight
 * requests answered, the order writer's batch committed) and the primary exits once every worker has.
 * A second signal, or `DRAIN_TIMEOUT_MS`, kills what is left.
 *
 * Every worker runs what a single process runs: the order writer (a consumer of the shared consumer
 * group), the expiry sweeper (each release is a compare-and-set) and the boot-time restore (each sale is
 * created only if absent), all safe to run many times over; migrations run under a lock that spans
 * processes (database/migrations-lock.ts), the same lock several hosts booting together need.
 *
 * A worker that fails while the workers first start stops the whole service with exit code 1, as a
 * single process that cannot start does; after that, deaths are replaced.
 *
 * A `/metrics` scrape reaches one worker; the primary relays the other workers' metrics to it, so that
 * the scrape shows the whole service (see pool-messages.ts).
 */

export class ProcessPool {
  private readonly logger: Logger;
  private readonly gatherings = new Map<number, MetricsGathering>();
  private lastGatheringId = 0;
  private readonly backoff = new RestartBackoff();
  /** When each live worker started listening. */
  private readonly listeningSince = new Map<number, number>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private starting = true;
  private draining = false;
  private exitCode = 0;

  private constructor(private readonly config: AppConfig) {
    this.logger = pino({ level: config.logLevel }).child({ context: 'ProcessPool' });
  }

  static start(config: AppConfig): ProcessPool {
    const primary = new ProcessPool(config);
    primary.run();
    return primary;
  }

  private run(): void {
    const { webConcurrency, host, port } = this.config;
    cluster.on('listening', (worker) => this.onListening(worker));
    cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal));
    cluster.on('message', (worker, message: unknown) => this.onMessage(worker, message));
    process.on('SIGTERM', () => this.onSignal('SIGTERM'));
    process.on('SIGINT', () => this.onSignal('SIGINT'));
    this.logger.info(`Starting ${webConcurrency} HTTP worker processes on http://${host}:${port}`);
    for (let index = 0; index < webConcurrency; index += 1) this.fork();
  }

  private fork(): void {
    const worker = cluster.fork();
    this.logger.info(`Worker ${worker.process.pid} starting`);
  }

  private onListening(worker: Worker): void {
    this.listeningSince.set(worker.id, Date.now());
    this.logger.info(`Worker ${worker.process.pid} listening`);
    if (this.starting && this.listeningSince.size === this.config.webConcurrency) {
      this.starting = false;
      const { host, port, webConcurrency } = this.config;
      this.logger.info(`All ${webConcurrency} workers are serving`);
      process.stdout.write(`Sellout listening on http://${host}:${port} (${webConcurrency} worker processes)\n`);
    }
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    const since = this.listeningSince.get(worker.id);
    this.listeningSince.delete(worker.id);
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (this.draining) {
      // A worker ends its own graceful shutdown by re-raising the signal it got.
      if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGINT') this.exitCode = 1;
      this.logger.info(`Worker ${worker.process.pid} exited (${how}); ${this.liveWorkers().length} still draining`);
      if (this.liveWorkers().length === 0) this.exit();
      return;
    }
    if (this.starting) {
      this.logger.error(`Worker ${worker.process.pid} exited with ${how} while starting; stopping the service`);
      this.exitCode = 1;
      this.drain();
      return;
    }
    const delay = this.backoff.next(since === undefined ? undefined : Date.now() - since);
    this.logger.error(`Worker ${worker.process.pid} exited with ${how}; starting another ${delay === 0 ? 'now' : `in ${delay} ms`}`);
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (!this.draining) this.fork();
    }, delay);
    this.restartTimers.add(timer);
  }

  private onMessage(worker: Worker, message: unknown): void {
    if (isPoolMessage(message, 'sellout:metrics:gather')) {
      this.gatherMetrics(worker, message.requestId);
    } else if (isPoolMessage(message, 'sellout:metrics:reported')) {
      const gathering = this.gatherings.get(message.gatheringId);
      if (!gathering?.pending.delete(worker.id)) return;
      if (message.metrics) gathering.reports.push(message.metrics);
      if (gathering.pending.size === 0) this.finishGathering(message.gatheringId);
    }
  }

  /**
   * Asks every other serving worker for its metrics on behalf of `requester`. A worker that does not
   * answer within METRICS_GATHER_TIMEOUT_MS (busy, or dying) is left out of that scrape.
   */
  private gatherMetrics(requester: Worker, requestId: number): void {
    const others = this.liveWorkers().filter((worker) => worker.id !== requester.id && this.listeningSince.has(worker.id) && worker.isConnected());
    const gatheringId = ++this.lastGatheringId;
    const timer = setTimeout(() => this.finishGathering(gatheringId), METRICS_GATHER_TIMEOUT_MS);
    this.gatherings.set(gatheringId, { requester, requestId, pending: new Set(others.map((worker) => worker.id)), reports: [], timer });
    for (const worker of others) this.send(worker, { type: 'sellout:metrics:report', gatheringId });
    if (others.length === 0) this.finishGathering(gatheringId);
  }

  private finishGathering(gatheringId: number): void {
    const gathering = this.gatherings.get(gatheringId);
    if (!gathering) return;
    this.gatherings.delete(gatheringId);
    clearTimeout(gathering.timer);
    this.send(gathering.requester, { type: 'sellout:metrics:gathered', requestId: gathering.requestId, reports: gathering.reports });
  }

  private send(worker: Worker, message: PoolMessage): void {
    // A worker that died meanwhile has nobody to tell.
    if (worker.isConnected()) worker.send(message, undefined, () => undefined);
  }

  private onSignal(signal: 'SIGTERM' | 'SIGINT'): void {
    if (!this.draining) {
      this.logger.info(`${signal}: draining ${this.liveWorkers().length} workers`);
      this.drain();
      return;
    }
    this.logger.warn(`${signal} again: killing the workers still draining`);
    this.force();
  }

  private drain(): void {
    this.draining = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    const workers = this.liveWorkers();
    if (workers.length === 0) return this.exit();
    for (const worker of workers) worker.process.kill('SIGTERM');
    setTimeout(() => {
      this.logger.warn(`Workers still running ${DRAIN_TIMEOUT_MS} ms after the drain began; killing them`);
      this.force();
    }, DRAIN_TIMEOUT_MS).unref();
  }

  private force(): void {
    this.exitCode = 1;
    for (const worker of this.liveWorkers()) worker.process.kill('SIGKILL');
    // The exit events of the killed workers end the primary (see onExit).
    if (this.liveWorkers().length === 0) this.exit();
  }

  private liveWorkers(): Worker[] {
    return Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && !worker.isDead());
  }

  private exit(): void {
    this.logger.info(`Every worker has exited; exiting with code ${this.exitCode}`);
    process.exit(this.exitCode);
  }
}
