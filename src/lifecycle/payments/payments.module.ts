import { Module } from '@nestjs/common';
import { PaymentLedger } from './payment-ledger.repository';
import { PAYMENT_PROVIDER } from './payment-provider';
import { TestPaymentProvider } from './test-payment.provider';

/** Provides the `PaymentProvider`; swap the `useExisting` target to plug in a real one. */
@Module({
  providers: [PaymentLedger, TestPaymentProvider, { provide: PAYMENT_PROVIDER, useExisting: TestPaymentProvider }],
  exports: [PAYMENT_PROVIDER, TestPaymentProvider, PaymentLedger],
})
export class PaymentsModule {}
