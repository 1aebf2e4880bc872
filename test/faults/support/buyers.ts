import { setTimeout as sleep } from 'node:timers/promises';
import { HttpAnswer, HttpClient } from './http-client';

/**
 * The buyers of a fault scenario: each reserved buyer tries once to buy one unit with its own
 * Idempotency-Key, retrying with the same key whenever the answer leaves the outcome open; a share of
 * those who get an order then pay it or cancel it, retrying the same way. Every answer is recorded, so
 * the audit can hold each one against the database afterwards.
 */

export type Action = 'purchase' | 'pay' | 'cancel' | 'read';

/** What an answer tells the client about the change it asked for. */
export type Meaning =
  /** 2xx: done. */
  | 'done'
  /** 503 UNAVAILABLE, connection refused, 429: nothing changed, try again. */
  | 'nothing'
  /** 503 OUTCOME_UNKNOWN, or sent and no HTTP answer: it may have happened. */
  | 'unknown'
  /** Any other 4xx: refused, nothing changed. */
  | 'refused'
  /** Anything outside the contract (a 500, a 503 without a contract code, a body that is not the contract's). */
  | 'broken';

export interface RecordedAnswer {
  action: Action;
  status: number;
  code?: string;
  meaning: Meaning;
  orderId?: string;
  orderStatus?: string;
  sentAt: number;
  endedAt: number;
  /** The answer says it repeats the first answer to this Idempotency-Key (`Idempotent-Replayed: true`). */
  replayed: boolean;
  /** The first problem with the answer's shape, if it breaks the contract. */
  contractProblem?: string;
}

export type Intent = 'pay' | 'cancel' | 'keep';

export interface Buyer {
  userId: string;
  token: string;
  intent: Intent;
  /** The buyer's Idempotency-Key for the purchase, reused on every retry; some buyers send none. */
  purchaseKey?: string;
  answers: RecordedAnswer[];
  /** The order id of the first 201. */
  orderId?: string;
}

const ERROR_FIELDS = ['statusCode', 'code', 'message', 'details'];

/** A label for summaries: `201`, `409 SOLD_OUT`, `503 OUTCOME_UNKNOWN`, `no answer (ECONNRESET)`. */
export function labelOf(answer: Pick<HttpAnswer, 'status' | 'body' | 'networkError'>): string {
  if (answer.status === 0) return `no answer (${answer.networkError})`;
  if (answer.status < 400) return String(answer.status);
  const code = typeof answer.body === 'object' && answer.body !== null ? answer.body.code : undefined;
  return code ? `${answer.status} ${code}` : `${answer.status} (no code)`;
}

export function recordAnswer(action: Action, answer: HttpAnswer): RecordedAnswer {
  const body = typeof answer.body === 'object' && answer.body !== null ? answer.body : {};
  const recorded: RecordedAnswer = { action, status: answer.status, meaning: 'broken', sentAt: answer.sentAt, endedAt: answer.endedAt, replayed: answer.headers['idempotent-replayed'] === 'true' };
  if (answer.status === 0) {
    recorded.code = answer.networkError;
    // Refused connections carried no request; every other failure may have carried it.
    recorded.meaning = answer.networkError === 'ECONNREFUSED' ? 'nothing' : 'unknown';
    return recorded;
  }
  if (answer.status < 300) {
    recorded.meaning = 'done';
    recorded.orderId = typeof body.id === 'string' ? body.id : undefined;
    recorded.orderStatus = typeof body.status === 'string' ? body.status : undefined;
    return recorded;
  }
  recorded.code = typeof body.code === 'string' ? body.code : undefined;
  const missing = ERROR_FIELDS.filter((field) => !(field in body));
  if (missing.length > 0) recorded.contractProblem = `${answer.status} body lacks ${missing.join(', ')}: ${JSON.stringify(answer.body).slice(0, 120)}`;
  else if (body.statusCode !== answer.status) recorded.contractProblem = `${answer.status} body says statusCode ${body.statusCode}`;
  if (answer.status === 503 && recorded.code === 'OUTCOME_UNKNOWN') recorded.meaning = 'unknown';
  else if ((answer.status === 503 && recorded.code === 'UNAVAILABLE') || answer.status === 429) recorded.meaning = 'nothing';
  else if (answer.status >= 400 && answer.status < 500) recorded.meaning = 'refused';
  else recorded.meaning = 'broken';
  if (recorded.meaning === 'broken' && !recorded.contractProblem) recorded.contractProblem = `${answer.status} ${recorded.code ?? ''} is not a contract answer`;
  if (recorded.contractProblem) recorded.meaning = recorded.meaning === 'refused' || recorded.meaning === 'nothing' ? recorded.meaning : 'broken';
  return recorded;
}

export interface LoadOptions {
  saleId: string;
  buyers: Buyer[];
  concurrency: number;
  /** No new attempt after this many ms from the start of the load (bounded in time). */
  deadlineMs: number;
  /** Attempts per request before a buyer gives up (bounded in count). */
  maxAttempts: number;
  /** Called after each answer (the scenario uses it to start its fault at a chosen point of the sell-out). */
  onAnswer?: (buyer: Buyer, answer: RecordedAnswer) => void;
}

/** How long a buyer keeps asking for one pay or cancel. */
const CHANGE_BUDGET_MS = 8_000;

function retryDelay(answer: HttpAnswer, attempt: number): number {
  const retryAfter = Number(answer.headers['retry-after']);
  const base = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, 1000) : Math.min(100 * attempt, 500);
  return base / 2 + Math.random() * base;
}

class BuyerSession {
  constructor(
    private readonly client: HttpClient,
    private readonly options: LoadOptions,
    private readonly buyer: Buyer,
  ) {}

  private timeLeft(until = this.options.deadlineMs): boolean {
    return this.client.now() < Math.min(until, this.options.deadlineMs);
  }

  private async send(action: Action, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ raw: HttpAnswer; answer: RecordedAnswer }> {
    const raw = await this.client.request(method, path, { token: this.buyer.token, body, headers });
    const answer = recordAnswer(action, raw);
    this.buyer.answers.push(answer);
    this.options.onAnswer?.(this.buyer, answer);
    return { raw, answer };
  }

  async run(): Promise<void> {
    const created = await this.purchase();
    if (!created) return;
    if (this.buyer.intent === 'pay') await this.change('pay', { method: 'test-card' });
    if (this.buyer.intent === 'cancel') await this.change('cancel', undefined);
  }

  /**
   * Buys one unit; retries with the same key until an answer settles it (a buyer without a key retries
   * too, as a browser's user would). True when the buyer holds an order.
   */
  private async purchase(): Promise<boolean> {
    const headers: Record<string, string> = this.buyer.purchaseKey ? { 'idempotency-key': this.buyer.purchaseKey } : {};
    for (let attempt = 1; attempt <= this.options.maxAttempts && this.timeLeft(); attempt += 1) {
      const { raw, answer } = await this.send('purchase', 'POST', `/api/sales/${this.options.saleId}/purchase`, { quantity: 1 }, headers);
      if (answer.meaning === 'done') {
        this.buyer.orderId ??= answer.orderId;
        return true;
      }
      if (answer.meaning === 'refused') return false;
      await sleep(retryDelay(raw, attempt));
    }
    return false;
  }

  /**
   * Pays or cancels the order. After an answer that leaves the outcome open it reads the order, as the
   * contract tells a client to, and asks again only while the order is still pending.
   */
  private async change(action: 'pay' | 'cancel', body: unknown): Promise<void> {
    const orderId = this.buyer.orderId as string;
    const headers = action === 'pay' ? { 'idempotency-key': `pay-${this.buyer.userId}` } : undefined;
    // A payment attempt cut off by a fault holds its lease for a while; a buyer waits a bounded time for it.
    const giveUpAt = this.client.now() + CHANGE_BUDGET_MS;
    for (let attempt = 1; attempt <= this.options.maxAttempts && this.timeLeft(giveUpAt); attempt += 1) {
      const { raw, answer } = await this.send(action, 'POST', `/api/orders/${orderId}/${action}`, body, headers);
      if (answer.meaning === 'done') return;
      if (answer.meaning === 'refused' && answer.code !== 'ORDER_NOT_PENDING') return;
      if (answer.meaning === 'unknown' || answer.meaning === 'broken' || answer.code === 'ORDER_NOT_PENDING') {
        const status = await this.readOrder(orderId);
        if (status !== 'pending_payment' && status !== undefined) return;
        if (status === undefined && answer.code === 'ORDER_NOT_PENDING') return;
      }
      await sleep(retryDelay(raw, attempt));
    }
  }

  /** The order's status as the service tells it, retried while the service cannot answer (bounded). */
  private async readOrder(orderId: string): Promise<string | undefined> {
    for (let attempt = 1; attempt <= this.options.maxAttempts && this.timeLeft(); attempt += 1) {
      const { raw, answer } = await this.send('read', 'GET', `/api/orders/${orderId}`);
      if (answer.meaning === 'done') return answer.orderStatus;
      if (answer.meaning === 'refused') return undefined;
      await sleep(retryDelay(raw, attempt));
    }
    return undefined;
  }
}

/** Runs every buyer with at most `concurrency` requests in flight; resolves when all are done. */
export async function runBuyers(client: HttpClient, options: LoadOptions): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < options.buyers.length) {
      const buyer = options.buyers[next];
      next += 1;
      await new BuyerSession(client, options, buyer).run();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
}
