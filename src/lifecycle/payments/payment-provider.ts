/** Injection token of the `PaymentProvider` the order lifecycle charges through. */
export const PAYMENT_PROVIDER = Symbol('PAYMENT_PROVIDER');

/** Payment methods a provider may accept; requests name one (the test provider knows only `test-card`). */
export const PAYMENT_METHODS = ['test-card'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

/** What the buyer asks the test card to do; real providers ignore it. */
export const PAYMENT_OUTCOMES = ['succeed', 'decline'] as const;
export type PaymentOutcome = (typeof PAYMENT_OUTCOMES)[number];

export interface ChargeRequest {
  /** Also the provider-side idempotency reference: one order is never charged twice for one attempt. */
  orderId: string;
  amountCents: number;
  currency: string;
  method: PaymentMethod;
  outcome: PaymentOutcome;
}

export type ChargeResult = { ok: true; reference: string } | { ok: false; reason: string };

export interface RefundRequest {
  orderId: string;
  reference: string;
  amountCents: number;
  currency: string;
  /** Why the money goes back, for the provider's records. */
  reason: string;
}

/**
 * A payment provider. `charge` answers a decline as a value (`ok: false`) and throws only when the
 * provider cannot be reached or answers nonsense. It must answer well within the payment lease (30 s):
 * after that, the order may have expired and the charge is refunded.
 */
export interface PaymentProvider {
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /** Gives back a successful charge whose order could not be marked paid (it expired meanwhile). */
  refund(request: RefundRequest): Promise<void>;
}
