import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../common/clock';
import { isInfrastructureError } from '../common/errors/infrastructure-error';
import { SaleRecordsRepository } from './sale-records.repository';
import { type SaleCounters, saleHashFields } from './sale-redis-state';
import { RestoredElsewhereError, SaleRestoreGateway } from './sale-restore.gateway';
import type { SaleEntity } from './sale.entity';
import { SalesGateway } from './sales.gateway';
import { SalesRepository } from './sales.repository';

/** Rows read from the database per page while rebuilding reservations and F-codes. */
const PAGE_SIZE = 10_000;
/** Retry delay when Redis or the database is down at boot. */
const RETRY_MS = 5_000;

export interface RestoreReport {
  /** Sales whose Redis state this call rebuilt. */
  restored: string[];
  /** Sales that already had their state (untouched). */
  present: number;
}

/**
 * Rebuilds the Redis state of every sale that is not over, if Redis lost it, from the database: the
 * stock counters (pool total minus units of live orders drawn from it — never the initial stock), the
 * order counters, buyers, reservations, live orders (pending ones with their deadlines), and the F-codes
 * with the orders they back. The bulk parts are written first, each only while the `sale` hash is still absent;
 * the `sale` hash comes last, atomically and only if absent (init-sale.lua). Until it exists purchases
 * answer SALE_NOT_FOUND, so no buyer ever sees half a sale, and two instances restoring at once cannot
 * both win.
 */
@Injectable()
export class SaleRestoreService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SaleRestoreService.name);
  private retryTimer?: NodeJS.Timeout;

  constructor(
    private readonly sales: SalesRepository,
    private readonly records: SaleRecordsRepository,
    private readonly salesGateway: SalesGateway,
    private readonly gateway: SaleRestoreGateway,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.restoreOrRetry();
  }

  onApplicationShutdown(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  /** Restores every sale not ended whose Redis state is missing (each through `restoreOne`, if given). */
  async restoreMissing(restoreOne: (sale: SaleEntity) => Promise<boolean> = (sale) => this.restoreSale(sale)): Promise<RestoreReport> {
    const report: RestoreReport = { restored: [], present: 0 };
    for (const sale of await this.sales.findNotEnded(this.clock.now())) {
      if (await restoreOne(sale)) report.restored.push(sale.id);
      else report.present += 1;
    }
    if (report.restored.length > 0) this.logger.warn(`Rebuilt the Redis state of ${report.restored.length} sale(s) from the database: ${report.restored.join(', ')}`);
    return report;
  }

  /** Rebuilds one sale's state if its `sale` hash is missing; true when this call created it. */
  async restoreSale(sale: SaleEntity): Promise<boolean> {
    if (await this.salesGateway.saleExists(sale.id)) return false;
    try {
      return await this.rebuild(sale);
    } catch (error) {
      if (error instanceof RestoredElsewhereError) return false;
      throw error;
    }
  }

  private async rebuild(sale: SaleEntity): Promise<boolean> {
    const [totals, unitsByBuyer, liveOrders] = await Promise.all([this.records.orderTotals(sale.id), this.records.unitsByBuyer(sale.id), this.records.liveOrders(sale.id)]);

    for await (const page of this.records.reservationPages(sale.id, PAGE_SIZE)) {
      await this.gateway.mirrorReservations(sale.id, page.map((reservation): [string, number] => [reservation.userId, reservation.reservedAt]));
    }
    await this.gateway.restoreBuyers(sale.id, unitsByBuyer);
    await this.gateway.restoreLiveOrders(sale.id, liveOrders);
    const orderByCodeHash = new Map(liveOrders.filter((order) => order.fcodeHash).map((order) => [order.fcodeHash as string, order.id]));
    for await (const page of this.records.fcodePages(sale.id, PAGE_SIZE)) await this.gateway.restoreFcodes(sale.id, page, orderByCodeHash);

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

  private async restoreOrRetry(): Promise<void> {
    try {
      await this.restoreMissing();
    } catch (error) {
      if (!isInfrastructureError(error)) throw error;
      // Boot anyway (health reports the outage, requests answer 503) and try again shortly.
      this.logger.error({ err: error }, `Could not restore sale state at boot; retrying in ${RETRY_MS} ms`);
      this.retryTimer = setTimeout(() => void this.restoreOrRetry(), RETRY_MS);
      this.retryTimer.unref();
    }
  }
}
