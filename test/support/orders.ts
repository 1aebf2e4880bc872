/**
 * An order as `purchase.lua` encodes it in its reply and in its outbox event (JSON, numbers as numbers,
 * empty strings for absent values): order `o_1.s_1` of one unit, pending payment, from the general pool.
 */
export function scriptOrderJson(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: 'o_1.s_1',
    saleId: 's_1',
    userId: 'u1',
    quantity: 1,
    unitPriceCents: 100,
    amountCents: 100,
    currency: 'CNY',
    status: 'pending_payment',
    pool: 'general',
    fcodeHash: '',
    createdAt: 1,
    payBy: 2,
    paidAt: '',
    ...overrides,
  });
}
