import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { ErrorCode } from '../common/errors/error-code';
import { SellException } from '../common/errors/sell.exception';
import { ID_PATTERN, newSaleId } from '../common/ids';
import { DatabaseService } from '../database/database.service';
import type { CreateSaleDto } from './dto/create-sale.dto';
import { type SaleLiveNumbers, type SaleResponseDto, toSaleResponse } from './dto/sale-response.dto';
import { saleRuleViolations, settingsFromCreate } from './sale-rules';
import { freshCounters, saleHashFields } from './sale-redis-state';
import { SaleEntity } from './sale.entity';
import { SalesGateway } from './sales.gateway';
import { SalesRepository } from './sales.repository';

/** How long a sale row read for the public view is reused: it is polled by every waiting buyer. */
const ROW_CACHE_MS = 1000;

/**
 * Sales: creation, the public and admin views, and the lookup other features use (`getSale`). The
 * database row holds the settings; the Redis `sale` hash holds what the hot path reads and the live
 * counters (src/redis/redis-keys.ts).
 */
@Injectable()
export class SalesService {
  private readonly logger = new Logger(SalesService.name);
  private readonly rowCache = new Map<string, { sale: SaleEntity; until: number }>();

  constructor(
    private readonly database: DatabaseService,
    private readonly sales: SalesRepository,
    private readonly gateway: SalesGateway,
    private readonly clock: Clock,
  ) {}

  /** The sale's row, read now from the database; 404 SALE_NOT_FOUND when there is none. */
  async getSale(saleId: string): Promise<SaleEntity> {
    const sale = ID_PATTERN.test(saleId) ? await this.sales.findById(saleId) : null;
    if (!sale) throw notFound(saleId);
    return sale;
  }

  async create(request: CreateSaleDto): Promise<SaleResponseDto> {
    const now = this.clock.now();
    const settings = settingsFromCreate(request, now);
    const problems = saleRuleViolations(settings);
    if (problems.length > 0) throw SellException.validation(problems);

    const sale = Object.assign(new SaleEntity(), { ...settings, id: newSaleId(now), paused: false, createdAt: now, updatedAt: now });
    let redisWritten = false;
    try {
      await this.database.transaction(async (manager) => {
        await this.sales.insert(manager, sale);
        // Written before the commit: if Redis is down the row is rolled back and the caller gets 503.
        await this.gateway.initSale(sale.id, saleHashFields(sale, freshCounters(sale)));
        redisWritten = true;
      });
    } catch (error) {
      if (redisWritten) await this.compensateCreate(sale.id);
      throw error;
    }
    return this.render(sale);
  }

  /** The `Sale` JSON of a row, with its live numbers from Redis (for other features too). */
  async render(sale: SaleEntity): Promise<SaleResponseDto> {
    const [live] = await this.gateway.liveNumbers([sale.id]);
    return toSaleResponse(sale, live ?? (await this.liveNumbersWithoutRedisState(sale)), this.clock.now());
  }

  /** `GET /api/admin/sales/:saleId`: always the current row. */
  async adminView(saleId: string): Promise<SaleResponseDto> {
    return this.render(await this.getSale(saleId));
  }

  /** `GET /api/sales/:saleId`: at most one database read a second per sale, and one Redis round trip. */
  async publicView(saleId: string): Promise<SaleResponseDto> {
    return this.render(await this.cachedSale(saleId));
  }

  /** `GET /api/sales`: sales not ended, soonest start first. */
  async listNotEnded(): Promise<SaleResponseDto[]> {
    const now = this.clock.now();
    const sales = await this.sales.findNotEnded(now);
    const live = await this.gateway.liveNumbers(sales.map((sale) => sale.id));
    const items: SaleResponseDto[] = [];
    for (const [index, sale] of sales.entries()) {
      items.push(toSaleResponse(sale, live[index] ?? (await this.liveNumbersWithoutRedisState(sale)), now));
    }
    return items;
  }

  /** Forget a cached row after this process changed it (other processes see the change within a second). */
  protected forget(saleId: string): void {
    this.rowCache.delete(saleId);
  }

  private async cachedSale(saleId: string): Promise<SaleEntity> {
    const cached = this.rowCache.get(saleId);
    // Real time, not the business clock: this bounds staleness, it decides nothing about the sale.
    if (cached && cached.until > Date.now()) return cached.sale;
    const sale = await this.getSale(saleId);
    if (this.rowCache.size > 10_000) this.rowCache.clear();
    this.rowCache.set(saleId, { sale, until: Date.now() + ROW_CACHE_MS });
    return sale;
  }

  /**
   * A sale with no Redis state (ended long ago and evicted, or not yet restored): the totals of its row
   * and no live information. Shown, never written back: only the boot restore rebuilds Redis state.
   */
  private async liveNumbersWithoutRedisState(sale: SaleEntity): Promise<SaleLiveNumbers> {
    return { general: sale.stock, fcode: sale.fcodeStock, generalRemaining: 0, fcodeRemaining: 0, paused: sale.paused, reservations: 0 };
  }

  private async compensateCreate(saleId: string): Promise<void> {
    try {
      await this.gateway.removeSale(saleId);
    } catch (error) {
      this.logger.error({ err: error, saleId }, 'Could not remove the Redis state of a sale whose row was not committed');
    }
  }
}

function notFound(saleId: string): SellException {
  return new SellException(ErrorCode.SaleNotFound, `Sale ${saleId} does not exist`);
}
