import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import { loadConfig } from '../config/app-config';
import { RedisKeys } from '../redis/redis-keys';
import { SoldOutCache } from './sold-out-cache';

const keys = new RedisKeys('spec');

/** Only the subscriber's event side is used by the cache's flag logic under test here. */
class FakeSubscriber extends EventEmitter {
  subscribe = jest.fn(async () => 1);
}

function cacheWith(ttlMs: number): { cache: SoldOutCache; subscriber: FakeSubscriber } {
  const subscriber = new FakeSubscriber();
  const cache = new SoldOutCache(subscriber as unknown as Redis, keys, loadConfig({ SOLD_OUT_FLAG_TTL_MS: String(ttlMs) }));
  return { cache, subscriber };
}

describe(SoldOutCache.name, () => {
  afterEach(() => jest.useRealTimers());

  it('remembers an empty general pool for buyers without a code only', () => {
    const { cache } = cacheWith(60_000);
    cache.recordSoldOut('s1', 0, 5, 1);
    expect(cache.isSoldOut('s1', false)).toBe(true);
    expect(cache.isSoldOut('s1', true)).toBe(false);
    expect(cache.isSoldOut('s2', false)).toBe(false);
  });

  it('remembers both pools empty for F-code holders too', () => {
    const { cache } = cacheWith(60_000);
    cache.recordSoldOut('s1', 0, 0, 1);
    expect(cache.isSoldOut('s1', true)).toBe(true);
  });

  it('remembers nothing when units remain that were fewer than asked for', () => {
    const { cache } = cacheWith(60_000);
    cache.recordSoldOut('s1', 1, 0, 1);
    expect(cache.isSoldOut('s1', false)).toBe(false);
  });

  it('forgets on an announcement of a newer stock version from the channel, not an older one', async () => {
    const { cache, subscriber } = cacheWith(60_000);
    await cache.onModuleInit();
    expect(subscriber.subscribe).toHaveBeenCalledWith(keys.soldOutChannel);
    cache.recordSoldOut('s1', 0, 0, 3);
    subscriber.emit('message', keys.soldOutChannel, 's1:3');
    subscriber.emit('message', 'another-channel', 's1:9');
    expect(cache.isSoldOut('s1', false)).toBe(true);
    subscriber.emit('message', keys.soldOutChannel, 's1:4');
    expect(cache.isSoldOut('s1', false)).toBe(false);
    expect(cache.isSoldOut('s1', true)).toBe(false);
    cache.onModuleDestroy();
    expect(subscriber.listenerCount('message')).toBe(0);
  });

  it('does not take a sold-out answer computed before an announced restock', () => {
    const { cache } = cacheWith(60_000);
    cache.onStockAnnouncement('s1:5');
    cache.recordSoldOut('s1', 0, 0, 4);
    expect(cache.isSoldOut('s1', false)).toBe(false);
  });

  it('stops trusting a flag after its time to live', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { cache } = cacheWith(1000);
    cache.recordSoldOut('s1', 0, 0, 1);
    jest.setSystemTime(1_000_999);
    expect(cache.isSoldOut('s1', false)).toBe(true);
    jest.setSystemTime(1_001_000);
    expect(cache.isSoldOut('s1', false)).toBe(false);
  });

  it('keeps no flags when the time to live is 0', () => {
    const { cache } = cacheWith(0);
    cache.recordSoldOut('s1', 0, 0, 1);
    expect(cache.isSoldOut('s1', false)).toBe(false);
  });

  it('ignores a malformed announcement', () => {
    const { cache } = cacheWith(60_000);
    cache.recordSoldOut('s1', 0, 0, 1);
    cache.onStockAnnouncement('garbage');
    cache.onStockAnnouncement('s1:');
    expect(cache.isSoldOut('s1', false)).toBe(true);
  });
});
