import 'reflect-metadata';
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { OrderWriterService } from './order-writer.service';
import { createOrderWriterWorker } from './order-writer.module';
import type { WriterThreadMessage, WriterThreadMetrics } from './writer-thread';

/**
 * The body of the order writer's worker thread (see `WriterThread`): a standalone writer context, as
 * `npm run start:worker` runs, whose counters are sent to the service's metrics as increments.
 */
const METRICS_INTERVAL_MS = 500;

/**
 * Lowers this thread's scheduling priority alone by `increment` (ORDER_WRITER_NICE, a nice increment): on
 * Linux a thread id is a valid target of setpriority. During a stampede the writer and the HTTP thread
 * want the same cores; buyers wait on the HTTP thread, while the writer only falls behind a little and
 * catches up as the stampede ends (what it writes is already in Redis, as durable as REDIS_DURABILITY
 * makes it). Elsewhere than Linux, or where it is not permitted, the thread keeps the process's priority.
 */
function yieldToHttpThread(increment: number): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(threadId) && threadId > 0) setPriority(threadId, Math.min(19, getPriority(threadId) + increment));
  } catch {
    // No /proc/thread-self (not Linux) or not permitted.
  }
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('writer-thread.main must run as a worker thread');
  const { config } = workerData as { config: AppConfig };
  yieldToHttpThread(config.orderWriter.nice);
  // A standalone writer context runs its loop itself (createOrderWriterWorker turns ORDER_WRITER_THREAD off).
  const app = await createOrderWriterWorker(config);
  const metrics = app.get(MetricsService);
  const writer = app.get(OrderWriterService);
  const sent = { persisted: new Map<string, number>(), parked: 0, failing: false };

  const sendMetrics = async () => {
    const increments: WriterThreadMetrics = { persisted: {}, parked: 0 };
    for (const { labels, value } of (await metrics.orderWriterPersisted.get()).values) {
      const type = String(labels.type);
      const delta = value - (sent.persisted.get(type) ?? 0);
      if (delta > 0) increments.persisted[type] = delta;
      sent.persisted.set(type, value);
    }
    const parked = (await metrics.orderWriterParked.get()).values[0]?.value ?? 0;
    increments.parked = parked - sent.parked;
    sent.parked = parked;
    if (increments.parked > 0 || Object.keys(increments.persisted).length > 0) port.postMessage({ type: 'metrics', metrics: increments } satisfies WriterThreadMessage);
    // The service's /health reads the writer's state from here: the thread has no HTTP of its own.
    if (writer.isFailing !== sent.failing) {
      sent.failing = writer.isFailing;
      port.postMessage({ type: 'health', failing: sent.failing } satisfies WriterThreadMessage);
    }
  };
  const timer = setInterval(() => void sendMetrics(), METRICS_INTERVAL_MS);

  port.on('message', (message: { type: string }) => {
    if (message.type !== 'stop') return;
    clearInterval(timer);
    // The writer finishes the batch in flight (committed and acknowledged) before the context closes.
    void app
      .close()
      .then(sendMetrics)
      .finally(() => process.exit(0));
  });
  port.postMessage({ type: 'ready' } satisfies WriterThreadMessage);
}

main().catch((error: unknown) => {
  parentPort?.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) } satisfies WriterThreadMessage);
  process.exit(1);
});
