import type Redis from 'ioredis';
import { createRedisClient } from '../src/redis/redis-client.factory';
import { MAX_COMMANDS_PER_WRITE } from '../src/redis/write-coalescing';
import { countWrites } from './support/socket-writes';
import { testConfig, uniqueId } from './support/test-app';

describe('Redis write coalescing on the service connection', () => {
  let client: Redis;

  beforeAll(async () => {
    const { config } = testConfig();
    client = await createRedisClient(config.redisUrl, config.redisCommandTimeoutMs, 'sellout-test');
  });
  afterAll(async () => {
    await client.quit();
  });

  it('sends the commands of one event-loop turn in one write per MAX_COMMANDS_PER_WRITE, the rest at the end of the turn, and answers each of them', async () => {
    const key = uniqueId('coalesce:');
    const { writes } = countWrites(client);
    const replies = Promise.all(Array.from({ length: 50 }, (_, index) => client.incrby(key, index)));
    // The full writes leave at once, so Redis works on them while this turn goes on; the rest waits.
    expect(writes()).toBe(Math.floor(50 / MAX_COMMANDS_PER_WRITE));
    const totals = await replies;
    expect(writes()).toBe(Math.ceil(50 / MAX_COMMANDS_PER_WRITE));
    // INCRBY answers the running total: every command ran once, in the order it was sent.
    expect(totals).toEqual(Array.from({ length: 50 }, (_, index) => (index * (index + 1)) / 2));
    await client.del(key);
  });

  it('keeps commands of different turns, and a pipeline in between, in order', async () => {
    const key = uniqueId('coalesce:');
    const first = client.rpush(key, 'a');
    const pipeline = client.pipeline().rpush(key, 'b').rpush(key, 'c').exec();
    const second = client.rpush(key, 'd');
    await new Promise((resolve) => setImmediate(resolve));
    const third = client.rpush(key, 'e');
    await Promise.all([first, pipeline, second, third]);
    expect(await client.lrange(key, 0, -1)).toEqual(['a', 'b', 'c', 'd', 'e']);
    await client.del(key);
  });
});
