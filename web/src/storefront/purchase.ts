import { ApiError } from '../shared/api';
import type { Order } from '@sellout/contract';

export interface PurchaseBody {
  quantity: number;
  fcode?: string;
}

export type PurchaseProgress =
  | { kind: 'sending'; attempt: number }
  | { kind: 'waiting'; reason: 'connection' | 'busy' | 'rate_limited'; attempt: number; retryInMs: number };

export interface PurchaseDependencies {
  /** Sends the purchase once; throws `ApiError`. */
  send: (saleId: string, body: PurchaseBody, idempotencyKey: string, admissionToken?: string) => Promise<Order>;
  sleep: (milliseconds: number) => Promise<void>;
  newKey: () => string;
  /** Where the key of an unfinished purchase survives a reload (sessionStorage in the browser). */
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  random?: () => number;
}

export interface PurchaseOptions {
  onProgress?: (progress: PurchaseProgress) => void;
  /** Sales with a waiting room or a lottery: the buyer's admission token, sent as `Admission-Token`. */
  admissionToken?: string;
}

/** Connection trouble and 503: back off and send the same request again (up to 6 tries, ~30 s). */
const TRANSIENT_DELAYS_MS = [500, 1000, 2000, 4000, 8000];
/** 429: wait as told by `Retry-After`, a bounded number of times. */
const MAX_RATE_LIMIT_WAITS = 3;
const MAX_RATE_LIMIT_WAIT_MS = 30000;

interface StoredIntent {
  key: string;
  body: string;
}

/**
 * Buys with an `Idempotency-Key` that names one intended purchase: the same key goes with every retry
 * and every repeated click until the purchase is decided, so the server sells at most once however often
 * the request arrives. A different quantity or F-code is a different purchase and gets a new key. The key
 * is dropped once the answer is final (an order, or a refusal such as SOLD_OUT); it is kept while the
 * outcome is unknown (no answer, 503, 429), including across a reload of the page.
 */
export class Purchaser {
  private readonly inFlight = new Map<string, Promise<Order>>();

  constructor(private readonly dependencies: PurchaseDependencies) {}

  buy(saleId: string, body: PurchaseBody, options: PurchaseOptions = {}): Promise<Order> {
    // A second click while the first is still running joins it rather than starting another.
    const running = this.inFlight.get(saleId);
    if (running) return running;
    const attempt = this.run(saleId, body, options).finally(() => this.inFlight.delete(saleId));
    this.inFlight.set(saleId, attempt);
    return attempt;
  }

  isBuying(saleId: string): boolean {
    return this.inFlight.has(saleId);
  }

  /** The key an unfinished purchase of this body would reuse (for display and tests). */
  pendingKey(saleId: string, body: PurchaseBody): string | undefined {
    const stored = this.readIntent(saleId);
    return stored && stored.body === fingerprint(body) ? stored.key : undefined;
  }

  private async run(saleId: string, body: PurchaseBody, options: PurchaseOptions): Promise<Order> {
    const key = this.keyFor(saleId, body);
    let transientFailures = 0;
    let rateLimitWaits = 0;
    for (let attempt = 1; ; attempt += 1) {
      options.onProgress?.({ kind: 'sending', attempt });
      try {
        const order = await this.dependencies.send(saleId, body, key, options.admissionToken);
        this.forgetIntent(saleId);
        return order;
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        let waitMs: number | undefined;
        let reason: 'connection' | 'busy' | 'rate_limited' = 'connection';
        if (error.transient && transientFailures < TRANSIENT_DELAYS_MS.length) {
          waitMs = this.jitter(TRANSIENT_DELAYS_MS[transientFailures]);
          reason = error.status === 503 ? 'busy' : 'connection';
          transientFailures += 1;
        } else if (error.code === 'RATE_LIMITED' && rateLimitWaits < MAX_RATE_LIMIT_WAITS) {
          waitMs = Math.min(MAX_RATE_LIMIT_WAIT_MS, Math.max(500, (error.retryAfterSeconds ?? 1) * 1000)) + this.jitter(250);
          reason = 'rate_limited';
          rateLimitWaits += 1;
        }
        if (waitMs === undefined) {
          // A refusal is final, so the next click is a new purchase. After the retries run out the outcome
          // is unknown: the key stays, and the next click asks about this same purchase again.
          if (!error.transient && error.code !== 'RATE_LIMITED') this.forgetIntent(saleId);
          throw error;
        }
        options.onProgress?.({ kind: 'waiting', reason, attempt, retryInMs: waitMs });
        await this.dependencies.sleep(waitMs);
      }
    }
  }

  private jitter(milliseconds: number): number {
    const random = this.dependencies.random ?? Math.random;
    return Math.round(milliseconds * (0.75 + random() * 0.5));
  }

  private keyFor(saleId: string, body: PurchaseBody): string {
    const stored = this.readIntent(saleId);
    if (stored && stored.body === fingerprint(body)) return stored.key;
    const key = this.dependencies.newKey();
    this.dependencies.storage.setItem(storageKey(saleId), JSON.stringify({ key, body: fingerprint(body) } satisfies StoredIntent));
    return key;
  }

  private readIntent(saleId: string): StoredIntent | undefined {
    const raw = this.dependencies.storage.getItem(storageKey(saleId));
    if (raw === null) return undefined;
    try {
      const parsed = JSON.parse(raw) as Partial<StoredIntent>;
      return typeof parsed.key === 'string' && typeof parsed.body === 'string' ? { key: parsed.key, body: parsed.body } : undefined;
    } catch {
      return undefined;
    }
  }

  private forgetIntent(saleId: string): void {
    this.dependencies.storage.removeItem(storageKey(saleId));
  }
}

function storageKey(saleId: string): string {
  return `sellout.purchase.${saleId}`;
}

function fingerprint(body: PurchaseBody): string {
  return JSON.stringify({ quantity: body.quantity, fcode: body.fcode ?? null });
}

/** 128 random bits, hex: well inside the contract's 1–128 printable characters. */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
