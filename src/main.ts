import 'reflect-metadata';
import { createApp } from './app.factory';
import { loadConfigOrExit } from './config/app-config';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await createApp(config);
  await app.listen({ port: config.port, host: config.host });
  process.stdout.write(`Sellout listening on http://${config.host}:${config.port}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`Sellout failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
