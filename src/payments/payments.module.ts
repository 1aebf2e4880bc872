import { Module } from '@nestjs/common';
import { PAYMENT_PROVIDER } from './payment-provider';
import { TestPaymentProvider } from './test-payment.provider';

/** Provides the `PaymentProvider`; swap the `useExisting` target to plug in a real one. */
@Module({
  providers: [TestPaymentProvider, { provide: PAYMENT_PROVIDER, useExisting: TestPaymentProvider }],
  exports: [PAYMENT_PROVIDER, TestPaymentProvider],
})
export class PaymentsModule {}
