import { SaleEntity } from '../src/sales/sale.entity';
import { createTestApp, TestApp } from './support/test-app';
import { holdWriteLock } from './support/write-lock';

/**
 * Two apps on one embedded database file in one process (as two instances share a file in tests, or the
 * service and its writer thread share one): while one holds the write lock across an await, the other's
 * transaction must wait without stalling the event loop that the first needs in order to finish.
 */
const embedded = !process.env.DATABASE_URL;

(embedded ? describe : describe.skip)('The embedded database write lock, held by another connection', () => {
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    first = await createTestApp();
    second = await createTestApp({ sqliteFile: first.sqliteFile });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('is waited for without stalling the event loop, and the waiting transaction runs once it is free', async () => {
    const held = await holdWriteLock(first);

    let secondRuns = 0;
    const secondTransaction = second.database.transaction(async (manager) => {
      secondRuns += 1;
      await manager.query('UPDATE "sales" SET "paused" = "paused" WHERE 0');
      return manager.count(SaleEntity);
    });

    // The event loop still turns while the second waits: a timer fires on time, and the first commits.
    const timerStarted = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const timerLateMs = Date.now() - timerStarted - 50;
    await held.commit();

    await expect(secondTransaction).resolves.toEqual(expect.any(Number));
    expect(timerLateMs).toBeLessThan(1_000);
    expect(secondRuns).toBe(1);
  });

  it('gives up with the database\'s "busy" error when the lock stays held, and changes nothing', async () => {
    const held = await holdWriteLock(first);

    let secondRuns = 0;
    const outcome = await second.database
      .transaction(async (manager) => {
        secondRuns += 1;
        await manager.query('UPDATE "sales" SET "paused" = "paused" WHERE 0');
      })
      .then(
        () => 'committed',
        (error: { code?: string; driverError?: { code?: string } }) => error.driverError?.code ?? error.code,
      );
    await held.commit();

    expect(outcome).toBe('SQLITE_BUSY');
    expect(secondRuns).toBe(0);
  });
});
