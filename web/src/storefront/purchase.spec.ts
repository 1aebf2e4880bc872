import { ApiError, NETWORK_ERROR } from '../shared/api';
import type { Order } from '@sellout/contract';
import { newIdempotencyKey, PurchaseBody, Purchaser, PurchaseProgress } from './purchase';

function memoryStorage(): Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

function order(id: string): Order {
  return {
    id,
    saleId: 's_1',
    userId: 'alice',
    quantity: 1,
    unitPriceCents: 100,
    amountCents: 100,
    currency: 'CNY',
    status: 'pending_payment',
    pool: 'general',
    createdAt: '2026-01-01T00:00:00.000Z',
    payBy: '2026-01-01T00:15:00.000Z',
    paidAt: null,
  };
}

type Reply = Order | ApiError;

/** A server stand-in that answers from a script and records the keys it was sent. */
function scriptedServer(replies: Reply[]) {
  const sent: { body: PurchaseBody; key: string }[] = [];
  return {
    sent,
    send: async (_saleId: string, body: PurchaseBody, key: string): Promise<Order> => {
      sent.push({ body, key });
      const reply = replies.shift();
      if (reply === undefined) throw new Error('no scripted reply left');
      if (reply instanceof ApiError) throw reply;
      return reply;
    },
  };
}

function purchaserWith(server: ReturnType<typeof scriptedServer>, storage = memoryStorage()) {
  let keys = 0;
  const sleeps: number[] = [];
  const purchaser = new Purchaser({
    send: server.send,
    sleep: async (milliseconds) => void sleeps.push(milliseconds),
    newKey: () => `key-${++keys}`,
    storage,
    random: () => 0.5,
  });
  return { purchaser, sleeps, storage };
}

const networkError = () => new ApiError(0, NETWORK_ERROR, 'connection reset');
const unavailable = () => new ApiError(503, 'UNAVAILABLE', 'Redis down', [], 1);

describe('Purchaser', () => {
  describe('when the connection drops or the shop answers 503', () => {
    it('sends the same Idempotency-Key again until an answer arrives', async () => {
      const server = scriptedServer([networkError(), unavailable(), order('o_1')]);
      const { purchaser, sleeps } = purchaserWith(server);
      const progress: PurchaseProgress[] = [];
      await expect(purchaser.buy('s_1', { quantity: 1 }, { onProgress: (step) => progress.push(step) })).resolves.toMatchObject({ id: 'o_1' });
      expect(server.sent.map((request) => request.key)).toEqual(['key-1', 'key-1', 'key-1']);
      expect(sleeps).toEqual([500, 1000]);
      expect(progress.filter((step) => step.kind === 'waiting').map((step) => step.kind === 'waiting' && step.reason)).toEqual(['connection', 'busy']);
    });

    it('gives up after six tries but keeps the key, so the next click asks about the same purchase', async () => {
      const server = scriptedServer([...Array.from({ length: 6 }, networkError), order('o_1')]);
      const { purchaser } = purchaserWith(server);
      await expect(purchaser.buy('s_1', { quantity: 1 })).rejects.toMatchObject({ code: NETWORK_ERROR });
      expect(server.sent).toHaveLength(6);
      await expect(purchaser.buy('s_1', { quantity: 1 })).resolves.toMatchObject({ id: 'o_1' });
      expect(new Set(server.sent.map((request) => request.key))).toEqual(new Set(['key-1']));
    });
  });

  describe('when the shop answers 429', () => {
    it('waits as long as Retry-After says, then retries with the same key', async () => {
      const server = scriptedServer([new ApiError(429, 'RATE_LIMITED', 'slow down', [], 3), order('o_1')]);
      const { purchaser, sleeps } = purchaserWith(server);
      await expect(purchaser.buy('s_1', { quantity: 1 })).resolves.toMatchObject({ id: 'o_1' });
      expect(sleeps[0]).toBeGreaterThanOrEqual(3000);
      expect(server.sent.map((request) => request.key)).toEqual(['key-1', 'key-1']);
    });
  });

  describe('when the answer is final', () => {
    it('forgets the key after an order, so a later purchase is a new one', async () => {
      const server = scriptedServer([order('o_1'), order('o_2')]);
      const { purchaser, storage } = purchaserWith(server);
      await purchaser.buy('s_1', { quantity: 1 });
      expect(storage.items.size).toBe(0);
      await purchaser.buy('s_1', { quantity: 1 });
      expect(server.sent.map((request) => request.key)).toEqual(['key-1', 'key-2']);
    });

    it.each(['SOLD_OUT', 'LIMIT_REACHED', 'NOT_ELIGIBLE', 'SALE_PAUSED', 'FCODE_INVALID'])('does not retry %s and starts afresh next time', async (code) => {
      const server = scriptedServer([new ApiError(409, code, 'no'), order('o_1')]);
      const { purchaser, sleeps } = purchaserWith(server);
      await expect(purchaser.buy('s_1', { quantity: 1 })).rejects.toMatchObject({ code });
      expect(sleeps).toEqual([]);
      await purchaser.buy('s_1', { quantity: 1 });
      expect(server.sent.map((request) => request.key)).toEqual(['key-1', 'key-2']);
    });
  });

  describe('when Buy is clicked twice', () => {
    it('joins the running purchase instead of sending a second one', async () => {
      let release: (value: Order) => void = () => undefined;
      const sent: string[] = [];
      const purchaser = new Purchaser({
        send: (_saleId, _body, key) => {
          sent.push(key);
          return new Promise<Order>((resolve) => (release = resolve));
        },
        sleep: async () => undefined,
        newKey: () => 'only-key',
        storage: memoryStorage(),
      });
      const first = purchaser.buy('s_1', { quantity: 1 });
      const second = purchaser.buy('s_1', { quantity: 1 });
      expect(purchaser.isBuying('s_1')).toBe(true);
      release(order('o_1'));
      await expect(Promise.all([first, second])).resolves.toEqual([order('o_1'), order('o_1')]);
      expect(sent).toEqual(['only-key']);
    });
  });

  describe('when the buyer changes the purchase after a lost answer', () => {
    it('uses a new key for a different F-code or quantity, and the old key for the same request', async () => {
      const server = scriptedServer([...Array.from({ length: 6 }, networkError), order('o_1'), order('o_2')]);
      const { purchaser } = purchaserWith(server);
      await expect(purchaser.buy('s_1', { quantity: 1 })).rejects.toBeInstanceOf(ApiError);
      expect(purchaser.pendingKey('s_1', { quantity: 1 })).toBe('key-1');
      expect(purchaser.pendingKey('s_1', { quantity: 1, fcode: 'ABCD' })).toBeUndefined();
      await purchaser.buy('s_1', { quantity: 1, fcode: 'ABCD' });
      expect(server.sent[server.sent.length - 1].key).toBe('key-2');
    });
  });

  describe('when the page is reloaded with a purchase unfinished', () => {
    it('picks up the stored key', async () => {
      const storage = memoryStorage();
      const lost = scriptedServer(Array.from({ length: 6 }, networkError));
      await expect(purchaserWith(lost, storage).purchaser.buy('s_1', { quantity: 2 })).rejects.toBeInstanceOf(ApiError);
      const afterReload = scriptedServer([order('o_1')]);
      const { purchaser } = purchaserWith(afterReload, storage);
      await purchaser.buy('s_1', { quantity: 2 });
      expect(afterReload.sent[0].key).toBe('key-1');
    });
  });
});

describe(newIdempotencyKey.name, () => {
  it('makes 32 hex characters, different each time', () => {
    const keys = new Set(Array.from({ length: 100 }, newIdempotencyKey));
    expect(keys.size).toBe(100);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{32}$/);
  });
});
