/**
 * Bounds of a sale's fields (the HTTP contract, "Sales (ops)"). Upper bounds the contract leaves open are set so that
 * every value, and `priceCents × perUserLimit`, fits the database's 32-bit integer columns.
 */
export const SALE_LIMITS = {
  textMax: 200,
  descriptionMax: 5000,
  /** 2^31 - 1 over the largest quantity one order can hold (perUserLimit ≤ 100). */
  priceCentsMax: 21_474_836,
  /** Per pool, so that adding units never overflows the database column. */
  stockMax: 1_000_000_000,
  perUserLimitMin: 1,
  perUserLimitMax: 100,
  paymentWindowSecondsMin: 5,
  paymentWindowSecondsMax: 86_400,
  defaultCurrency: 'CNY',
  defaultPerUserLimit: 1,
  defaultPaymentWindowSeconds: 900,
  defaultDurationMs: 24 * 3600_000,
} as const;

export const CURRENCY_PATTERN = /^[A-Z]{3}$/;
