import { Logger } from '@nestjs/common';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AppConfig } from '../config/app-config';
import type { MetricsService } from '../metrics/metrics.service';

/** Counter increments the thread's writer made since its last report. */
export interface WriterThreadMetrics {
  persisted: Record<string, number>;
  parked: number;
}

export type WriterThreadMessage =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'metrics'; metrics: WriterThreadMetrics }
  | { type: 'health'; failing: boolean };

const RESTART_DELAY_MS = 1000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * The order writer on a worker thread of the service's own process. Run inline, the writer's database
 * work shares the event loop that serves HTTP: with the embedded database that is synchronous SQLite
 * work for every order, growing with the table, during the very seconds of a sell-out. On its
 * own thread it uses the machine's other core instead. The thread runs the same writer context as
 * `npm run start:worker` (its own Redis and database connections; the consumer group makes that safe)
 * and reports its counters, which this side adds to the service's metrics. A thread that dies is
 * started again; `stop()` lets it finish the batch in flight.
 */
export class WriterThread {
  private readonly logger = new Logger('OrderWriterThread');
  private worker?: Worker;
  private stopping = false;
  private restartTimer?: NodeJS.Timeout;
  /** What the thread's writer last said of itself (`OrderWriterService.isFailing`). */
  private reportedFailing = false;

  private constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  /** Resolves once the thread's writer is running; rejects if it cannot start. */
  static async start(config: AppConfig, metrics: MetricsService): Promise<WriterThread> {
    const thread = new WriterThread(config, metrics);
    await thread.spawn();
    return thread;
  }

  /** Failing on every attempt, as the thread reports, or no thread running while one should be. */
  get isFailing(): boolean {
    return this.reportedFailing || (this.worker === undefined && !this.stopping);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'stop' });
    const timeout = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timeout);
  }

  private spawn(): Promise<void> {
    const worker = createWorker(this.config);
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: WriterThreadMessage) => {
        if (message.type === 'ready') {
          ready = true;
          resolve();
        } else if (message.type === 'metrics') {
          for (const [type, count] of Object.entries(message.metrics.persisted)) this.metrics.orderWriterPersisted.inc({ type }, count);
          if (message.metrics.parked > 0) this.metrics.orderWriterParked.inc(message.metrics.parked);
        } else if (message.type === 'health') {
          this.reportedFailing = message.failing;
        } else if (message.type === 'failed' && !ready) {
          reject(new Error(`the order writer thread failed to start: ${message.message}`));
        }
      });
      worker.on('error', (error) => {
        if (!ready) reject(error);
        else this.logger.error(`Order writer thread crashed: ${error.message}`);
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        this.reportedFailing = false;
        if (!ready) return reject(new Error(`the order writer thread exited with code ${code} while starting`));
        if (this.stopping) return;
        // Unacknowledged events stay pending in Redis; the next writer claims them.
        this.logger.error(`Order writer thread exited with code ${code}; starting another in ${RESTART_DELAY_MS} ms`);
        this.restartTimer = setTimeout(() => void this.respawn(), RESTART_DELAY_MS);
      });
    });
  }

  private async respawn(): Promise<void> {
    if (this.stopping) return;
    try {
      await this.spawn();
    } catch (error) {
      this.logger.error(`Order writer thread did not start again: ${(error as Error).message}; retrying`);
      this.restartTimer = setTimeout(() => void this.respawn(), RESTART_DELAY_MS);
    }
  }
}

/** The compiled thread file in a build; under ts-jest or ts-node, the TypeScript source through ts-node. */
function createWorker(config: AppConfig): Worker {
  const extension = extname(__filename);
  const file = join(__dirname, `writer-thread.main${extension}`);
  const workerData = { config };
  if (extension === '.ts') {
    return new Worker(`require('ts-node/register/transpile-only'); require(${JSON.stringify(file)});`, { eval: true, workerData });
  }
  return new Worker(file, { workerData });
}
