import 'reflect-metadata';
import { loadConfigOrExit } from './config/app-config';
import { createOrderWriterWorker } from './order-writer/order-writer.module';
import { checkRedisTopology } from './redis/redis-client.factory';

/**
 * `npm run start:worker`: an order writer without the HTTP service, for deployments that scale the two
 * apart (run the service with ORDER_WRITER_ENABLED=false, and as many workers as needed: they share the
 * consumer group). SIGTERM/SIGINT stop it after the batch in flight.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // As the service does, before anything is built: a writer on the wrong topology would stall.
  await checkRedisTopology(config);
  await createOrderWriterWorker(config);
  process.stdout.write('Sellout order writer running\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`Sellout order writer failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
