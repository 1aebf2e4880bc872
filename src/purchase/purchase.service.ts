import { Injectable, OnModuleInit } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { AdmissionTokens } from '../admission/admission-token';
import { FcodeEligibility } from '../admission/fcode-eligibility';
import { Clock } from '../common/clock';
import { ErrorCode } from '../common/errors/error-code';
import { isInfrastructureError } from '../common/errors/infrastructure-error';
import { SellException } from '../common/errors/sell.exception';
import { newOrderId } from '../common/ids';
import { SaleChangeNotifier } from '../live/sale-change-notifier';
import { TimelineRecorder } from '../live/timeline-recorder';
import { MetricsService } from '../metrics/metrics.service';
import { OrderRecord } from '../orders/order-record';
import { OutcomeUnknownError } from '../common/errors/outcome-unknown.error';
import { RedisDurability } from '../redis/durability';
import { SaleRebuildService } from '../rebuild/sale-rebuild.service';
import { SalesGateway } from '../sales/sales.gateway';
import { PurchaseAttempt, PurchaseGateway, PurchaseOutcome } from './purchase.gateway';
import { SoldOutCache } from './sold-out-cache';

export interface PurchaseRequest {
  saleId: string;
  userId: string;
  /** The caller's address, for the F-code brute-force brake (empty for a purchase without an F-code). */
  ip: string;
  quantity: number;
  fcode?: string;
  idempotencyKey?: string;
  /** The `Admission-Token` header, if any (queue and lottery sales). */
  admissionToken?: string;
}

export interface PurchaseResult {
  order: OrderRecord;
  /** True when this answers a retry with an Idempotency-Key that was already accepted. */
  replayed: boolean;
}

const NO_LABELS: readonly string[] = [];

/** Outcome label of the purchase metric for an accepted purchase (the rest use their error code). */
const ACCEPTED = 'CREATED';

/**
 * The purchase hot path: one script call per purchase, no database access. Expected refusals come back
 * from the gateway as values and become `SellException`s only here, at the edge of the service.
 */
@Injectable()
export class PurchaseService implements OnModuleInit {
  constructor(
    private readonly gateway: PurchaseGateway,
    private readonly soldOut: SoldOutCache,
    private readonly fcodeCheck: FcodeEligibility,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
    private readonly durability: RedisDurability,
    private readonly sales: SalesGateway,
    private readonly rebuild: SaleRebuildService,
    private readonly admissionTokens: AdmissionTokens,
    private readonly timeline: TimelineRecorder,
    private readonly changes: SaleChangeNotifier,
  ) {}

  onModuleInit(): void {
    this.metrics.addCollector(() => this.collectStockRemaining());
  }

  async purchase(request: PurchaseRequest): Promise<PurchaseResult> {
    const started = performance.now();
    let outcomeLabel: string = ErrorCode.Internal;
    try {
      const result = await this.admit(request);
      outcomeLabel = result.replayed ? 'REPLAYED' : ACCEPTED;
      if (!result.replayed) this.changes.saleChanged(request.saleId);
      return result;
    } catch (error) {
      if (error instanceof SellException) outcomeLabel = error.code;
      else if (error instanceof OutcomeUnknownError) outcomeLabel = ErrorCode.OutcomeUnknown;
      else if (isInfrastructureError(error)) outcomeLabel = ErrorCode.Unavailable;
      throw error;
    } finally {
      this.metrics.purchaseOutcomes.inc([outcomeLabel]);
      this.timeline.record(request.saleId, outcomeLabel);
      this.metrics.purchaseLatency.observe(NO_LABELS, (performance.now() - started) / 1000);
    }
  }

  private async admit(request: PurchaseRequest): Promise<PurchaseResult> {
    const { saleId, userId, fcode } = request;

    if (this.soldOut.isSoldOut(saleId, fcode !== undefined) && !(await this.mayBeReplay(request))) {
      throw soldOutError(saleId);
    }

    const now = this.clock.now();
    const attempt: PurchaseAttempt = {
      saleId,
      userId,
      orderId: newOrderId(saleId, now),
      now,
      quantity: request.quantity,
      fcodeHash: undefined,
      idempotencyKey: request.idempotencyKey,
      // One HMAC in this process; the script decides whether the sale needs it, atomically with the rest.
      admitted: request.admissionToken !== undefined && this.admissionTokens.admits(request.admissionToken, saleId, userId, now),
    };
    // A plain purchase goes straight to the script (no closure here: this runs for every purchase).
    const outcome = fcode === undefined ? await this.gateway.purchase(attempt) : await this.purchaseWithFcode(attempt, request.ip, fcode);
    if (outcome.outcome === 'CREATED' || outcome.outcome === 'REPLAYED') {
      if (this.durability.waitsForReplicas) await this.durability.confirm(saleId, `The purchase (order ${outcome.order.id})`);
      return { order: outcome.order, replayed: outcome.outcome === 'REPLAYED' };
    }
    if (outcome.outcome === 'SOLD_OUT') {
      this.soldOut.recordSoldOut(saleId, outcome.generalRemaining, outcome.fcodeRemaining, outcome.stockVersion);
    }
    // Redis not knowing the sale is not the end of it: the database decides (it may be being rebuilt).
    if (outcome.outcome === 'SALE_NOT_FOUND') throw await this.rebuild.saleMissingError(saleId, now);
    throw refusalError(saleId, outcome);
  }

  /** The script call behind the F-code brute-force brake, with the code's keyed hash. */
  private purchaseWithFcode(attempt: PurchaseAttempt, ip: string, fcode: string): Promise<PurchaseOutcome> {
    return this.fcodeCheck.check(attempt.userId, ip, fcode, (fcodeHash) => this.gateway.purchase({ ...attempt, fcodeHash }), isFcodeRefused);
  }

  /**
   * With an Idempotency-Key, a sold-out sale may still owe this buyer the response to a purchase that was
   * accepted before the sell-out; one cheap EXISTS tells, and only then does the script run.
   */
  private async mayBeReplay(request: PurchaseRequest): Promise<boolean> {
    if (request.idempotencyKey === undefined) return false;
    return this.gateway.hasIdempotentResponse(request.saleId, request.userId, request.idempotencyKey);
  }

  /** Fills `sellout_stock_remaining` for sales that have not ended, and drops ended ones. */
  private async collectStockRemaining(): Promise<void> {
    for (const { saleId, remaining } of await this.sales.stockRemaining(this.clock.now())) {
      if (!remaining) {
        this.metrics.stockRemaining.remove({ sale: saleId, pool: 'general' });
        this.metrics.stockRemaining.remove({ sale: saleId, pool: 'fcode' });
        continue;
      }
      this.metrics.stockRemaining.set({ sale: saleId, pool: 'general' }, remaining.general);
      this.metrics.stockRemaining.set({ sale: saleId, pool: 'fcode' }, remaining.fcode);
    }
  }
}

function soldOutError(saleId: string, details: { field: string; message: string }[] = []): SellException {
  return new SellException(ErrorCode.SoldOut, `Sale ${saleId} is sold out`, details);
}

/** Maps every refusal of the script to its contract error. Exhaustive: a new outcome must be mapped. */
function refusalError(saleId: string, refusal: Exclude<PurchaseOutcome, { outcome: 'CREATED' | 'REPLAYED' }>): SellException {
  switch (refusal.outcome) {
    case 'SALE_NOT_FOUND':
      return new SellException(ErrorCode.SaleNotFound, `Sale ${saleId} does not exist`);
    case 'IDEMPOTENCY_KEY_REUSED':
      return new SellException(ErrorCode.IdempotencyKeyReused, 'This Idempotency-Key was already used for a different purchase request; use a new key for a new purchase', [
        { field: 'Idempotency-Key', message: 'already used with a different request body' },
      ]);
    case 'SALE_ENDED':
      return new SellException(ErrorCode.SaleEnded, `Sale ${saleId} ended at ${new Date(refusal.endsAt).toISOString()}`);
    case 'SALE_PAUSED':
      return new SellException(ErrorCode.SalePaused, `Sale ${saleId} is paused; please try again shortly`);
    case 'FCODE_INVALID':
      return new SellException(ErrorCode.FcodeInvalid, 'This F-code is not valid for this sale and buyer', [{ field: 'fcode', message: 'unknown, void, or assigned to another buyer' }]);
    case 'FCODE_EXPIRED':
      return new SellException(ErrorCode.FcodeExpired, `This F-code expired at ${new Date(refusal.expiresAt).toISOString()}`, [{ field: 'fcode', message: 'expired' }]);
    case 'FCODE_USED':
      return new SellException(ErrorCode.FcodeUsed, 'This F-code has already been redeemed', [{ field: 'fcode', message: 'already redeemed by a live order' }]);
    case 'SALE_NOT_STARTED':
      return new SellException(ErrorCode.SaleNotStarted, `Sale ${saleId} opens for you at ${new Date(refusal.opensAt).toISOString()}`);
    case 'NOT_ELIGIBLE':
      return new SellException(ErrorCode.NotEligible, `Sale ${saleId} is open to buyers with a reservation or an F-code only`);
    case 'NOT_ADMITTED':
      return new SellException(ErrorCode.NotAdmitted, `Sale ${saleId} admits buyers through its waiting room or lottery: this purchase carries no valid admission for you`, [
        { field: 'Admission-Token', message: 'missing, expired, or not issued to this buyer for this sale' },
      ]);
    case 'LIMIT_REACHED':
      return new SellException(
        ErrorCode.LimitReached,
        `This purchase would take you over the limit of ${refusal.perUserLimit} unit(s) per buyer (you hold ${refusal.held})`,
        [{ field: 'quantity', message: `at most ${Math.max(0, refusal.perUserLimit - refusal.held)} more unit(s) allowed` }],
      );
    case 'SOLD_OUT': {
      // Units may remain that are fewer than asked for; a smaller quantity may still succeed.
      return refusal.generalRemaining > 0 ? soldOutError(saleId, [{ field: 'quantity', message: 'fewer units left than requested' }]) : soldOutError(saleId);
    }
  }
}

/** A script answer that counts as a wrong F-code against the buyer and their address. */
function isFcodeRefused(outcome: PurchaseOutcome): boolean {
  return outcome.outcome === 'FCODE_INVALID';
}
