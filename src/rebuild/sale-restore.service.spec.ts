import { Logger } from '@nestjs/common';
import type { Clock } from '../common/clock';
import type { SaleEntity } from '../sales/sale.entity';
import type { SalesRepository } from '../sales/sales.repository';
import { SaleRestoreService } from './sale-restore.service';

/**
 * The boot restore's retries, on a clock the test owns: when a retry runs, and what happens to one still
 * running when the service shuts down. The first read of the database fails as an unreachable database
 * does, so nothing reaches Redis; every other collaborator is left out for that reason.
 */
const RETRY_MS = 5_000;

const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

function serviceReading(reads: (() => Promise<SaleEntity[]>)[]): { service: SaleRestoreService; readCount: () => number } {
  let count = 0;
  const sales = {
    findPaymentWindowOpenAt: () => {
      const read = reads[Math.min(count, reads.length - 1)];
      count += 1;
      return read();
    },
  } as unknown as SalesRepository;
  const clock = { now: () => 0 } as unknown as Clock;
  const none = undefined as never;
  const service = new SaleRestoreService(sales, none, none, none, none, none, none, none, none, none, clock);
  return { service, readCount: () => count };
}

describe('SaleRestoreService retries after boot', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeEach(() => {
    jest.useFakeTimers();
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('waits, before the connections close, for a retry under way, and starts none after it', async () => {
    let finishRetry: (sales: SaleEntity[]) => void = () => undefined;
    const { service, readCount } = serviceReading([() => Promise.reject(unreachable()), () => new Promise((resolve) => (finishRetry = resolve))]);
    await service.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(RETRY_MS);
    expect(readCount()).toBe(2);

    let shutDown = false;
    const shutdown = service.beforeApplicationShutdown().then(() => (shutDown = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(shutDown).toBe(false);
    finishRetry([]);
    await shutdown;
    await jest.advanceTimersByTimeAsync(3 * RETRY_MS);
    expect(readCount()).toBe(2);
  });

  it('starts no retry once shutdown has begun, even when the one under way fails', async () => {
    let failRetry: (error: Error) => void = () => undefined;
    const { service, readCount } = serviceReading([() => Promise.reject(unreachable()), () => new Promise((_, reject) => (failRetry = reject))]);
    await service.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(RETRY_MS);
    const shutdown = service.beforeApplicationShutdown();
    failRetry(unreachable());
    await shutdown;
    await jest.advanceTimersByTimeAsync(3 * RETRY_MS);
    expect(readCount()).toBe(2);
    expect(unhandled).toEqual([]);
  });

  it('logs a retry that fails for any reason and tries again, rather than rejecting where nobody listens', async () => {
    const { service, readCount } = serviceReading([() => Promise.reject(unreachable()), () => Promise.reject(new Error('Driver not Connected')), () => Promise.resolve([])]);
    await service.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(RETRY_MS);
    expect(readCount()).toBe(2);
    await jest.advanceTimersByTimeAsync(RETRY_MS);
    expect(readCount()).toBe(3);
    await jest.advanceTimersByTimeAsync(3 * RETRY_MS);
    expect(readCount()).toBe(3);
    await service.beforeApplicationShutdown();
    expect(unhandled).toEqual([]);
  });

  it('fails the boot on an error other than an unreachable Redis or database', async () => {
    const { service } = serviceReading([() => Promise.reject(new Error('column "lottery_seed" does not exist'))]);
    await expect(service.onApplicationBootstrap()).rejects.toThrow('lottery_seed');
  });
});
