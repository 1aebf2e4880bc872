import Redis, { type Command } from 'ioredis';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRedisClient } from '../src/redis/redis-client.factory';
import { uniqueId } from './support/test-app';
import { RedisServerHandle, startRedisServer } from './support/test-services';

/** Short enough to fail the paused command quickly, long enough for the test's other commands on a loaded machine. */
const TIMEOUT_MS = 500;
/** Long enough to outlast the timeout by far; the test lifts the pause itself once the command failed. */
const PAUSE_MS = 5_000;

describe('Redis command timeout on the service connection', () => {
  // A Redis of its own: pausing the run's shared Redis would stall every other test file running beside it.
  let redis: RedisServerHandle;
  let client: Redis;
  let admin: Redis;

  beforeAll(async () => {
    redis = await startRedisServer();
    client = await createRedisClient(redis.url, TIMEOUT_MS, 'sellout-test-timeout');
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    // Not QUIT: a command, it could itself time out on a busy machine (and once failed the file so).
    client.disconnect();
    admin.disconnect();
    await redis.stop();
  });

  it('fails a command Redis does not answer in time, and keeps later replies matched to their commands', async () => {
    const key = uniqueId('timeout:');
    await client.set(key, 'before');
    // Redis holds every client's writes for a while, as an overloaded or stalled server would (only writes,
    // so that the test's own UNPAUSE is answered at once).
    await admin.client('PAUSE', PAUSE_MS, 'WRITE');
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
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1_000);

    // Once Redis answers again, the stalled INCR's late reply goes to it and is dropped: the next
    // commands get their own replies, not their predecessors'.
    expect(await client.get(key)).toBe('before');
    expect(await client.incr(`${key}:count`)).toBe(2);
    await client.del(key, `${key}:count`);
  });

  it('leaves alone the commands answered in time, however many are waiting at once', async () => {
    // A timeout no busy test machine comes near: every one of these is answered in time, so none may fail.
    // The exact edges (which command fails, and when) are checked on a test-owned clock in
    // src/redis/command-timeout.spec.ts.
    const patient = await createRedisClient(redis.url, 10_000, 'sellout-test-timeout-many');
    try {
      const key = uniqueId('timeout-many:');
      const totals = await Promise.all(Array.from({ length: 2_000 }, () => patient.incr(key)));
      expect(totals).toEqual(Array.from({ length: 2_000 }, (_, index) => index + 1));
      await patient.del(key);
    } finally {
      await patient.quit();
    }
  });

  it('lets an answered command go at once, not at the watchdog\'s next pass', async () => {
    // A long timeout: the watchdog passes once a second, later than this test looks.
    const slow = await createRedisClient(redis.url, 600_000, 'sellout-test-timeout-release');
    setFlagsFromString('--expose-gc');
    const collectGarbage = runInNewContext('gc') as () => void;
    try {
      const send = slow.sendCommand.bind(slow);
      let sent: WeakRef<Command> | undefined;
      slow.sendCommand = ((command: Command, stream) => {
        sent = new WeakRef(command);
        return send(command, stream);
      }) as typeof slow.sendCommand;
      // Sent from a function of its own, so that nothing in this frame holds the command or its reply.
      await (async () => {
        expect(await slow.echo('x'.repeat(1000))).toBe('x'.repeat(1000));
      })();
      // A WeakRef keeps its target until the current job ends.
      await new Promise((resolve) => setImmediate(resolve));
      collectGarbage();
      expect(sent).toBeDefined();
      expect(sent?.deref()).toBeUndefined();
    } finally {
      slow.disconnect();
    }
  });
});
