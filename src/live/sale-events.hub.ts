import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { Clock } from '../common/clock';
import { ErrorCode } from '../common/errors/error-code';
import { SellException } from '../common/errors/sell.exception';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import type { SaleResponseDto } from '../sales/dto/sale-response.dto';
import { SalesService } from '../sales/sales.service';
import { LiveGateway } from './live.gateway';
import type { SaleSignal } from './sale-signal';

/** Shortest gap between two reads of one sale for its streams: at most four `sale` events a second. */
export const REFRESH_GAP_MS = 250;
/** Streams written per event-loop turn in a broadcast. */
const STREAMS_PER_TURN = 2000;
/** A stream that has this much unsent data is not reading: it is closed rather than buffered for. */
const MAX_BUFFERED_BYTES = 256 * 1024;
/** setTimeout's longest delay; a phase change further away is looked at again after this. */
const MAX_TIMER_MS = 2_147_483_647;
/** The moments a sale's phase changes by the clock alone. */
const PHASE_TIMES = ['reservationOpensAt', 'reservationClosesAt', 'fcodeOpensAt', 'startsAt', 'endsAt'] as const;

/** The open streams of one sale and what they were last told. */
interface SaleStreams {
  streams: Set<ServerResponse>;
  /** The last `sale` event's view without `serverTime`: an unchanged sale is not sent again. */
  lastView: string;
  /** Whether the streams were told `sold_out` for the current emptiness (cleared when units come back). */
  soldOutSent: boolean;
  /** Inside a refresh gap: true when a notice arrived during it and the sale is still to be read. */
  refreshPending: boolean;
  refreshTimer?: NodeJS.Timeout;
  phaseTimer?: NodeJS.Timeout;
}

export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The view as a string without `serverTime`, which differs on every read. */
function fingerprintOf(view: SaleResponseDto): string {
  const { serverTime: _serverTime, ...comparable } = view;
  return JSON.stringify(comparable);
}

function isSoldOut(view: SaleResponseDto): boolean {
  return view.remaining <= 0 && view.fcodeRemaining <= 0;
}

/**
 * The live-update streams of this process (`GET /api/sales/:saleId/events`). Streams are grouped by sale;
 * a change notice from any process (Redis pub/sub, `LiveGateway`) makes this process read the sale once
 * for all its streams, at most every `REFRESH_GAP_MS`, and write the same bytes to each. The clock's phase
 * changes are met by one timer per sale. Heartbeats are one timer for the whole process. A stream costs
 * its socket and a set entry: no timer, no listener beyond its own `close`.
 */
@Injectable()
export class SaleEventsHub implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SaleEventsHub.name);
  private readonly sales = new Map<string, SaleStreams>();
  private openStreams = 0;
  /** Streams between `firstEvents` and `add` (or `abandon`): they count against the bound too. */
  private openingStreams = 0;
  private heartbeat?: NodeJS.Timeout;

  constructor(
    private readonly salesService: SalesService,
    private readonly gateway: LiveGateway,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.gateway.onSaleSignal((signal) => this.onSignal(signal));
    this.heartbeat = setInterval(() => this.writeToAll(': heartbeat\n\n'), this.config.liveEvents.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Ends every stream: a closing server cannot wait for streams that never end by themselves. */
  onModuleDestroy(): void {
    clearInterval(this.heartbeat);
    for (const entry of this.sales.values()) {
      clearTimeout(entry.refreshTimer);
      clearTimeout(entry.phaseTimer);
      for (const stream of entry.streams) stream.end();
    }
    this.sales.clear();
  }

  get size(): number {
    return this.openStreams;
  }

  /**
   * The sale as the first event of a new stream; throws (404, 503) before anything is written, so the
   * caller can still answer with an error body. Refuses past `SSE_MAX_CONNECTIONS`.
   */
  async firstEvents(saleId: string): Promise<{ chunk: string; view: SaleResponseDto }> {
    if (this.openStreams + this.openingStreams >= this.config.liveEvents.maxConnections) {
      throw new SellException(ErrorCode.Unavailable, 'This server has as many live-update streams open as it accepts; poll GET /api/sales/:saleId instead, or retry later', [], {
        headers: { 'retry-after': '5' },
      });
    }
    this.openingStreams += 1;
    let view: SaleResponseDto;
    try {
      view = await this.salesService.publicView(saleId);
    } catch (error) {
      this.openingStreams -= 1;
      throw error;
    }
    return { chunk: sseEvent('sale', view) + (isSoldOut(view) ? sseEvent('sold_out', { saleId, at: view.serverTime }) : ''), view };
  }

  /**
   * Adds an open stream whose head and first events (from `view`) are written; it leaves when its
   * connection closes.
   */
  add(saleId: string, stream: ServerResponse, view: SaleResponseDto): void {
    this.openingStreams -= 1;
    let entry = this.sales.get(saleId);
    if (!entry) {
      entry = { streams: new Set(), lastView: fingerprintOf(view), soldOutSent: isSoldOut(view), refreshPending: false };
      this.sales.set(saleId, entry);
      this.schedulePhaseChange(saleId, entry, view);
      // Notices that came while the first view was read found no stream of the sale here: read it again.
      this.refresh(saleId, entry);
    }
    entry.streams.add(stream);
    this.openStreams += 1;
    stream.once('close', () => this.remove(saleId, stream));
  }

  /** A stream given its first events whose client left before it was added. */
  abandon(): void {
    this.openingStreams -= 1;
  }

  private remove(saleId: string, stream: ServerResponse): void {
    const entry = this.sales.get(saleId);
    if (!entry?.streams.delete(stream)) return;
    this.openStreams -= 1;
    if (entry.streams.size > 0) return;
    clearTimeout(entry.refreshTimer);
    clearTimeout(entry.phaseTimer);
    this.sales.delete(saleId);
  }

  private onSignal(signal: SaleSignal): void {
    const entry = this.sales.get(signal.saleId);
    if (!entry) return;
    if (entry.refreshTimer) entry.refreshPending = true;
    else this.refresh(signal.saleId, entry);
  }

  /** Reads the sale now and opens a gap; a notice during the gap is served once at its end. */
  private refresh(saleId: string, entry: SaleStreams): void {
    entry.refreshPending = false;
    entry.refreshTimer = setTimeout(() => {
      entry.refreshTimer = undefined;
      if (entry.refreshPending && this.sales.get(saleId) === entry) this.refresh(saleId, entry);
    }, REFRESH_GAP_MS);
    // The row fresh from the database (a change on another process may be newer than this process's row cache); at most
    // one read per sale per gap, whatever the number of streams.
    this.salesService.adminView(saleId).then(
      (view) => this.publish(saleId, entry, view),
      (error: unknown) => {
        // Streams keep what they had; the next notice (or the clients' polling fallback) catches up.
        this.logger.warn({ err: error, saleId }, 'Could not read a sale for its live-update streams');
      },
    );
  }

  private publish(saleId: string, entry: SaleStreams, view: SaleResponseDto): void {
    if (this.sales.get(saleId) !== entry) return;
    this.schedulePhaseChange(saleId, entry, view);
    const fingerprint = fingerprintOf(view);
    let chunk = '';
    if (fingerprint !== entry.lastView) {
      chunk += sseEvent('sale', view);
      entry.lastView = fingerprint;
    }
    const soldOut = isSoldOut(view);
    if (soldOut && !entry.soldOutSent) chunk += sseEvent('sold_out', { saleId, at: view.serverTime });
    entry.soldOutSent = soldOut;
    if (chunk !== '') this.write(entry.streams, chunk);
  }

  /** One timer per sale for the next moment its phase changes by the clock (it is then read again). */
  private schedulePhaseChange(saleId: string, entry: SaleStreams, view: SaleResponseDto): void {
    clearTimeout(entry.phaseTimer);
    entry.phaseTimer = undefined;
    const now = this.clock.now();
    const next = Math.min(...PHASE_TIMES.map((field) => Date.parse(view[field])).filter((time) => time > now));
    if (!Number.isFinite(next)) return;
    // A little after the moment, so the server clock has passed it when the sale is read.
    entry.phaseTimer = setTimeout(() => this.onSignal({ saleId, kind: 'changed' }), Math.min(next - now + 20, MAX_TIMER_MS));
    entry.phaseTimer.unref();
  }

  private writeToAll(chunk: string): void {
    for (const entry of this.sales.values()) this.write(entry.streams, chunk);
  }

  /**
   * Writes the same bytes (encoded once) to every stream, `STREAMS_PER_TURN` per event-loop turn, so a
   * broadcast to tens of thousands of streams does not hold up the requests this process is serving. The
   * streams are taken as they are now; one broadcast after another reaches each stream in order.
   */
  private write(streams: Set<ServerResponse>, chunk: string): void {
    const bytes = Buffer.from(chunk);
    const targets = [...streams];
    const writeFrom = (start: number) => {
      const end = Math.min(start + STREAMS_PER_TURN, targets.length);
      for (let index = start; index < end; index += 1) {
        const stream = targets[index];
        if (stream.destroyed) continue;
        if (stream.writableLength > MAX_BUFFERED_BYTES) stream.destroy();
        else stream.write(bytes);
      }
      if (end < targets.length) setImmediate(writeFrom, end);
    };
    writeFrom(0);
  }
}
