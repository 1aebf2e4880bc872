import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Clock } from '../common/clock';
import { ErrorCode } from '../common/errors/error-code';
import { saleIdOfOrder } from '../common/ids';
import { SellException } from '../common/errors/sell.exception';
import { DeploymentBinding } from '../deployment/deployment-binding.service';
import { DeploymentGateway } from '../deployment/deployment.gateway';
import { OrderWriterGateway } from '../order-writer/order-writer.gateway';
import { SaleRestoreService } from './sale-restore.service';
import type { SaleEntity } from '../sales/sale.entity';
import { SalesGateway } from '../sales/sales.gateway';
import { SalesRepository } from '../sales/sales.repository';

/** How often each process looks for the deployment key (a Redis that lost its memory has none). */
const CHECK_INTERVAL_MS = 1_000;
/**
 * Before reading the database, the rebuild lets any batch the order writers read from the lost streams
 * commit, so that its orders count against the stock rebuilt. This is a grace period, not a fence: a
 * writer whose commit takes longer than this (a database slowed to a crawl) lands its batch after the
 * rebuild read, and those orders are in the database but not in the rebuilt counters (300 ms proved too
 * short once, under a fault-suite run on a loaded machine). A fence (writers holding a shared lock from
 * read to commit, the rebuild an exclusive one) would close the window entirely.
 */
const SETTLE_MS = 1_000;
/** The rebuild lock outlives a process that dies holding it by this much; another then takes over. */
const LOCK_TTL_MS = 30_000;
/** How long an id the database does not know is remembered as unknown (a sale may be created meanwhile). */
const UNKNOWN_SALE_TTL_MS = 1_000;
/**
 * How long (by the service's clock) the times read for a sale are trusted. Ops may move a sale's end
 * until it opens, from any process: a time remembered for longer once answered SALE_ENDED for a sale
 * whose end had been moved later. At most one read per sale per this interval, however hard it is hammered.
 */
const KNOWN_SALE_TTL_MS = 1_000;
/** At most one on-demand repair of one sale per this interval, however hard it is hammered. */
const REPAIR_INTERVAL_MS = 500;
const CACHE_LIMIT = 10_000;

/**
 * Rebuilds sales when Redis loses its memory under a running service (a restart without persistence, a
 * failover to an empty replica, FLUSHALL). Every process checks every second that the deployment key
 * (`<prefix>:deployment`, see DeploymentBinding) is there; a missing key means Redis lost everything.
 * One process (a Redis lock) then rebuilds from the database every sale whose orders may still change
 * (see SaleRestoreService.restoreMissing), as the boot restore does, and writes the key back; the others wait for the key. Meanwhile a request for a sale whose state is
 * missing gets `503 UNAVAILABLE`, never `404 SALE_NOT_FOUND` (`saleMissingError`), and triggers a check at
 * once. The lock only saves work: two rebuilds of one sale are safe (the `sale` hash is written last,
 * only if absent), so a sale half rebuilt never admits a purchase.
 */
@Injectable()
export class SaleRebuildService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SaleRebuildService.name);
  private readonly lockToken = randomBytes(12).toString('hex');
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private rebuildRun?: Promise<void>;
  private lost = false;
  private lostNoticedAt = 0;
  private reportedForeignBinding = false;
  /** The times of sales the database holds, and until when (the clock's time) they are trusted. */
  private readonly knownSales = new Map<string, { times: SaleTimes; until: number }>();
  /** Ids the database did not hold, until when that answer is trusted. */
  private readonly unknownSales = new Map<string, number>();
  private readonly repairs = new Map<string, number>();
  /** Database look-ups in progress: concurrent misses of one id share one query. */
  private readonly lookups = new Map<string, Promise<SaleTimes | undefined>>();
  /** Rebuilds of one sale in progress in this process: the full pass and a purchase's repair share them. */
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(
    private readonly binding: DeploymentBinding,
    private readonly deployment: DeploymentGateway,
    private readonly restore: SaleRestoreService,
    private readonly sales: SalesRepository,
    private readonly salesGateway: SalesGateway,
    private readonly orderWriter: OrderWriterGateway,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.check(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Looks for the deployment key now and rebuilds if it is gone; concurrent callers share one check. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce()
      .catch((error: unknown) => this.logger.warn(`Checking Redis for a lost keyspace failed: ${(error as Error).message}`))
      .finally(() => (this.checking = undefined));
    return this.checking;
  }

  /**
   * What to answer for a sale the admission script did not find: `404 SALE_NOT_FOUND` only when the
   * database does not hold it either; `409 SALE_ENDED` for an ended sale (its state is not rebuilt);
   * otherwise its state is missing from Redis and being rebuilt: `503 UNAVAILABLE`.
   */
  async saleMissingError(saleId: string, now: number): Promise<SellException> {
    const times = await this.timesOf(saleId);
    if (times === undefined) return new SellException(ErrorCode.SaleNotFound, `Sale ${saleId} does not exist`);
    if (now >= times.endsAt) return new SellException(ErrorCode.SaleEnded, `Sale ${saleId} ended at ${new Date(times.endsAt).toISOString()}`);
    return this.liveStateMissingError([saleId], `The live state of sale ${saleId}`);
  }

  /**
   * What to answer for an order that neither Redis nor the database holds: `404 ORDER_NOT_FOUND` when
   * nothing can bring it back (its sale is unknown, its sale's orders are final, or its sale's live state
   * is in Redis and not being rebuilt). While that state is missing, because Redis lost it (noticed yet
   * or not), the order may be in a batch an order writer read before the loss and has not committed yet:
   * `503 UNAVAILABLE`, and a check at once.
   */
  async orderMissingError(orderId: string): Promise<SellException> {
    const notFound = new SellException(ErrorCode.OrderNotFound, `Order ${orderId} does not exist`);
    const saleId = saleIdOfOrder(orderId);
    if (saleId === undefined) return notFound;
    const times = await this.timesOf(saleId);
    if (times === undefined || this.clock.now() >= times.ordersFinalAt) return notFound;
    if (!this.lost && (await this.salesGateway.saleExists(saleId))) return notFound;
    return this.liveStateMissingError([saleId], `The live state of order ${orderId}`);
  }

  /**
   * `503 UNAVAILABLE` for an answer that needs the live state of these sales, which Redis does not hold
   * while the database says their orders may still change (Redis lost it, noticed yet or not, or it went
   * by hand); each is rebuilt at once. Nothing may be answered from the database alone meanwhile: an
   * order writer may hold orders it read before the loss and has not committed.
   */
  liveStateMissingError(saleIds: string[], what: string): SellException {
    for (const saleId of saleIds) this.repairSoon(saleId);
    return SellException.unavailable(`${what} (being rebuilt)`);
  }

  private async checkOnce(): Promise<void> {
    const boundTo = await this.deployment.boundId();
    if (boundTo === this.binding.databaseId) {
      this.lost = false;
      return;
    }
    if (boundTo !== null) {
      if (!this.reportedForeignBinding) {
        this.reportedForeignBinding = true;
        this.logger.error(`REDIS_KEY_PREFIX "${this.binding.prefix}" is now bound to another database (deployment ${boundTo}); this process's DATABASE_URL is deployment ${this.binding.databaseId}. Stop one of the two deployments.`);
      }
      return;
    }
    if (!this.lost) {
      this.logger.warn("Redis has lost this deployment's keys (restarted empty or flushed): rebuilding every open sale from the database");
      this.lostNoticedAt = Date.now();
    }
    this.lost = true;
    if (this.rebuildRun || !(await this.deployment.tryLockRebuild(this.lockToken, LOCK_TTL_MS))) return;
    // Not awaited: a check stays quick (a purchase that missed its sale triggers one and repairs that sale itself).
    this.rebuildRun = this.rebuildAll()
      .catch((error: unknown) => this.logger.error({ err: error }, 'Rebuilding the sales after Redis lost its memory failed; the next check retries'))
      .finally(() => (this.rebuildRun = undefined));
  }

  private async rebuildAll(): Promise<void> {
    try {
      // Another process may have rebuilt and released the lock between this one's look and its lock.
      if ((await this.deployment.boundId()) !== null) return;
      const started = Date.now();
      await this.settled();
      const report = await this.restore.restoreMissing((sale) => this.restoreOnce(sale));
      await this.binding.bind();
      this.lost = false;
      this.logger.warn(`Rebuilt ${report.restored.length} sale(s) after Redis lost its memory, in ${Date.now() - started} ms`);
    } finally {
      await this.deployment.unlockRebuild(this.lockToken);
    }
  }

  /** Waits until SETTLE_MS have passed since the loss was noticed. */
  private async settled(): Promise<void> {
    const wait = this.lostNoticedAt + SETTLE_MS - Date.now();
    if (wait > 0) await sleep(wait);
  }

  /**
   * Rebuilds one sale a request found missing (a purchase, a payment, a read of orders), without waiting
   * for its turn in the rebuild of every sale (rebuilding a sale twice at once is safe). When only this
   * sale lost its state (the deployment key is there), only once its outbox is fully persisted, so that
   * no order still only in Redis is left out of the units sold.
   */
  private repairSoon(saleId: string): void {
    const now = Date.now();
    if ((this.repairs.get(saleId) ?? 0) > now) return;
    if (this.repairs.size > CACHE_LIMIT) this.repairs.clear();
    this.repairs.set(saleId, now + REPAIR_INTERVAL_MS);
    void this.repair(saleId).catch((error: unknown) => this.logger.warn(`Rebuilding sale ${saleId} failed: ${(error as Error).message}`));
  }

  private async repair(saleId: string): Promise<void> {
    await this.check();
    if (await this.salesGateway.saleExists(saleId)) return;
    if (this.lost) await this.settled();
    else if ((await this.orderWriter.lagOf([saleId]))[0] > 0) return;
    const sale = await this.sales.findById(saleId);
    // An ended sale too while its payment window is open: its orders are still paid, cancelled and expired.
    if (sale && saleTimes(sale).ordersFinalAt > this.clock.now() && (await this.restoreOnce(sale))) this.logger.warn(`Rebuilt the Redis state of sale ${saleId}, which was missing`);
  }

  private restoreOnce(sale: SaleEntity): Promise<boolean> {
    let running = this.inFlight.get(sale.id);
    if (!running) {
      running = this.restore.restoreSale(sale).finally(() => this.inFlight.delete(sale.id));
      this.inFlight.set(sale.id, running);
    }
    return running;
  }

  private async timesOf(saleId: string): Promise<SaleTimes | undefined> {
    const known = this.knownSales.get(saleId);
    if (known !== undefined && known.until > this.clock.now()) return known.times;
    if ((this.unknownSales.get(saleId) ?? 0) > Date.now()) return undefined;
    let lookup = this.lookups.get(saleId);
    if (!lookup) {
      lookup = this.lookUp(saleId).finally(() => this.lookups.delete(saleId));
      this.lookups.set(saleId, lookup);
    }
    return lookup;
  }

  private async lookUp(saleId: string): Promise<SaleTimes | undefined> {
    const sale = await this.sales.findById(saleId);
    if (!sale) {
      if (this.unknownSales.size > CACHE_LIMIT) this.unknownSales.clear();
      this.unknownSales.set(saleId, Date.now() + UNKNOWN_SALE_TTL_MS);
      return undefined;
    }
    const times = saleTimes(sale);
    if (this.knownSales.size > CACHE_LIMIT) this.knownSales.clear();
    this.knownSales.set(saleId, { times, until: this.clock.now() + KNOWN_SALE_TTL_MS });
    return times;
  }
}

function saleTimes(sale: SaleEntity): SaleTimes {
  return { endsAt: sale.endsAt, ordersFinalAt: sale.endsAt + sale.paymentWindowSeconds * 1000 };
}

interface SaleTimes {
  endsAt: number;
  /** When the last payment window closes: from then on no order of the sale changes, and none is added. */
  ordersFinalAt: number;
}
