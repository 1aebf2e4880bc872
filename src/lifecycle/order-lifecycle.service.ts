import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { ErrorCode } from '../common/errors/error-code';
import { OutcomeUnknownError } from '../common/errors/outcome-unknown.error';
import { SellException } from '../common/errors/sell.exception';
import { saleIdOfOrder, ulid } from '../common/ids';
import { MetricsService } from '../metrics/metrics.service';
import { RedisDurability } from '../redis/durability';
import { ChargeResult, PAYMENT_PROVIDER, PaymentMethod, PaymentOutcome, PaymentProvider } from './payments/payment-provider';
import { SaleRebuildService } from '../rebuild/sale-rebuild.service';
import { BeginPaymentOutcome, OrderLifecycleGateway, PAYMENT_LEASE_MS, ReleaseOutcome, SettlePaymentOutcome, SettlePaymentRequest } from './order-lifecycle.gateway';
import { OrderRecord } from '../orders/order-record';
import { OrdersRepository } from '../orders/orders.repository';

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

/** How often, and for how long, a settle whose outcome went unknown is sent again in the background. */
const RECONCILE_INTERVAL_MS = 1_000;
const RECONCILE_FOR_MS = PAYMENT_LEASE_MS + 60_000;

/**
 * Pays and cancels orders. The live order is in Redis (`order:<id>`), so both work as soon as the
 * purchase has returned, before the order writer has stored it. A payment is two scripts around the
 * provider call: `pay-order.lua` takes a lease that keeps the sweeper and other attempts away, and
 * `settle-payment.lua` records the outcome. Expected refusals are values until they leave this service.
 *
 * Every answer is true whatever Redis does meanwhile. Each script replays a resend of the same attempt,
 * so a lost reply is learnt by sending the call again (the gateway does); when Redis stays silent the
 * answer is `503 OUTCOME_UNKNOWN`, never "nothing changed". A charge is refunded only when the settle of
 * that very charge answered that the order moved on without it; a settle whose outcome stayed unknown is
 * sent again in the background until it is known, and refunded then if it did not pay the order.
 */
@Injectable()
export class OrderLifecycleService {
  private readonly logger = new Logger(OrderLifecycleService.name);

  constructor(
    private readonly gateway: OrderLifecycleGateway,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
    private readonly orders: OrdersRepository,
    private readonly durability: RedisDurability,
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

    let charge: ChargeResult;
    try {
      charge = await this.provider.charge({ orderId, amountCents: order.amountCents, currency: order.currency, method: request.method, outcome: request.outcome });
    } catch (error) {
      this.logger.error({ err: error, orderId }, 'The payment provider failed; the order stays payable');
      // Ends the attempt without payment so the buyer may retry now rather than after the lease.
      await this.gateway
        .settlePayment({ saleId, orderId, userId, attemptId, now: this.clock.now(), result: 'declined', reference: '', idempotencyKey: request.idempotencyKey, fingerprint })
        .catch((settleError: unknown) => this.logger.error({ err: settleError, orderId }, 'Could not end the failed payment attempt; its lease will run out'));
      throw SellException.unavailable('The payment provider');
    }

    const settleRequest: SettlePaymentRequest = {
      saleId,
      orderId,
      userId,
      attemptId,
      now: this.clock.now(),
      result: charge.ok ? 'paid' : 'declined',
      reference: charge.ok ? charge.reference : '',
      idempotencyKey: request.idempotencyKey,
      fingerprint,
    };
    let settled: SettlePaymentOutcome;
    try {
      settled = await this.gateway.settlePayment(settleRequest);
    } catch (error) {
      if (!charge.ok) {
        // Nothing was charged; the attempt's lease runs out by itself and the order stays payable.
        this.logger.warn({ err: error, orderId }, 'Could not end a declined payment attempt; its lease will run out');
        throw declined(orderId, order.payBy, charge.reason);
      }
      // The money is taken and whether it paid the order is not known: find out later, refund only then.
      this.logger.error({ err: error, orderId, reference: charge.reference }, 'A successful charge could not be recorded yet; settling it in the background');
      this.reconcileLater(settleRequest, order);
      if (error instanceof OutcomeUnknownError) throw error;
      throw new OutcomeUnknownError(`Recording the payment of order ${orderId}`, error);
    }
    switch (settled.outcome) {
      case 'PAID':
        this.metrics.orderTransitions.inc({ event: 'paid' });
        if (this.durability.waitsForReplicas) await this.durability.confirm(settled.order.saleId, `The payment of order ${orderId}`);
        return { order: settled.order, replayed: false };
      case 'DECLINED':
        this.metrics.orderTransitions.inc({ event: 'declined' });
        throw declined(orderId, settled.order.payBy, charge.ok ? 'declined' : charge.reason);
      case 'LEASE_LOST': {
        // The charge outlived its lease and the order moved on (expired, or another attempt took it).
        if (charge.ok) await this.refund(orderId, order, charge.reference, `order became ${settled.status} while the charge was in flight`);
        const money = charge.ok ? 'the charge was refunded' : 'nothing was charged';
        if (settled.status === 'expired') throw new SellException(ErrorCode.OrderExpired, `Order ${orderId} expired while the payment was in flight; ${money}`);
        // Still awaiting payment (the lease was lost with Redis's memory, or ran out and another attempt
        // was declined): this attempt changed nothing, and paying again may succeed.
        if (settled.status === 'pending_payment' || settled.status === 'missing') {
          throw new SellException(ErrorCode.Unavailable, `The payment of order ${orderId} could not be recorded and ${money}; nothing was changed, please retry`, [], { headers: { 'retry-after': '1' } });
        }
        throw new SellException(ErrorCode.OrderNotPending, `Order ${orderId} changed while the payment was in flight; ${money}`);
      }
    }
  }

  async cancel(orderId: string, userId: string): Promise<OrderRecord> {
    const saleId = this.saleIdOf(orderId);
    const released = await this.gateway.release({ saleId, orderId, mode: 'cancel', now: this.clock.now(), userId, releaseId: ulid() });
    if (released.outcome === 'ORDER_NOT_FOUND') throw await this.orderOutsideRedis(orderId, userId);
    if (released.outcome !== 'RELEASED') throw releaseRefusal(orderId, released);
    this.metrics.orderTransitions.inc({ event: released.status });
    if (this.durability.waitsForReplicas) await this.durability.confirm(saleId, `The cancellation of order ${orderId}`);
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
   * Sends a settle whose outcome went unknown again until Redis answers it (a resend is a replay, so
   * this cannot pay twice), then refunds the charge if it did not pay the order. In memory: a process
   * that dies meanwhile leaves the charge to be reconciled by its reference, which the log names.
   */
  private reconcileLater(request: SettlePaymentRequest, order: OrderRecord): void {
    const giveUpAt = Date.now() + RECONCILE_FOR_MS;
    const attempt = async () => {
      try {
        const settled = await this.gateway.settlePayment(request);
        if (settled.outcome === 'LEASE_LOST') await this.refund(request.orderId, order, request.reference, `order became ${settled.status} while the charge was in flight`);
        else this.logger.log({ orderId: request.orderId, reference: request.reference }, `The charge's settle is known now: ${settled.outcome}`);
      } catch (error) {
        if (Date.now() < giveUpAt) setTimeout(() => void attempt(), RECONCILE_INTERVAL_MS).unref();
        else this.logger.error({ err: error, orderId: request.orderId, reference: request.reference }, 'A charge could not be settled in time; reconcile it by its reference');
      }
    };
    setTimeout(() => void attempt(), RECONCILE_INTERVAL_MS).unref();
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
    const stored = await this.orders.findById(orderId);
    // Not in the database either: gone, or not stored yet while Redis has lost it.
    if (!stored) return this.rebuild.orderMissingError(orderId);
    if (stored.userId !== userId) return forbidden(orderId);
    if (stored.status === 'expired') return new SellException(ErrorCode.OrderExpired, `Order ${orderId} was not paid by ${iso(stored.payBy)} and has expired`);
    if (stored.status !== 'pending_payment') return notPending(orderId, stored.status);
    return this.rebuild.liveStateMissingError([stored.saleId], `The live state of order ${orderId}`);
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

function declined(orderId: string, payBy: number, reason: string): SellException {
  return new SellException(ErrorCode.PaymentDeclined, `The payment was declined; order ${orderId} still awaits payment until ${iso(payBy)}`, [{ field: 'payment', message: reason }]);
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
