import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { LotteryGateway } from '../admission/lottery/lottery.gateway';
import { LotteryRepository } from '../admission/lottery/lottery.repository';
import { restoreRecordedDraw } from '../admission/lottery/lottery-ranking';
import { WaitingRoomRepository } from '../admission/waiting-room/waiting-room.repository';
import { Clock } from '../common/clock';
import { isInfrastructureError } from '../common/errors/infrastructure-error';
import { FcodeRepository } from '../fcodes/fcode.repository';
import { OrdersRepository } from '../orders/orders.repository';
import { ReservationsGateway } from '../reservations/reservations.gateway';
import { ReservationsRepository } from '../reservations/reservations.repository';
import { RestoredElsewhereError, SaleRestoreGateway } from './sale-restore.gateway';
import type { SaleEntity } from '../sales/sale.entity';
import { type SaleCounters, saleHashFields, SalesGateway } from '../sales/sales.gateway';
import { SalesRepository } from '../sales/sales.repository';

/** Rows read from the database per page while rebuilding reservations and F-codes. */
const PAGE_SIZE = 10_000;
/** Retry delay when Redis or the database is down at boot. */
const RETRY_MS = 5_000;
/**
 * How long after a sale's payment window closed its state is still restored: the sweeper expires the last
 * unpaid orders at the close, and those expiries (units back, the status written to the database) must
 * not be lost with Redis's memory.
 */
const AFTER_PAYMENT_WINDOW_MS = 3_600_000;

export interface RestoreReport {
  /** Sales whose Redis state this call rebuilt. */
  restored: string[];
  /** Sales that already had their state (untouched). */
  present: number;
}

/**
 * Rebuilds the Redis state of every sale that is not over, if Redis lost it, from the database: the
 * stock counters (pool total minus units of live orders drawn from it — never the initial stock), the
 * order counters, buyers, reservations, live orders (pending ones with their deadlines), the F-codes
 * with the orders they back, a lottery's entries, ranking and rounds, and a waiting room's line. The bulk parts are written first, each only while the `sale` hash is still absent;
 * the `sale` hash comes last, atomically and only if absent (init-sale.lua). Until it exists purchases
 * answer SALE_NOT_FOUND, so no buyer ever sees half a sale, and two instances restoring at once cannot
 * both win.
 */
@Injectable()
export class SaleRestoreService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SaleRestoreService.name);
  private retryTimer?: NodeJS.Timeout;
  /** A restore tried again after boot, while it runs. */
  private retrying?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly sales: SalesRepository,
    private readonly orders: OrdersRepository,
    private readonly fcodes: FcodeRepository,
    private readonly reservations: ReservationsRepository,
    private readonly reservationsGateway: ReservationsGateway,
    private readonly salesGateway: SalesGateway,
    private readonly gateway: SaleRestoreGateway,
    private readonly lottery: LotteryRepository,
    private readonly lotteryGateway: LotteryGateway,
    private readonly waitingRoom: WaitingRoomRepository,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.restoreOrRetry();
  }

  /**
   * Before the connections close: no retry starts any more, and one under way is waited for. A retry
   * running on after its database connection closed failed ("Driver not Connected"), outside any caller.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.retrying;
  }

  /**
   * Restores every sale whose orders may still change and whose Redis state is missing (each through
   * `restoreOne`, if given): those not ended, and those ended whose payment window is open (or closed
   * less than an hour ago). An ended sale's buyers still pay and cancel, its unpaid orders still expire,
   * and the order writer and the sweeper find that work through the index of sales.
   *
   * Two passes: first every sale whose state is there is listed in the index again (two commands each),
   * then the missing ones are rebuilt (a read of all their orders and codes each). On a Redis Cluster the
   * index may lose its memory with one master while the other masters' sales keep theirs, and those are
   * back in the index, for the order writer and the sweeper, without waiting for any rebuild.
   */
  async restoreMissing(restoreOne: (sale: SaleEntity) => Promise<boolean> = (sale) => this.restoreSale(sale)): Promise<RestoreReport> {
    const report: RestoreReport = { restored: [], present: 0 };
    const missing: SaleEntity[] = [];
    for (const sale of await this.sales.findPaymentWindowOpenAt(this.clock.now() - AFTER_PAYMENT_WINDOW_MS)) {
      if (await this.indexIfPresent(sale.id)) report.present += 1;
      else missing.push(sale);
    }
    for (const sale of missing) {
      // A purchase may have repaired it since the first pass; restoreSale then lists it and says so.
      if (await restoreOne(sale)) report.restored.push(sale.id);
      else report.present += 1;
    }
    if (report.restored.length > 0) this.logger.warn(`Rebuilt the Redis state of ${report.restored.length} sale(s) from the database: ${report.restored.join(', ')}`);
    return report;
  }

  /**
   * Rebuilds one sale's state if its `sale` hash is missing; true when this call created it. A sale whose
   * state is there is listed in the index of sales again: on a Redis Cluster the index may live on a
   * master that lost its memory while the sale's own master kept it, and the order writer and the
   * sweeper find their work through the index.
   */
  async restoreSale(sale: SaleEntity): Promise<boolean> {
    if (await this.indexIfPresent(sale.id)) return false;
    try {
      return await this.rebuild(sale);
    } catch (error) {
      if (error instanceof RestoredElsewhereError) return false;
      throw error;
    }
  }

  /** Lists a sale whose state is in Redis in the index of sales again; false when its state is missing. */
  private async indexIfPresent(saleId: string): Promise<boolean> {
    if (!(await this.salesGateway.saleExists(saleId))) return false;
    await this.salesGateway.index(saleId);
    return true;
  }

  private async rebuild(sale: SaleEntity): Promise<boolean> {
    const [totals, unitsByBuyer, liveOrders] = await Promise.all([this.orders.orderTotals(sale.id), this.orders.unitsByBuyer(sale.id), this.orders.liveOrders(sale.id)]);

    for await (const page of this.reservations.pagesOfSale(sale.id, PAGE_SIZE)) {
      await this.reservationsGateway.mirror(sale.id, page.map((reservation): [string, number] => [reservation.userId, reservation.reservedAt]));
    }
    await this.gateway.restoreBuyers(sale.id, unitsByBuyer);
    await this.gateway.restoreLiveOrders(sale.id, liveOrders);
    const orderByCodeHash = new Map(liveOrders.filter((order) => order.fcodeHash).map((order) => [order.fcodeHash as string, order.id]));
    for await (const page of this.fcodes.pagesOfSale(sale.id, PAGE_SIZE)) await this.gateway.restoreFcodes(sale.id, page, orderByCodeHash);
    if (sale.admission === 'lottery') await this.restoreLottery(sale);
    if (sale.admission === 'queue') await this.restoreWaitingRoom(sale);

    const { byStatus, liveUnits } = totals;
    const counters: SaleCounters = {
      general: sale.stock,
      fcode: sale.fcodeStock,
      generalRemaining: sale.stock - liveUnits.general,
      fcodeRemaining: sale.fcodeStock - liveUnits.fcode,
      unitsSold: liveUnits.general + liveUnits.fcode,
      accepted: byStatus.pending_payment + byStatus.paid + byStatus.expired + byStatus.cancelled,
      pending_payment: byStatus.pending_payment,
      paid: byStatus.paid,
      expired: byStatus.expired,
      cancelled: byStatus.cancelled,
      fcodesRedeemed: orderByCodeHash.size,
      // Above any version announced before the loss, so that no instance ignores the next announcement.
      stockVersion: this.clock.now(),
    };
    return this.salesGateway.initSale(sale.id, saleHashFields(sale, counters));
  }

  /**
   * A lottery's entries until it is drawn; once drawn, its ranking (computed again from the recorded
   * entries and the committed seed: the same ranking, which also answers who entered) and every recorded
   * round. A draw that ranked another number of
   * entries than the record now holds is not put back: its buyers get 503 rather than another draw's
   * winners, and the error is logged. These writes need not wait for the `sale` hash to be absent: each
   * writes what the record says (a rebuild elsewhere writes the same), and the rounds only if Redis has none.
   */
  private async restoreLottery(sale: SaleEntity): Promise<void> {
    if (sale.lotteryEntryCount === null || sale.lotterySeed === null) {
      for await (const lines of this.lottery.entryPages(sale.id, true)) await this.lotteryGateway.mirrorEntries(sale.id, lines);
      return;
    }
    await restoreRecordedDraw(this.lottery, this.lotteryGateway, { id: sale.id, lotterySeed: sale.lotterySeed, lotteryEntryCount: sale.lotteryEntryCount });
  }

  /**
   * A waiting room's line: every recorded place, the admission times buyers saw, and how far admission
   * had got (the recorded count, or further up to the last buyer recorded as admitted). Admission goes on
   * from now: the time Redis was without the line earns nobody an admission, so there is no burst after
   * it, and a buyer admitted before keeps the window they were shown.
   */
  private async restoreWaitingRoom(sale: SaleEntity): Promise<void> {
    const line = { ...(await this.waitingRoom.recordedLine(sale)), now: this.clock.now() };
    for await (const page of this.waitingRoom.entryPages(sale.id, PAGE_SIZE)) await this.gateway.restoreQueue(sale.id, page, line);
  }

  /**
   * At boot: an unreachable Redis or database lets the service boot anyway (health reports the outage,
   * requests answer 503) and the restore is tried again every `RETRY_MS`; any other error fails the boot.
   * Once the service is up there is no boot to fail, so a retry logs whatever stops it and tries again.
   */
  private async restoreOrRetry(): Promise<void> {
    try {
      await this.restoreMissing();
    } catch (error) {
      if (!isInfrastructureError(error)) throw error;
      this.retryLater(error);
    }
  }

  private retryLater(error: unknown): void {
    if (this.stopping) return;
    this.logger.error({ err: error }, `Could not restore sale state; retrying in ${RETRY_MS} ms`);
    this.retryTimer = setTimeout(() => {
      this.retrying = this.restoreMissing()
        .then(
          () => undefined,
          (failure: unknown) => this.retryLater(failure),
        )
        .finally(() => (this.retrying = undefined));
    }, RETRY_MS);
    this.retryTimer.unref();
  }
}
