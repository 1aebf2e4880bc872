import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Clock } from '../common/clock';
import { ErrorCode } from '../common/errors/error-code';
import { isInfrastructureError } from '../common/errors/infrastructure-error';
import { isAmbiguousRedisFailure } from '../redis/command-outcome';
import { OutcomeUnknownError } from '../common/errors/outcome-unknown.error';
import { SellException } from '../common/errors/sell.exception';
import { ID_PATTERN, newSaleId } from '../common/ids';
import { SaleChangeNotifier } from '../live/sale-change-notifier';
import { DatabaseService } from '../database/database.service';
import { FcodeRepository } from '../fcodes/fcode.repository';
import { OrderWriterGateway } from '../order-writer/order-writer.gateway';
import { OrdersRepository } from '../orders/orders.repository';
import { ReservationsRepository } from '../reservations/reservations.repository';
import { type CreateSaleDto, settingsFromCreate } from './dto/create-sale.dto';
import type { ListSalesQueryDto } from './dto/list-sales-query.dto';
import { type SaleLiveNumbers, type SalePageResponseDto, type SaleResponseDto, toSaleResponse } from './dto/sale-response.dto';
import type { SaleStatsDto } from './dto/sale-stats.dto';
import type { UpdateSaleDto } from './dto/update-sale.dto';
import { epochOf } from './dto/validators';
import { type SalePhase, salePhase, saleRuleViolations, timeRuleViolations } from './sale-rules';
import { SaleEntity } from './sale.entity';
import { freshCounters, saleHashFields, SalesGateway, settingsFields, type StockAdjustment, type StockPool } from './sales.gateway';
import { type SaleArchivePosition, SalesRepository } from './sales.repository';

/** Sales per page of the admin list when the caller names no limit. */
const ARCHIVE_DEFAULT_LIMIT = 50;
/** How long a sale row read for the public view is reused: it is polled by every waiting buyer. */
const ROW_CACHE_MS = 1000;
/** Concurrent PATCHes of one sale are retried on the fresh row this many times before giving up. */
const UPDATE_ATTEMPTS = 5;
/** The database's integer column bounds each pool's total. */
const POOL_TOTAL_MAX = 2_147_483_647;

const UPDATABLE_TIMES = ['reservationOpensAt', 'reservationClosesAt', 'fcodeOpensAt', 'startsAt', 'endsAt', 'queueOpensAt', 'lotteryClosesAt'] as const;
const UPDATABLE_VALUES = [
  'name',
  'description',
  'priceCents',
  'perUserLimit',
  'reservationRequired',
  'paymentWindowSeconds',
  'admission',
  'admissionRatePerSecond',
  'admissionTtlSeconds',
  'purchaseWindowSeconds',
] as const;

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
    private readonly orders: OrdersRepository,
    private readonly fcodes: FcodeRepository,
    private readonly reservations: ReservationsRepository,
    private readonly orderWriter: OrderWriterGateway,
    private readonly clock: Clock,
    private readonly changes: SaleChangeNotifier,
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
      // The id is new and was never answered to anyone: its Redis state, if any was written, goes again.
      if (mayHaveWritten(redisWritten, error)) await this.compensate(sale.id, 'creation', () => this.gateway.removeSale(sale.id));
      throw error;
    }
    return this.renderCommitted(sale);
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
    return this.render(await this.getSaleCached(saleId));
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

  /**
   * `GET /api/admin/sales`: every sale, ended ones included, newest `startsAt` first. The database narrows
   * by phase as far as the row allows; `live` and `sold_out` differ only in the stock Redis holds, so each
   * candidate's phase is checked on its rendered view, reading further candidates until the page is full.
   * One sale more than the page is looked for, so `nextCursor` is null exactly on the last page.
   */
  async listForAdmin(query: ListSalesQueryDto): Promise<SalePageResponseDto> {
    const limit = query.limit === undefined ? ARCHIVE_DEFAULT_LIMIT : Number(query.limit);
    const phases = query.phase === undefined ? undefined : new Set(query.phase.split(',') as SalePhase[]);
    let after = query.cursor === undefined ? undefined : decodeArchiveCursor(query.cursor);
    const text = query.q?.toLowerCase();
    const now = this.clock.now();
    const items: SaleResponseDto[] = [];
    for (;;) {
      const candidates = await this.sales.findArchivePage({ phases: phases && [...phases], text, after, now, limit: limit + 1 });
      const live = await this.gateway.liveNumbers(candidates.map((sale) => sale.id));
      for (const [index, sale] of candidates.entries()) {
        const view = toSaleResponse(sale, live[index] ?? (await this.liveNumbersWithoutRedisState(sale)), now);
        if (phases === undefined || phases.has(view.phase)) items.push(view);
        if (items.length > limit) {
          const last = items[limit - 1];
          return { items: items.slice(0, limit), nextCursor: encodeArchiveCursor({ startsAt: Date.parse(last.startsAt), id: last.id }) };
        }
      }
      if (candidates.length <= limit) return { items, nextCursor: null };
      const last = candidates[candidates.length - 1];
      after = { startsAt: last.startsAt, id: last.id };
    }
  }

  /**
   * `PATCH /api/admin/sales/:saleId`: refused with SALE_LOCKED from `fcodeOpensAt` on. The merged sale is
   * validated as a whole and written with a compare-and-set on the times it was validated against, so two
   * concurrent PATCHes can never combine into a sale neither of them validated (the loser re-validates on
   * the new row). Redis gets only the fields this request named: the row lock orders the transactions, so
   * the hash ends with the same values as the row even when PATCHes of different fields overlap.
   */
  async update(saleId: string, request: UpdateSaleDto): Promise<SaleResponseDto> {
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt += 1) {
      const sale = await this.getSale(saleId);
      const now = this.clock.now();
      if (now >= sale.fcodeOpensAt) {
        throw new SellException(ErrorCode.SaleLocked, `Sale ${saleId} can no longer be changed: F-code holders may buy since ${new Date(sale.fcodeOpensAt).toISOString()}`);
      }
      const changes: Partial<SaleEntity> = {};
      for (const field of UPDATABLE_TIMES) if (request[field] !== undefined) changes[field] = epochOf(request[field]);
      for (const field of UPDATABLE_VALUES) if (request[field] !== undefined) Object.assign(changes, { [field]: request[field] });
      const updated = Object.assign(new SaleEntity(), sale, changes, { updatedAt: now });
      const problems = timeRuleViolations(updated);
      if (problems.length > 0) throw SellException.validation(problems);

      const hashFields = namedHashFields(request);
      const previousFields = pick(settingsFields(sale), hashFields);
      let redisWritten = false;
      try {
        const written = await this.database.transaction(async (manager) => {
          if (!(await this.sales.updateIfTimesUnchanged(manager, sale, { ...changes, updatedAt: now }))) return false;
          await this.writeSettings(saleId, pick(settingsFields(updated), hashFields));
          redisWritten = true;
          return true;
        });
        if (!written) continue;
      } catch (error) {
        if (mayHaveWritten(redisWritten, error)) await this.undoOrOwnUp(error, saleId, 'settings', () => this.gateway.updateSettings(saleId, previousFields));
        throw error;
      }
      this.forget(saleId);
      return this.renderCommitted(updated);
    }
    throw new SellException(ErrorCode.Unavailable, `Sale ${saleId} is being changed by others at the same time; nothing was changed, please retry`);
  }

  /** `POST /api/admin/sales/:saleId/pause` and `/resume`. */
  async setPaused(saleId: string, paused: boolean): Promise<SaleResponseDto> {
    const sale = await this.getSale(saleId);
    const now = this.clock.now();
    let redisWritten = false;
    try {
      await this.database.transaction(async (manager) => {
        await this.sales.setPaused(manager, saleId, paused, now);
        await this.writeSettings(saleId, { paused: paused ? 1 : 0 });
        redisWritten = true;
      });
    } catch (error) {
      if (mayHaveWritten(redisWritten, error)) await this.undoOrOwnUp(error, saleId, 'pause flag', () => this.gateway.updateSettings(saleId, { paused: sale.paused ? 1 : 0 }));
      throw error;
    }
    this.forget(saleId);
    return this.renderCommitted(Object.assign(new SaleEntity(), sale, { paused, updatedAt: now }));
  }

  /**
   * `POST /api/admin/sales/:saleId/stock`. Redis decides (atomically, clamping a removal to the unsold
   * units); the row's total follows by the same signed amount inside one transaction. The change is
   * relative, so concurrent adjustments commute and the row and the hash agree whatever order they commit
   * in. If the commit fails, the Redis change is undone.
   */
  async adjustStock(saleId: string, pool: StockPool, add: number): Promise<SaleResponseDto> {
    const sale = await this.getSale(saleId);
    const now = this.clock.now();
    let adjustment: StockAdjustment | undefined;
    try {
      await this.database.transaction(async (manager) => {
        adjustment = await this.gateway.adjustStock(saleId, pool, add, POOL_TOTAL_MAX, randomUUID());
        if (adjustment.outcome === 'SALE_NOT_FOUND') throw missingRedisState(saleId);
        if (adjustment.outcome === 'OVER_CAPACITY') {
          throw SellException.validation([{ field: 'add', message: `the ${pool} pool holds ${adjustment.total} units in total and may not exceed ${POOL_TOTAL_MAX}` }]);
        }
        if (adjustment.applied !== 0) await this.sales.addToPool(manager, saleId, pool, adjustment.applied, now);
      });
    } catch (error) {
      // Unanswered after every resend (OutcomeUnknownError): Redis may have made the change, by an amount
      // nobody knows, so there is nothing to undo and the answer says so.
      const applied = adjustment?.outcome === 'ADJUSTED' ? adjustment.applied : 0;
      if (applied !== 0) await this.undoOrOwnUp(error, saleId, 'stock change', () => this.undoStockChange(saleId, pool, applied));
      throw error;
    }
    this.forget(saleId);
    return this.renderCommitted(sale);
  }

  /** `GET /api/admin/sales/:saleId/stats`. */
  async stats(saleId: string): Promise<SaleStatsDto> {
    const stats = await this.statsIfLive(await this.getSale(saleId));
    if (!stats) throw missingRedisState(saleId);
    return stats;
  }

  /** The stats of a sale, or undefined when Redis holds no state for it (for readers that can do without). */
  async statsIfLive(sale: SaleEntity): Promise<SaleStatsDto | undefined> {
    const saleId = sale.id;
    const [counters, [live], backlog, persisted, issued] = await Promise.all([
      this.gateway.counters(saleId),
      this.gateway.liveNumbers([saleId]),
      this.orderWriter.backlog(saleId),
      this.orders.countBySale(saleId),
      this.fcodes.countBySale(saleId),
    ]);
    if (!counters || !live) return undefined;
    const now = this.clock.now();
    return {
      saleId,
      phase: salePhase({ ...sale, paused: live.paused, generalRemaining: counters.generalRemaining, fcodeRemaining: counters.fcodeRemaining }, now),
      stock: { general: counters.general, fcode: counters.fcode, generalRemaining: counters.generalRemaining, fcodeRemaining: counters.fcodeRemaining },
      unitsSold: counters.unitsSold,
      reservations: live.reservations,
      orders: { pending_payment: counters.pending_payment, paid: counters.paid, expired: counters.expired, cancelled: counters.cancelled, persisted },
      fcodes: { issued, redeemed: counters.fcodesRedeemed },
      accepted: counters.accepted,
      stockEquationHolds: counters.general + counters.fcode - counters.generalRemaining - counters.fcodeRemaining === counters.unitsSold,
      orderWriter: backlog,
    };
  }

  /**
   * Forget a cached row after this process changed it (other processes see the change within a second),
   * and tell the live-update streams of every process.
   */
  protected forget(saleId: string): void {
    this.rowCache.delete(saleId);
    this.changes.saleChanged(saleId);
  }

  /**
   * The sale's row, reused for up to a second per process (this process's own changes are seen at
   * once): for reads that are hot and tolerate a second of staleness from other instances.
   */
  async getSaleCached(saleId: string): Promise<SaleEntity> {
    const cached = this.rowCache.get(saleId);
    // Real time, not the business clock: this bounds staleness, it decides nothing about the sale.
    if (cached && cached.until > Date.now()) return cached.sale;
    const sale = await this.getSale(saleId);
    if (this.rowCache.size > 10_000) this.rowCache.clear();
    this.rowCache.set(saleId, { sale, until: Date.now() + ROW_CACHE_MS });
    return sale;
  }

  /**
   * The numbers of a sale with no Redis state (an ended sale whose keys were removed, or one Redis lost
   * and the boot restore has not rebuilt), derived from the database as the restore would. Shown, never
   * written back: only the restore creates a sale's Redis state.
   */
  private async liveNumbersWithoutRedisState(sale: SaleEntity): Promise<SaleLiveNumbers> {
    const [totals, reservations] = await Promise.all([this.orders.orderTotals(sale.id), this.reservations.count(sale.id)]);
    return {
      general: sale.stock,
      fcode: sale.fcodeStock,
      generalRemaining: Math.max(0, sale.stock - totals.liveUnits.general),
      fcodeRemaining: Math.max(0, sale.fcodeStock - totals.liveUnits.fcode),
      paused: sale.paused,
      reservations,
    };
  }

  private async writeSettings(saleId: string, fields: Record<string, string | number>): Promise<void> {
    if (!(await this.gateway.updateSettings(saleId, fields))) throw missingRedisState(saleId);
  }

  private async undoStockChange(saleId: string, pool: StockPool, applied: number): Promise<void> {
    const undo = await this.gateway.adjustStock(saleId, pool, -applied, POOL_TOTAL_MAX, randomUUID());
    if (undo.outcome === 'ADJUSTED' && undo.applied !== -applied) {
      // Added units were sold before the undo ran: Redis now holds more than the row says.
      this.logger.error({ saleId, pool, applied, undone: -undo.applied }, 'A stock change could only be partly undone; the sale row total differs from Redis');
    }
  }

  /**
   * Undoes a Redis change whose database transaction did not commit; a failure here is logged loudly.
   * True when undone (or when there was nothing to undo).
   */
  private async compensate(saleId: string, what: string, undo: () => Promise<unknown>): Promise<boolean> {
    try {
      await undo();
      return true;
    } catch (error) {
      this.logger.error({ err: error, saleId }, `Could not undo the Redis side of a sale ${what} whose database write did not commit`);
      return false;
    }
  }

  /**
   * After a change that did not commit: undoes its Redis side, so that `503 UNAVAILABLE` ("nothing
   * changed") is true. When the undo fails too, Redis may keep the change, and the answer must say that:
   * throws OutcomeUnknownError. Returns (for the caller to rethrow its error) only when the undo worked.
   */
  private async undoOrOwnUp(error: unknown, saleId: string, what: string, undo: () => Promise<unknown>): Promise<void> {
    if (await this.compensate(saleId, what, undo)) {
      if (error instanceof OutcomeUnknownError) throw new SellException(ErrorCode.Unavailable, `The ${what} of sale ${saleId} could not be written; nothing was changed, please retry`);
      return;
    }
    throw error instanceof OutcomeUnknownError ? error : new OutcomeUnknownError(`The ${what} of sale ${saleId}`, error);
  }

  /**
   * The answer to a change that committed: its live numbers from Redis, or, when Redis cannot be read just
   * now, from the database (as for a sale with no Redis state). The change happened; a 503 would deny it.
   */
  private async renderCommitted(sale: SaleEntity): Promise<SaleResponseDto> {
    try {
      return await this.render(sale);
    } catch (error) {
      if (!isInfrastructureError(error)) throw error;
      this.logger.warn({ err: error, saleId: sale.id }, 'Answering a committed sale change with numbers from the database: Redis could not be read');
      return toSaleResponse(sale, await this.liveNumbersWithoutRedisState(sale), this.clock.now());
    }
  }
}

/**
 * Whether a failed sale change may have left its Redis write behind: it was answered (and the database
 * then failed), or it went unanswered. A write refused before it was sent, or one the script declined,
 * changed nothing and needs no undo (whose own failure would otherwise turn a true "nothing changed"
 * into OUTCOME_UNKNOWN).
 */
function mayHaveWritten(redisWritten: boolean, error: unknown): boolean {
  return redisWritten || error instanceof OutcomeUnknownError || isAmbiguousRedisFailure(error);
}

/** The archive's cursor: the last sale's position, opaque to clients (base64url of JSON). */
function encodeArchiveCursor(position: SaleArchivePosition): string {
  return Buffer.from(JSON.stringify([position.startsAt, position.id])).toString('base64url');
}

function decodeArchiveCursor(cursor: string): SaleArchivePosition {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2 && Number.isSafeInteger(decoded[0]) && typeof decoded[1] === 'string' && ID_PATTERN.test(decoded[1])) {
      return { startsAt: decoded[0] as number, id: decoded[1] };
    }
  } catch {
    // not JSON: refused below like any other malformed cursor
  }
  throw SellException.validation([{ field: 'cursor', message: 'cursor must be a nextCursor returned by this route' }]);
}

function notFound(saleId: string): SellException {
  return new SellException(ErrorCode.SaleNotFound, `Sale ${saleId} does not exist`);
}

/** The sale exists in the database but Redis holds no state for it (lost, and not yet rebuilt). */
function missingRedisState(saleId: string): SellException {
  return SellException.unavailable(`The live state of sale ${saleId} (Redis)`);
}

/** The `sale` hash fields behind the request's fields (name and description live only in the row). */
function namedHashFields(request: UpdateSaleDto): string[] {
  const hashFieldOf: Partial<Record<keyof UpdateSaleDto, string>> = {
    paymentWindowSeconds: 'paymentWindowMs',
    name: undefined,
    description: undefined,
    // Read by the admission service from the row, never by a script.
    queueOpensAt: undefined,
    lotteryClosesAt: undefined,
    admissionTtlSeconds: undefined,
    purchaseWindowSeconds: undefined,
  };
  return Object.entries(request)
    .filter(([, value]) => value !== undefined)
    .map(([field]) => (field in hashFieldOf ? hashFieldOf[field as keyof UpdateSaleDto] : field))
    .filter((field): field is string => field !== undefined);
}

function pick(fields: Record<string, string | number>, names: string[]): Record<string, string | number> {
  return Object.fromEntries(names.filter((name) => name in fields).map((name) => [name, fields[name]]));
}
