/**
 * A change was sent to Redis and its outcome could not be learnt in time: it may or may not have taken
 * effect. Answered as `503 OUTCOME_UNKNOWN`; the client retries with its Idempotency-Key or reads the order.
 */
export class OutcomeUnknownError extends Error {
  constructor(what: string, cause?: unknown) {
    super(`${what}: Redis did not answer in time after the change was sent; it may have taken effect`, { cause });
    this.name = 'OutcomeUnknownError';
  }
}
