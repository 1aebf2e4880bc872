import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import { loadConfig } from '../config/app-config';
import { LiveGateway } from '../live/live.gateway';
import type { SaleSignal } from '../live/sale-signal';
import { RedisKeys } from '../redis/redis-keys';
import { SoldOutCache } from './sold-out-cache';

const keys = new RedisKeys('spec');

/** Only the subscriber's event side is used by the cache's flag logic under test here. */
class FakeSubscriber extends EventEmitter {
  subscribe = jest.fn(async () => 1);
}

function cacheWith(ttlMs: number): { cache: SoldOutCache; subscriber: FakeSubscriber; live: LiveGateway } {
  const subscriber = new FakeSubscriber();
  const config = loadConfig({ SOLD_OUT_FLAG_TTL_MS: String(ttlMs) });
  const live = new LiveGateway(undefined as unknown as Redis, subscriber as unknown as Redis, keys);
  const cache = new SoldOutCache(live, config);
  return { cache, subscriber, live };
}

const stock = (saleId: string, stockVersion: number): SaleSignal => ({ saleId, kind: 'stock', stockVersion });

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

  it('keeps its flags on a change notice of the live updates, which shares the channel', async () => {
    const { cache, subscriber } = cacheWith(60_000);
    await cache.onModuleInit();
    cache.recordSoldOut('s1', 0, 0, 3);
    subscriber.emit('message', keys.soldOutChannel, 's1:changed');
    expect(cache.isSoldOut('s1', false)).toBe(true);
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
  });

  it('shares the one subscription of the stock channel with the live updates', async () => {
    const { cache, subscriber, live } = cacheWith(60_000);
    const heard: SaleSignal[] = [];
    await live.onSaleSignal((signal) => heard.push(signal));
    await cache.onModuleInit();
    expect(subscriber.subscribe).toHaveBeenCalledTimes(1);
    expect(subscriber.listenerCount('message')).toBe(1);
    cache.recordSoldOut('s1', 0, 0, 3);
    subscriber.emit('message', keys.soldOutChannel, 's1:4');
    expect(cache.isSoldOut('s1', false)).toBe(false);
    expect(heard).toEqual([stock('s1', 4)]);
    live.onModuleDestroy();
    expect(subscriber.listenerCount('message')).toBe(0);
  });

  it('does not take a sold-out answer computed before an announced restock', () => {
    const { cache } = cacheWith(60_000);
    cache.onSaleSignal(stock('s1', 5));
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

  it('ignores a malformed announcement', async () => {
    const { cache, subscriber } = cacheWith(60_000);
    await cache.onModuleInit();
    cache.recordSoldOut('s1', 0, 0, 1);
    subscriber.emit('message', keys.soldOutChannel, 'garbage');
    subscriber.emit('message', keys.soldOutChannel, 's1:');
    expect(cache.isSoldOut('s1', false)).toBe(true);
  });
});
