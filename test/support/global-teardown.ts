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
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
