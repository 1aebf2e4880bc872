import { TestPaymentProvider } from './test-payment.provider';

describe(TestPaymentProvider.name, () => {
  const request = { orderId: 'o_1.s_1', amountCents: 69_900, currency: 'CNY', method: 'test-card' as const };

  describe('when asked to succeed', () => {
    it('charges with a unique reference and remembers the charge', async () => {
      const provider = new TestPaymentProvider();

      const first = await provider.charge({ ...request, outcome: 'succeed' });
      const second = await provider.charge({ ...request, orderId: 'o_2.s_1', outcome: 'succeed' });

      expect(first).toEqual({ ok: true, reference: expect.stringMatching(/^test_[0-9a-z]{26}$/) });
      expect(second.ok && first.ok && second.reference !== first.reference).toBe(true);
      expect(provider.charges.map((charge) => charge.orderId)).toEqual(['o_1.s_1', 'o_2.s_1']);
    });
  });

  describe('when asked to decline', () => {
    it('answers a decline as a value and counts no money taken', async () => {
      const provider = new TestPaymentProvider();

      const result = await provider.charge({ ...request, outcome: 'decline' });

      expect(result).toEqual({ ok: false, reason: expect.any(String) });
      expect(provider.netChargesOf(request.orderId)).toBe(0);
    });
  });

  describe('when a charge is refunded', () => {
    it('nets it out of the order', async () => {
      const provider = new TestPaymentProvider();
      const charged = await provider.charge({ ...request, outcome: 'succeed' });
      expect(provider.netChargesOf(request.orderId)).toBe(1);

      await provider.refund({ ...request, reference: charged.ok ? charged.reference : '', reason: 'order expired' });

      expect(provider.netChargesOf(request.orderId)).toBe(0);
    });
  });
});
