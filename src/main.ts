import 'reflect-metadata';
import cluster from 'node:cluster';
import { loadConfigOrExit } from './config/app-config';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  if (config.webConcurrency > 1 && cluster.isPrimary) {
    // The primary only supervises: it loads none of the service (see ProcessPool).
    const { ProcessPool } = await import('./process-pool/process-pool');
    ProcessPool.start(config);
    return;
  }
  const { createApp } = await import('./app.factory');
  const { beginLeaving } = await import('./common/http-edges');
  const app = await createApp(config);
  await app.listen({ port: config.port, host: config.host });
  // SIGTERM/SIGINT: keep answering for SHUTDOWN_GRACE_MS (each answer closes its connection, /health says
  // 503), then close: in-flight requests finish, the order writer commits its batch, connections close.
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    beginLeaving(app.getHttpAdapter().getInstance());
    setTimeout(() => {
      app.close().then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`Sellout did not shut down cleanly: ${error instanceof Error ? error.message : String(error)}\n`);
          process.exit(1);
        },
      );
    }, config.shutdownGraceMs);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Under a primary, the primary says it once for all its workers.
  if (cluster.isPrimary) process.stdout.write(`Sellout listening on http://${config.host}:${config.port}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`Sellout failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
