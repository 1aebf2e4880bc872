import Redis from 'ioredis';
import { createRedisClient } from '../src/redis/redis-client.factory';
import { testConfig, uniqueId } from './support/test-app';

const TIMEOUT_MS = 150;
/** Long enough to outlast the timeout by far; the test lifts the pause itself once the command failed. */
const PAUSE_MS = 5_000;

describe('Redis command timeout on the service connection', () => {
  let client: Redis;
  let admin: Redis;

  beforeAll(async () => {
    const { config } = testConfig();
    client = await createRedisClient(config.redisUrl, TIMEOUT_MS, 'sellout-test-timeout');
    admin = new Redis(config.redisUrl);
  });
  afterAll(async () => {
    await client.quit();
    await admin.quit();
  });

  it('fails a command Redis does not answer in time, and keeps later replies matched to their commands', async () => {
    const key = uniqueId('timeout:');
    await client.set(key, 'before');
    // Redis holds every client's commands for a while, as an overloaded or stalled server would.
    await admin.client('PAUSE', PAUSE_MS, 'ALL');
    let outcome: string;
    let elapsed: number;
    try {
      const started = Date.now();
      outcome = await client.incr(`${key}:count`).then(
        () => 'answered',
        (error: Error) => error.message,
      );
      elapsed = Date.now() - started;
    } finally {
      await admin.client('UNPAUSE');
    }

    expect(outcome).toBe('Command timed out');
    // Between the timeout and the timeout plus one check interval, with room for a slow machine.
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(elapsed).toBeLessThan(1_000);

    // Once Redis answers again, the stalled INCR's late reply goes to it and is dropped: the next
    // commands get their own replies, not their predecessors'.
    expect(await client.get(key)).toBe('before');
    expect(await client.incr(`${key}:count`)).toBe(2);
    await client.del(key, `${key}:count`);
  });

  it('leaves alone the commands answered in time, however many are waiting at once', async () => {
    const key = uniqueId('timeout-many:');
    const totals = await Promise.all(Array.from({ length: 2_000 }, () => client.incr(key)));
    expect(totals).toEqual(Array.from({ length: 2_000 }, (_, index) => index + 1));
    await client.del(key);
  });
});
