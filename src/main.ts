import 'reflect-metadata';
import { createApp } from './app.factory';
import { ConfigError, loadConfig } from './config/app-config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await createApp(config);
  await app.listen({ port: config.port, host: config.host });
  process.stdout.write(`Sellout listening on http://${config.host}:${config.port}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`Sellout failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
