import { Client } from 'pg';

export default async function globalTeardown(): Promise<void> {
  if (process.env.TEST_REDIS_PID) {
    try {
      process.kill(Number(process.env.TEST_REDIS_PID), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const name = process.env.TEST_DATABASE_NAME;
  const databaseUrl = process.env.DATABASE_URL;
  if (name && databaseUrl) {
    const admin = new Client({ connectionString: databaseUrl });
    await admin.connect();
    const workers = Number(process.env.TEST_DATABASE_WORKERS ?? '1');
    for (let worker = 1; worker <= workers; worker += 1) await admin.query(`DROP DATABASE IF EXISTS ${worker === 1 ? name : `${name}_w${worker}`} WITH (FORCE)`);
    await admin.end();
  }
}
