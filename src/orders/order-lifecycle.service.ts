import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { ErrorCode } from '../common/errors/error-code';
import { isInfrastructureError } from '../common/errors/infrastructure-error';
import { SellException } from '../common/errors/sell.exception';
import { saleIdOfOrder, ulid } from '../common/ids';
import { DatabaseService } from '../database/database.service';
import { MetricsService } from '../metrics/metrics.service';
import { ChargeResult, PAYMENT_PROVIDER, PaymentMethod, PaymentOutcome, PaymentProvider } from '../payments/payment-provider';
import { SaleRebuildService } from '../sales/sale-rebuild.service';
import { BeginPaymentOutcome, OrderLifecycleGateway, ReleaseOutcome, SettlePaymentOutcome, SettlePaymentRequest } from './order-lifecycle.gateway';
import { OrderEntity } from './order.entity';
import { OrderRecord } from './order-record';

export interface PaymentRequest {
  orderId: string;
  userId: string;
  method: PaymentMethod;
  outcome: PaymentOutcome;
  idempotencyKey?: string;
}

export interface PaymentResult {
  order: OrderRecord;
  /** True when this answers a retry with an Idempotency-Key whose payment already went through. */
  replayed: boolean;
}

/** Attempts at recording a successful charge before giving up (the money is taken by then). */
const SETTLE_ATTEMPTS = 3;
const SETTLE_RETRY_DELAY_MS = 200;

/**
 * Pays and cancels orders. The live order is in Redis (`order:<id>`), so both work as soon as the
 * purchase has returned, before the order writer has stored it. A payment is two scripts around the
 * provider call: `pay-order.lua` takes a lease that keeps the sweeper and other attempts away, and
 * `settle-payment.lua` records the outcome. Expected refusals are values until they leave this service.
 */
@Injectable()
export class OrderLifecycleService {
  private readonly logger = new Logger(OrderLifecycleService.name);

  constructor(
    private readonly gateway: OrderLifecycleGateway,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
    private readonly database: DatabaseService,
    private readonly rebuild: SaleRebuildService,
  ) {}

  async pay(request: PaymentRequest): Promise<PaymentResult> {
    const { orderId, userId } = request;
    const saleId = this.saleIdOf(orderId);
    const fingerprint = paymentFingerprint(request);
    const attemptId = ulid();
    const begun = await this.gateway.beginPayment({ saleId, orderId, userId, now: this.clock.now(), attemptId, idempotencyKey: request.idempotencyKey, fingerprint });
    if (begun.outcome === 'REPLAYED') return { order: begun.order, replayed: true };
    if (begun.outcome === 'ORDER_NOT_FOUND') throw await this.orderOutsideRedis(orderId, userId);
    if (begun.outcome !== 'BEGUN') throw beginRefusal(orderId, begun);

    const order = begun.order;
    const finishAttempt = (result: SettlePaymentRequest['result'], reference: string) =>
      this.settle({ saleId, orderId, userId, attemptId, now: this.clock.now(), result, reference, idempotencyKey: request.idempotencyKey, fingerprint });

    let charge: ChargeResult;
    try {
      charge = await this.provider.charge({ orderId, amountCents: order.amountCents, currency: order.currency, method: request.method, outcome: request.outcome });
    } catch (error) {
      this.logger.error({ err: error, orderId }, 'The payment provider failed; the order stays payable');
      // Ends the attempt without payment so the buyer may retry now rather than after the lease.
      await finishAttempt('declined', '').catch((settleError: unknown) => this.logger.error({ err: settleError, orderId }, 'Could not end the failed payment attempt; its lease will run out'));
      throw SellException.unavailable('The payment provider');
    }

    const settled = await finishAttempt(charge.ok ? 'paid' : 'declined', charge.ok ? charge.reference : '');
    switch (settled.outcome) {
      case 'PAID':
        this.metrics.orderTransitions.inc({ event: 'paid' });
        return { order: settled.order, replayed: false };
      case 'DECLINED':
        this.metrics.orderTransitions.inc({ event: 'declined' });
        throw new SellException(
          ErrorCode.PaymentDeclined,
          `The payment was declined; order ${orderId} still awaits payment until ${iso(settled.order.payBy)}`,
          [{ field: 'payment', message: charge.ok ? 'declined' : charge.reason }],
        );
      case 'LEASE_LOST': {
        // The charge outlived its lease and the order moved on (expired, or another attempt took it).
        if (charge.ok) await this.refund(orderId, order, charge.reference, `order became ${settled.status} while the charge was in flight`);
        const money = charge.ok ? 'the charge was refunded' : 'nothing was charged';
        throw settled.status === 'expired'
          ? new SellException(ErrorCode.OrderExpired, `Order ${orderId} expired while the payment was in flight; ${money}`)
          : new SellException(ErrorCode.OrderNotPending, `Order ${orderId} changed while the payment was in flight; ${money}`);
      }
    }
  }

  async cancel(orderId: string, userId: string): Promise<OrderRecord> {
    const saleId = this.saleIdOf(orderId);
    const released = await this.gateway.release({ saleId, orderId, mode: 'cancel', now: this.clock.now(), userId });
    if (released.outcome === 'ORDER_NOT_FOUND') throw await this.orderOutsideRedis(orderId, userId);
    if (released.outcome !== 'RELEASED') throw releaseRefusal(orderId, released);
    this.metrics.orderTransitions.inc({ event: released.status });
    if (released.status === 'expired') {
      throw new SellException(ErrorCode.OrderExpired, `Order ${orderId} was not paid by ${iso(released.order.payBy)} and has expired; its units went back on sale`);
    }
    return released.order;
  }

  private saleIdOf(orderId: string): string {
    const saleId = saleIdOfOrder(orderId);
    if (saleId === undefined) throw orderNotFound(orderId);
    return saleId;
  }

  /**
   * Recording a taken charge matters more than answering fast: a brief Redis hiccup is retried so the
   * buyer is not left with money taken and an order that later expires.
   */
  private async settle(request: SettlePaymentRequest): Promise<SettlePaymentOutcome> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.gateway.settlePayment(request);
      } catch (error) {
        if (!isInfrastructureError(error) || attempt >= SETTLE_ATTEMPTS) {
          if (request.result === 'paid') this.logger.error({ err: error, orderId: request.orderId, reference: request.reference }, 'A successful charge could not be recorded; reconcile it by its reference');
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, SETTLE_RETRY_DELAY_MS * attempt));
      }
    }
  }

  private async refund(orderId: string, order: OrderRecord, reference: string, reason: string): Promise<void> {
    try {
      await this.provider.refund({ orderId, reference, amountCents: order.amountCents, currency: order.currency, reason });
      this.logger.warn({ orderId, reference }, `Refunded a charge: ${reason}`);
    } catch (error) {
      this.logger.error({ err: error, orderId, reference }, 'A charge whose order was not paid could not be refunded; refund it by its reference');
      throw error;
    }
  }

  /**
   * The order is not live in Redis: the database tells whether it never existed, belongs to someone
   * else, or is already final. A pending order there without its Redis state cannot be changed safely.
   */
  private async orderOutsideRedis(orderId: string, userId: string): Promise<SellException> {
    const stored = await this.database.manager.findOne(OrderEntity, { where: { id: orderId } });
    // While Redis is being rebuilt, an order not yet back in it may simply not be back yet.
    if (!stored) return this.rebuild.rebuilding ? SellException.unavailable(`The live state of order ${orderId} (being rebuilt)`) : orderNotFound(orderId);
    if (stored.userId !== userId) return forbidden(orderId);
    if (stored.status === 'expired') return new SellException(ErrorCode.OrderExpired, `Order ${orderId} was not paid by ${iso(stored.payBy)} and has expired`);
    if (stored.status !== 'pending_payment') return notPending(orderId, stored.status);
    return SellException.unavailable(`The live state of order ${orderId}`);
  }
}

/** Who pays which order how: a retry with the same Idempotency-Key must match it to be replayed. */
export function paymentFingerprint(request: Pick<PaymentRequest, 'userId' | 'orderId' | 'method' | 'outcome'>): string {
  return JSON.stringify([request.userId, request.orderId, request.method, request.outcome]);
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

function orderNotFound(orderId: string): SellException {
  return new SellException(ErrorCode.OrderNotFound, `Order ${orderId} does not exist`);
}

function forbidden(orderId: string): SellException {
  return new SellException(ErrorCode.Forbidden, `Order ${orderId} belongs to another buyer`);
}

function notPending(orderId: string, status: string): SellException {
  return new SellException(ErrorCode.OrderNotPending, `Order ${orderId} is ${status}, not awaiting payment`);
}

function inProgress(orderId: string, payingUntil: number): SellException {
  return new SellException(ErrorCode.OrderNotPending, `A payment for order ${orderId} is in progress; check the order again shortly (at the latest after ${iso(payingUntil)})`);
}

function expired(orderId: string, payBy: number): SellException {
  return new SellException(ErrorCode.OrderExpired, `Order ${orderId} had to be paid by ${iso(payBy)}; it has expired and nothing was charged`);
}

function beginRefusal(orderId: string, refusal: Exclude<BeginPaymentOutcome, { outcome: 'BEGUN' | 'REPLAYED' | 'ORDER_NOT_FOUND' }>): SellException {
  switch (refusal.outcome) {
    case 'FORBIDDEN':
      return forbidden(orderId);
    case 'IDEMPOTENCY_KEY_REUSED':
      return new SellException(ErrorCode.IdempotencyKeyReused, 'This Idempotency-Key was already used for a different payment request; use a new key for a new payment', [
        { field: 'Idempotency-Key', message: 'already used with a different request body' },
      ]);
    case 'ORDER_EXPIRED':
      return expired(orderId, refusal.payBy);
    case 'PAYMENT_IN_PROGRESS':
      return inProgress(orderId, refusal.payingUntil);
    case 'ORDER_NOT_PENDING':
      return notPending(orderId, refusal.status);
  }
}

function releaseRefusal(orderId: string, refusal: Exclude<ReleaseOutcome, { outcome: 'RELEASED' | 'ORDER_NOT_FOUND' }>): SellException {
  switch (refusal.outcome) {
    case 'FORBIDDEN':
      return forbidden(orderId);
    case 'ORDER_EXPIRED':
      return new SellException(ErrorCode.OrderExpired, `Order ${orderId} was not paid by ${iso(refusal.payBy)} and has expired`);
    case 'ORDER_NOT_PENDING':
      return notPending(orderId, refusal.status);
    case 'PAYMENT_IN_PROGRESS':
      return new SellException(ErrorCode.OrderNotPending, `Order ${orderId} is being paid and cannot be cancelled now; check it again shortly (at the latest after ${iso(refusal.payingUntil)})`);
    case 'NOT_DUE':
      // Only the sweeper's mode answers this; a cancel never does.
      throw new Error(`release-order.lua answered NOT_DUE to a cancel of ${orderId}`);
  }
}
