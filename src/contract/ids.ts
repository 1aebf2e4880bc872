/** Path ids (sales, orders, batches) are opaque but bounded: this is what every `:id` must match. */
export const ID_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;

/** `ID_PATTERN` in words, for API descriptions. */
export const ID_DESCRIPTION = '1-100 characters of letters, digits, _ . -';

/** The detail message of an id that does not match `ID_PATTERN`. */
export const ID_RULE = `must be ${ID_DESCRIPTION}`;

/** An `Idempotency-Key` header: 1–128 printable ASCII characters. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]{1,128}$/;

/** The detail message of an `Idempotency-Key` that does not match `IDEMPOTENCY_KEY_PATTERN`. */
export const IDEMPOTENCY_KEY_RULE = 'must be 1-128 printable ASCII characters';
