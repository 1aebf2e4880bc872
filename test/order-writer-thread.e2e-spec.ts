import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { OrderEntity } from '../src/orders/order.entity';
import { OrderWriterService } from '../src/order-writer/order-writer.service';
import { OrdersRepository } from '../src/orders/orders.repository';
import { assertInvariants, waitForOrderWriter } from './support/invariants';
import { buyerIds, openSale, purchase, reserveBuyersInRedis, seedSaleInRedis, TestSale } from './support/sales';
import { eventually } from './support/eventually';
import { createTestApp, TestApp } from './support/test-app';

/**
 * The service's default: the order writer on a worker thread of its own (ORDER_WRITER_THREAD), so that
 * the database work of persisting a sell-out stays off the event loop that serves the purchases.
 */
describe('Order writer on its own thread', () => {
  let app: TestApp;
  let insertsOnTheHttpThread: jest.SpyInstance;

  beforeAll(async () => {
    app = await createTestApp({ env: { ORDER_WRITER_THREAD: 'true' } });
    insertsOnTheHttpThread = jest.spyOn(app.app.get(OrdersRepository), 'insertIgnoringDuplicates');
  });
  afterAll(async () => {
    await app.close();
  });

  async function sellTo(buyers: string[]): Promise<{ sale: TestSale; orderIds: string[] }> {
    const sale = await seedSaleInRedis(app, { stock: buyers.length });
    await reserveBuyersInRedis(app, sale.id, buyers);
    openSale(app, sale);
    const responses = await Promise.all(buyers.map((buyer) => purchase(app, sale.id, buyer)));
    expect(responses.map((response) => response.status)).toEqual(buyers.map(() => 201));
    return { sale, orderIds: responses.map((response) => response.body.id) };
  }

  const stored = (saleId: string) => app.database.manager.find(OrderEntity, { where: { saleId } });

  /** The nice value of each thread of this process (field 19 of /proc/self/task/<tid>/stat). */
  function threadNiceValues(): number[] {
    return readdirSync('/proc/self/task').map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // The fields after the command name, which is in parentheses and may hold spaces.
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    });
  }

  const linux = process.platform === 'linux' ? it : it.skip;
  linux('runs the thread at the lowest scheduling priority (ORDER_WRITER_NICE, 19 by default), and no other thread of the service', async () => {
    // Under a stampede the writer and the HTTP thread compete for the cores; the buyers wait on the latter.
    const base = getPriority();
    expect(app.config.orderWriter.nice).toBe(19);
    await eventually(async () => threadNiceValues().filter((nice) => nice === Math.min(19, base + 19)).length === 1, { timeoutMs: 5_000, intervalMs: 20, what: 'one thread at nice 19' });
    expect(threadNiceValues().filter((nice) => nice !== base)).toEqual([Math.min(19, base + 19)]);
  });

  it('persists every accepted order exactly once, none of it on the HTTP thread', async () => {
    const writer = app.app.get(OrderWriterService);
    expect(writer.runsOnThread).toBe(true);
    expect(writer.isRunning).toBe(true);
    const { sale, orderIds } = await sellTo(buyerIds(300));
    const report = await assertInvariants(app, sale.id);
    expect(report.databaseOrders.map((order) => order.id).sort()).toEqual([...orderIds].sort());
    expect(insertsOnTheHttpThread).not.toHaveBeenCalled();
  });

  it("adds the thread's counters to the service's metrics", async () => {
    const created = async () => {
      const text = (await app.request('GET', '/metrics')).text;
      return Number(/sellout_order_writer_events_total\{type="created"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    // The thread reports every half second, and persists every indexed sale's events (other test files'
    // leftovers in this Redis too), so the count is checked from below: this test's 20 orders must show.
    const before = await created();
    const { sale } = await sellTo(buyerIds(20));
    await waitForOrderWriter(app, sale.id);
    await eventually(async () => (await created()) >= before + 20, { timeoutMs: 10_000, intervalMs: 50, what: "this test's 20 orders in the thread's count" });
  });

  it('starts another thread when its thread dies, and that one persists what arrived meanwhile, once', async () => {
    const writer = app.app.get(OrderWriterService);
    // The thread is private to the writer; a test may reach for it to kill it, as a crash would.
    const thread = (writer as unknown as { thread: { worker?: { terminate(): Promise<number>; threadId: number } } }).thread;
    const dead = thread.worker;
    expect(dead).toBeDefined();
    await dead?.terminate();
    const { sale, orderIds } = await sellTo(buyerIds(40));
    await waitForOrderWriter(app, sale.id);
    expect(thread.worker?.threadId).not.toBe(dead?.threadId);
    expect((await stored(sale.id)).map((order) => order.id).sort()).toEqual([...orderIds].sort());
  });

  it('stops after its batch in flight, and a new thread persists what arrived meanwhile, once', async () => {
    const writer = app.app.get(OrderWriterService);
    await writer.stop();
    expect(writer.isRunning).toBe(false);
    const { sale, orderIds } = await sellTo(buyerIds(50));
    expect(await stored(sale.id)).toEqual([]);
    await writer.start();
    expect(writer.isRunning).toBe(true);
    await waitForOrderWriter(app, sale.id);
    expect((await stored(sale.id)).map((order) => order.id).sort()).toEqual([...orderIds].sort());
  });
});
