import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { ErrorCode } from '../common/errors/error-code';
import { SellException } from '../common/errors/sell.exception';
import { ulid } from '../common/ids';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { DatabaseService } from '../database/database.service';
import type { SaleEntity } from '../sales/sale.entity';
import { SalesRepository } from '../sales/sales.repository';
import { FcodeCipher } from './fcode-cipher';
import { formatFcode, generateFcode, hashFcode, parseFcode } from './fcode-codec';
import { FcodeGateway } from './fcode.gateway';
import { FcodeExportRow, FcodeRepository, NewFcode } from './fcode.repository';
import { IssueFcodesDto } from './dto/issue-fcodes.dto';
import { FcodeBatchListDto, FcodeBatchSummaryDto, FcodeSummaryDto, IssuedFcodesDto, VoidedFcodeDto } from './dto/fcode-responses.dto';

/** Rows per page of the export and of the summary's expiry scan. */
const PAGE_SIZE = 5000;

export type FcodeExportStatus = 'issued' | 'redeemed' | 'void' | 'expired';

export const CSV_HEADER = 'code,userId,status,expiresAt';

/**
 * F-codes for ops: issue batches, export them, void single codes, count them. Redemption itself happens
 * in purchase.lua on the hot path; this service writes the state it reads.
 */
@Injectable()
export class FcodesService {
  private readonly cipher: FcodeCipher;

  constructor(
    private readonly database: DatabaseService,
    private readonly repository: FcodeRepository,
    private readonly gateway: FcodeGateway,
    private readonly sales: SalesRepository,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.cipher = new FcodeCipher(config.fcodeSecret);
  }

  async issue(saleId: string, request: IssueFcodesDto): Promise<IssuedFcodesDto> {
    const now = this.clock.now();
    const { count, userIds } = checkIssueRequest(request, now);
    const expiresAt = request.expiresAt === undefined ? null : Date.parse(request.expiresAt);
    const sale = await this.saleOrThrow(saleId);
    if (now >= sale.endsAt) throw new SellException(ErrorCode.SaleEnded, `Sale ${saleId} ended at ${new Date(sale.endsAt).toISOString()}; no more F-codes can be issued for it`);

    const batchId = `fb_${ulid(now)}`;
    const codes = distinctCodes(count);
    const rows: NewFcode[] = codes.map((code, index) => {
      const codeHash = hashFcode(this.config.fcodeSecret, code);
      return { codeHash, codeCipher: this.cipher.encrypt(code, codeHash), userId: userIds?.[index] ?? null };
    });

    // Redis is written inside the database transaction: if Redis fails, nothing commits; if the commit
    // fails after Redis was written, the keys are deleted again. The hashes are fresh (the inserts would
    // have failed on a duplicate key first), so deleting them cannot touch another batch's codes.
    let redisWriteStarted = false;
    try {
      await this.database.transaction(async (manager) => {
        await this.repository.insertBatch(manager, { id: batchId, saleId, count, expiresAt, createdAt: now }, rows);
        redisWriteStarted = true;
        await this.gateway.writeIssued(
          saleId,
          rows.map((row) => ({ codeHash: row.codeHash, userId: row.userId ?? '', expiresAt: expiresAt ?? 0 })),
        );
      });
    } catch (error) {
      // If Redis is down this clean-up fails too; the keys it leaves belong to codes nobody was shown.
      if (redisWriteStarted) await this.gateway.remove(saleId, rows.map((row) => row.codeHash)).catch(() => undefined);
      throw error;
    }

    return { batchId, saleId, count, expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(), codes: codes.map(formatFcode) };
  }

  /**
   * Checks the sale (and batch) first, so that a bad request is an error response, then returns the
   * CSV as a stream of chunks of PAGE_SIZE rows.
   */
  async exportCsv(saleId: string, batchId?: string): Promise<AsyncIterable<string>> {
    await this.saleOrThrow(saleId);
    let batchIds: string[];
    if (batchId === undefined) {
      batchIds = await this.repository.batchIdsOfSale(saleId);
    } else {
      if (!(await this.repository.findBatch(saleId, batchId))) throw new SellException(ErrorCode.NotFound, `Sale ${saleId} has no F-code batch ${batchId}`);
      batchIds = [batchId];
    }
    return this.csvChunks(saleId, batchIds);
  }

  private async *csvChunks(saleId: string, batchIds: string[]): AsyncGenerator<string> {
    yield `${CSV_HEADER}\r\n`;
    for (const batchId of batchIds) {
      let afterHash = '';
      for (;;) {
        const page = await this.repository.pageOfBatch(saleId, batchId, afterHash, PAGE_SIZE);
        if (page.length === 0) break;
        const states = await this.gateway.liveStates(saleId, page.map((row) => row.codeHash));
        const now = this.clock.now();
        yield page.map((row, index) => this.csvLine(row, exportStatus(row, states[index], now))).join('');
        afterHash = page[page.length - 1].codeHash;
        if (page.length < PAGE_SIZE) break;
      }
    }
  }

  private csvLine(row: FcodeExportRow, status: FcodeExportStatus): string {
    const code = formatFcode(this.cipher.decrypt(row.codeCipher, row.codeHash));
    const expiresAt = row.expiresAt === null ? '' : new Date(row.expiresAt).toISOString();
    return `${code},${csvField(row.userId ?? '')},${status},${expiresAt}\r\n`;
  }

  /**
   * Voids a code: it is FCODE_INVALID from then on. A code that backs a live order stays with that
   * order (the buyer bought in good faith); if the order then expires or is cancelled, the code does not
   * come back. Voiding a void code again answers the same. Redis is written inside the database
   * transaction, so a Redis failure leaves the code as it was (503).
   */
  async voidCode(input: string): Promise<VoidedFcodeDto> {
    const parsed = parseFcode(input);
    if (!parsed.ok) {
      throw SellException.validation([
        { field: 'code', message: parsed.reason === 'typo' ? 'check character does not match: the code looks mistyped' : 'not an F-code (13 characters of 0-9 and A-Z without I, L, O, U)' },
      ]);
    }
    const codeHash = hashFcode(this.config.fcodeSecret, parsed.normalized);
    const code = await this.repository.findByHash(codeHash);
    if (!code) throw new SellException(ErrorCode.NotFound, 'No such F-code');

    const now = this.clock.now();
    const { orderId, voidedAt } = await this.database.transaction(async (manager) => {
      const changed = await this.repository.markVoidIfIssued(manager, codeHash, now);
      const backedOrderId = await this.gateway.markVoid(code.saleId, codeHash);
      return { orderId: backedOrderId, voidedAt: changed ? now : (code.voidedAt ?? now) };
    });
    return { code: formatFcode(parsed.normalized), status: 'void', saleId: code.saleId, voidedAt: new Date(voidedAt).toISOString(), orderId: orderId === '' ? null : orderId };
  }

  async summary(saleId: string): Promise<FcodeSummaryDto> {
    await this.saleOrThrow(saleId);
    const now = this.clock.now();
    const [counts, redeemed] = await Promise.all([this.repository.countsOfSale(saleId), this.gateway.redeemedCount(saleId)]);
    let expired = 0;
    let afterHash = '';
    for (;;) {
      const lapsed = await this.repository.pageOfLapsedHashes(saleId, now, afterHash, PAGE_SIZE);
      if (lapsed.length === 0) break;
      // A code redeemed before its expiry still backs its order: that is redeemed, not expired.
      const states = await this.gateway.liveStates(saleId, lapsed);
      expired += states.filter((state) => state.orderId === '' && !state.void).length;
      afterHash = lapsed[lapsed.length - 1];
      if (lapsed.length < PAGE_SIZE) break;
    }
    return { issued: counts.issued, redeemed, void: counts.void, expired };
  }

  /**
   * `GET /api/admin/sales/:saleId/fcodes/batches`: each batch with its counts. Void and bound come from
   * the database; redeemed and expired need each code's live state in Redis, read a page at a time as the
   * export does. A code is counted once, in the export's order: void, else redeemed, else expired.
   */
  async batches(saleId: string): Promise<FcodeBatchListDto> {
    await this.saleOrThrow(saleId);
    const [batches, counts] = await Promise.all([this.repository.batchesOfSale(saleId), this.repository.codeCountsByBatch(saleId)]);
    const now = this.clock.now();
    const items: FcodeBatchSummaryDto[] = [];
    for (const batch of batches) {
      const tally = { redeemed: 0, void: 0, expired: 0 };
      let afterHash = '';
      for (;;) {
        const page = await this.repository.pageOfBatchStates(saleId, batch.id, afterHash, PAGE_SIZE);
        if (page.length === 0) break;
        const states = await this.gateway.liveStates(saleId, page.map((row) => row.codeHash));
        for (const [index, row] of page.entries()) {
          const status = exportStatus(row, states[index], now);
          if (status !== 'issued') tally[status] += 1;
        }
        afterHash = page[page.length - 1].codeHash;
        if (page.length < PAGE_SIZE) break;
      }
      items.push({
        batchId: batch.id,
        count: batch.count,
        bound: counts.get(batch.id)?.bound ?? 0,
        expiresAt: batch.expiresAt === null ? null : new Date(batch.expiresAt).toISOString(),
        createdAt: new Date(batch.createdAt).toISOString(),
        ...tally,
      });
    }
    return { items };
  }

  private async saleOrThrow(saleId: string): Promise<SaleEntity> {
    const sale = await this.sales.findById(saleId);
    if (!sale) throw new SellException(ErrorCode.SaleNotFound, `Sale ${saleId} does not exist`);
    return sale;
  }
}

/** Checks what the DTO cannot express; returns how many codes to issue and for whom. */
function checkIssueRequest(request: IssueFcodesDto, now: number): { count: number; userIds?: string[] } {
  const problems = [];
  if (request.userIds === undefined && request.count === undefined) problems.push({ field: 'count', message: 'count is required when userIds is not given' });
  if (request.userIds !== undefined && request.count !== undefined && request.count !== request.userIds.length) {
    problems.push({ field: 'count', message: `count must equal the number of userIds (${request.userIds.length}) or be omitted` });
  }
  if (request.userIds !== undefined) {
    const seen = new Set<string>();
    const duplicates = new Set<string>();
    for (const userId of request.userIds) (seen.has(userId) ? duplicates : seen).add(userId);
    if (duplicates.size > 0) {
      const sample = [...duplicates].slice(0, 10).join(', ');
      problems.push({ field: 'userIds', message: `userIds must not repeat a user (${duplicates.size} repeated: ${sample}${duplicates.size > 10 ? ', …' : ''})` });
    }
  }
  if (request.expiresAt !== undefined && Date.parse(request.expiresAt) <= now) problems.push({ field: 'expiresAt', message: 'expiresAt must be in the future' });
  if (problems.length > 0) throw SellException.validation(problems);
  return { count: request.userIds?.length ?? (request.count as number), userIds: request.userIds };
}

/** `count` new codes, distinct from each other (a repeat among 60-bit codes is rare, not impossible). */
function distinctCodes(count: number): string[] {
  const codes = new Set<string>();
  while (codes.size < count) codes.add(generateFcode());
  return [...codes];
}

function exportStatus(row: Pick<FcodeExportRow, 'status' | 'expiresAt'>, state: { orderId: string; void: boolean }, now: number): FcodeExportStatus {
  if (row.status === 'void' || state.void) return 'void';
  if (state.orderId !== '') return 'redeemed';
  if (row.expiresAt !== null && now >= row.expiresAt) return 'expired';
  return 'issued';
}

/**
 * A CSV cell: one that a spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`, a tab or
 * a carriage return) gets a leading `'` so that it is shown as text, never evaluated; then RFC 4180
 * quoting for a comma, a quote or a line break. User ids are chosen by whoever signs up, so they may hold
 * any of these. The codes, statuses and dates the service writes itself never start with one.
 */
export function csvField(value: string): string {
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
