import { Injectable, Optional } from '@nestjs/common';
import { ulid } from '../../common/ids';
import { PaymentLedger } from './payment-ledger.repository';
import { ChargeRequest, ChargeResult, PaymentProvider, RefundRequest } from './payment-provider';

export interface RecordedCharge extends ChargeRequest {
  result: ChargeResult;
}

/** Kept in memory for inspection (tests, rehearsals); capped so a long run cannot grow it without bound. */
const HISTORY_LIMIT = 100_000;

/**
 * The built-in provider: no money moves. A `test-card` charge succeeds unless the request asks for a
 * decline. It remembers what it was asked, so tests can prove that a refused payment charged nothing,
 * and writes each answer to the payments ledger (when there is one), as a real provider's adapter would,
 * for the end-of-sale report.
 */
@Injectable()
export class TestPaymentProvider implements PaymentProvider {
  readonly charges: RecordedCharge[] = [];
  readonly refunds: RefundRequest[] = [];

  constructor(@Optional() private readonly ledger?: PaymentLedger) {}

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    const result: ChargeResult = request.outcome === 'decline' ? { ok: false, reason: 'The test card was declined as requested' } : { ok: true, reference: `test_${ulid()}` };
    remember(this.charges, { ...request, result });
    await this.ledger?.record({
      orderId: request.orderId,
      kind: 'charge',
      outcome: result.ok ? 'succeeded' : 'declined',
      amountCents: request.amountCents,
      currency: request.currency,
      reference: result.ok ? result.reference : null,
    });
    return result;
  }

  async refund(request: RefundRequest): Promise<void> {
    remember(this.refunds, { ...request });
    await this.ledger?.record({ orderId: request.orderId, kind: 'refund', outcome: 'succeeded', amountCents: request.amountCents, currency: request.currency, reference: request.reference });
  }

  /** Successful charges of one order, net of refunds. */
  netChargesOf(orderId: string): number {
    const charged = this.charges.filter((charge) => charge.orderId === orderId && charge.result.ok).length;
    const refunded = this.refunds.filter((refund) => refund.orderId === orderId).length;
    return charged - refunded;
  }
}

function remember<T>(history: T[], entry: T): void {
  history.push(entry);
  if (history.length > HISTORY_LIMIT) history.splice(0, history.length - HISTORY_LIMIT);
}
