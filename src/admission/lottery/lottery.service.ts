import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { ErrorCode } from '../../common/errors/error-code';
import { SellException } from '../../common/errors/sell.exception';
import { DatabaseService } from '../../database/database.service';
import type { SaleEntity } from '../../sales/sale.entity';
import { SalesService } from '../../sales/sales.service';
import { lotteryClosesAtOf } from '../admission-mode';
import { AdmissionTokens } from '../admission-token';
import { fcodeInvalidError, FcodeEligibility } from '../fcode-eligibility';
import type { LotteryCommitmentDto, LotteryEntryDto, LotteryStatusDto } from './dto/lottery.dto';
import { newSeed, sha256Hex, winnersFor } from './lottery-draw';
import { type LotteryRanking, rankLottery, restoreRecordedDraw } from './lottery-ranking';
import { type LotteryRounds, LotteryGateway } from './lottery.gateway';
import { LotteryRepository } from './lottery.repository';

const iso = (epochMs: number) => new Date(epochMs).toISOString();
/** Drawn lotteries whose ranking this process keeps (a million entries take about 40 MB: see LotteryRanking). */
const RANKINGS_KEPT = 2;

/** A drawn lottery's result, as `GET …/lottery/result` and the draw answer it (see `resultJson`). */
export interface LotteryResult {
  seed: string;
  seedHash: string;
  ranking: LotteryRanking;
  rounds: LotteryRounds;
}

/**
 * The lottery of a sale whose admission is `lottery`: eligible buyers enter before `lotteryClosesAt`;
 * ops commit to a secret seed before then (its SHA-256 is public) and draw after; the entries ranked by
 * SHA-256(seed + ":" + userId) win as far as the units go, and units left after a purchase window pass
 * down the ranking (lottery-rounds.lua). Winners buy with an admission token that lasts their window.
 *
 * The database is the lottery's record: every entry answered 201/200 is in it, the draw ranks the entries
 * read from it and records there how many it ranked and each round. Redis holds what buyers' requests
 * read (their entry, their rank, the rounds); when Redis lost it, it is written back from the record
 * (by the rebuild, or here on the first request that misses it), ranked the same way.
 */
@Injectable()
export class LotteryService {
  private readonly logger = new Logger(LotteryService.name);
  /** The ranking of each drawn sale this process has seen: it never changes once drawn. */
  private readonly rankings = new Map<string, Promise<LotteryRanking>>();
  /** Draws (or their completion in Redis) in progress in this process, by sale: callers share one. */
  private readonly drawing = new Map<string, Promise<void>>();
  /** How many of each sale's rounds this process knows are in the database. */
  private readonly storedRounds = new Map<string, number>();

  constructor(
    private readonly gateway: LotteryGateway,
    private readonly repository: LotteryRepository,
    private readonly database: DatabaseService,
    private readonly sales: SalesService,
    private readonly tokens: AdmissionTokens,
    private readonly fcodes: FcodeEligibility,
    private readonly clock: Clock,
  ) {}

  /**
   * `POST /api/sales/:saleId/lottery/entries`: `created` is false on a repeat. The entry script checks
   * eligibility in Redis; the entry counts once the database has it, which it refuses once the draw has
   * started (then the entry is taken back out of Redis and the answer is RESERVATION_CLOSED).
   */
  async enter(saleId: string, userId: string, ip: string, fcode: string | undefined): Promise<{ entry: LotteryEntryDto; created: boolean }> {
    const sale = await this.lotterySale(saleId, true);
    const now = this.clock.now();
    if (now < sale.reservationOpensAt) throw new SellException(ErrorCode.ReservationNotOpen, `Entries to the lottery of sale ${saleId} open at ${iso(sale.reservationOpensAt)}`);
    const closesAt = lotteryClosesAtOf(sale);
    if (now >= closesAt) throw entriesClosed(saleId, closesAt);
    const result = await this.fcodes.check(userId, ip, fcode, (fcodeHash) => this.gateway.enter(saleId, userId, now, fcodeHash), (entered) => entered.outcome === 'FCODE_INVALID');
    switch (result.outcome) {
      case 'ENTERED':
      case 'IN': {
        // Also for a repeat: the first attempt may have been answered 503 before the row was written.
        const record = await this.database.transaction((manager) => this.repository.insertEntry(manager, saleId, userId, result.enteredAt));
        if (record.outcome === 'CLOSED') {
          if (result.outcome === 'ENTERED') await this.gateway.withdraw(saleId, userId);
          throw entriesClosed(saleId, closesAt);
        }
        return { entry: { saleId, userId, enteredAt: iso(record.enteredAt) }, created: record.outcome === 'ENTERED' };
      }
      case 'NOT_ELIGIBLE':
        throw new SellException(ErrorCode.NotEligible, `The lottery of sale ${saleId} is open to buyers with a reservation or an F-code only`);
      case 'FCODE_INVALID':
        throw fcodeInvalidError();
      case 'NO_LOTTERY':
        throw noLottery(saleId);
      case 'SALE_NOT_FOUND':
        throw missingRedisState(saleId);
    }
  }

  /** `POST /api/admin/sales/:saleId/lottery/commit`: once, before entries close; a repeat answers the same hash. */
  async commit(saleId: string): Promise<LotteryCommitmentDto> {
    const sale = await this.lotterySale(saleId, false);
    if (sale.lotterySeedHash !== null) return { seedHash: sale.lotterySeedHash };
    const closesAt = lotteryClosesAtOf(sale);
    const now = this.clock.now();
    if (now >= closesAt) throw new SellException(ErrorCode.SaleLocked, `Entries to the lottery of sale ${saleId} closed at ${iso(closesAt)}: a seed must be committed before`);
    const seed = newSeed();
    const seedHash = sha256Hex(seed);
    if (await this.repository.commitSeed(saleId, seed, seedHash, now)) return { seedHash };
    // Another request committed first: its seed is the one.
    return { seedHash: (await this.lotterySale(saleId, false)).lotterySeedHash as string };
  }

  /**
   * `POST /api/admin/sales/:saleId/lottery/draw`, after entries close. The draw first closes the entries
   * in the database (an entry still arriving is refused), ranks the entries read from there and records
   * the draw (how many entries, round 1) before Redis gets it. It is a function of the committed seed and
   * those entries, so drawing again, or two processes at once, gives the same ranking; round 1's size is
   * the one recorded first.
   */
  async draw(saleId: string): Promise<LotteryResult> {
    const sale = await this.lotterySale(saleId, false);
    const now = this.clock.now();
    const closesAt = lotteryClosesAtOf(sale);
    if (now < closesAt) throw new SellException(ErrorCode.SaleNotStarted, `The lottery of sale ${saleId} can be drawn once entries close, at ${iso(closesAt)}`);
    if (sale.lotterySeed === null) throw new SellException(ErrorCode.SaleLocked, `No seed was committed for the lottery of sale ${saleId} before entries closed, so it cannot be drawn verifiably`);
    await this.shared(saleId, () => (sale.lotteryEntryCount === null ? this.drawNow(sale, now) : this.completeInRedis(sale)));
    return this.result(saleId);
  }

  /** `GET /api/sales/:saleId/lottery/result`: everything needed to check the draw. */
  async result(saleId: string): Promise<LotteryResult> {
    const cached = await this.lotterySale(saleId, true);
    // A row cached before the draw lacks the seed or the count; neither changes once it is there.
    const sale = cached.lotterySeed === null || cached.lotteryEntryCount === null ? await this.lotterySale(saleId, false) : cached;
    const rounds = await this.currentRounds(sale);
    if (rounds === undefined || sale.lotterySeed === null) throw new SellException(ErrorCode.NotFound, `The lottery of sale ${saleId} has not been drawn yet`);
    return { seed: sale.lotterySeed, seedHash: sale.lotterySeedHash as string, ranking: await this.ranking(sale), rounds };
  }

  /** `GET /api/sales/:saleId/lottery/me`. Before the draw, the entry tells; after it, the ranking (every entry drawn is in it). */
  async mine(saleId: string, userId: string): Promise<LotteryStatusDto> {
    const sale = await this.lotterySale(saleId, true);
    const rounds = await this.currentRounds(sale);
    if (rounds === undefined) return { entered: (await this.gateway.enteredAt(saleId, userId)) !== undefined, drawn: false, won: false, rank: null };
    const rank = await this.gateway.rank(saleId, userId);
    if (rank === undefined) return { entered: false, drawn: true, won: false, rank: null };
    const entered = true;
    const round = rounds.rounds.find((candidate) => rank < candidate.admittedUpTo);
    if (round === undefined) return { entered, drawn: true, won: false, rank: rank + 1 };
    const now = this.clock.now();
    const token = round.buyBy > now ? { admissionToken: this.tokens.sign({ saleId, userId, expiresAt: round.buyBy }) } : {};
    return { entered, drawn: true, won: true, rank: rank + 1, ...token, buyBy: iso(round.buyBy) };
  }

  private async drawNow(sale: SaleEntity, now: number): Promise<void> {
    const started = Date.now();
    await this.database.transaction((manager) => this.repository.closeEntries(manager, sale.id, now));
    const ranking = await rankLottery(sale.lotterySeed as string, this.repository.entryPages(sale.id), true, await this.repository.countEntries(sale.id));
    const rankedAt = Date.now();
    const units = await this.gateway.generalRemaining(sale.id);
    if (units === undefined) throw missingRedisState(sale.id);
    const firstRound = { admittedUpTo: winnersFor(units, sale.perUserLimit, ranking.count), buyBy: Math.min(sale.startsAt + sale.purchaseWindowSeconds * 1000, sale.endsAt) };
    // The ranks go to Redis while the draw is recorded: no buyer reads them before Redis has the rounds.
    const [rounds] = await Promise.all([
      this.database.transaction((manager) => this.repository.recordDraw(manager, sale.id, ranking.count, firstRound, now)),
      this.gateway.writeRanks(sale.id, ranking.buckets),
    ]);
    const recorded = await this.sales.getSale(sale.id);
    // Another process recorded the draw first: the same entries, so the same count, or the record is broken.
    if (recorded.lotteryEntryCount !== ranking.count) throw new Error(`The draw of sale ${sale.id} ranked ${ranking.count} entries, but ${recorded.lotteryEntryCount} are recorded`);
    await this.gateway.recordDraw(sale.id, ranking.count, rounds);
    // From now on the ranking answers who entered; Redis need not keep the entries too.
    await this.gateway.dropEntries(sale.id);
    this.storedRounds.set(sale.id, rounds.length);
    this.keepRanking(sale.id, ranking);
    const { readingMs, hashingMs, sortingMs, bucketsMs } = ranking.timings;
    const ms = (value: number | undefined) => (value === undefined ? '–' : `${Math.round(value)} ms`);
    this.logger.log(
      `Drew the lottery of sale ${sale.id}: ${ranking.count} entries read and ranked in ${rankedAt - started} ms ` +
        `(entries read in ${ms(readingMs)}; on the ranking thread: hashing ${ms(hashingMs)}, sorting ${ms(sortingMs)}, rank buckets ${ms(bucketsMs)}); ` +
        `${rounds[0].admittedUpTo} winners; recorded, and in Redis, after ${Date.now() - started} ms`,
    );
  }

  /**
   * Puts a recorded draw into Redis when Redis lacks it (a draw interrupted after it was recorded, or
   * Redis lost it and the rebuild has not put it back): the ranking again, and every recorded round.
   */
  private async completeInRedis(sale: SaleEntity): Promise<void> {
    const state = await this.gateway.advance(sale.id, this.clock.now(), sale.purchaseWindowSeconds * 1000);
    if (state === 'SALE_NOT_FOUND') throw missingRedisState(sale.id);
    if (state !== 'NOT_DRAWN') return;
    const { ranking, rounds } = await restoreRecordedDraw(this.repository, this.gateway, { id: sale.id, lotterySeed: sale.lotterySeed as string, lotteryEntryCount: sale.lotteryEntryCount ?? 0 });
    await this.gateway.dropEntries(sale.id);
    this.keepRanking(sale.id, ranking);
    this.logger.warn(`Put the recorded draw of sale ${sale.id} (${ranking.count} entries, ${rounds} round(s)) back into Redis`);
  }

  /** The rounds so far (opening the next when due, and recording new ones), or undefined before the draw. */
  private async currentRounds(sale: SaleEntity): Promise<LotteryRounds | undefined> {
    const windowMs = sale.purchaseWindowSeconds * 1000;
    let rounds = await this.gateway.advance(sale.id, this.clock.now(), windowMs);
    if (rounds === 'NOT_DRAWN' && sale.lotteryEntryCount !== null && sale.lotterySeed !== null) {
      await this.shared(sale.id, () => this.completeInRedis(sale));
      rounds = await this.gateway.advance(sale.id, this.clock.now(), windowMs);
    }
    if (rounds === 'SALE_NOT_FOUND') throw missingRedisState(sale.id);
    if (rounds === 'NOT_DRAWN') return undefined;
    await this.storeRounds(sale.id, rounds);
    return rounds;
  }

  /** Records rounds this process has not seen recorded yet; a failure is retried on the next read. */
  private async storeRounds(saleId: string, rounds: LotteryRounds): Promise<void> {
    if (rounds.rounds.length <= (this.storedRounds.get(saleId) ?? 0)) return;
    try {
      const stored = rounds.rounds.map((round, index) => ({ round: index + 1, ...round }));
      await this.database.transaction((manager) => this.repository.recordRounds(manager, saleId, stored));
      if (this.storedRounds.size > 1000) this.storedRounds.clear();
      this.storedRounds.set(saleId, stored.length);
    } catch (error) {
      this.logger.warn(`Could not record the rounds of the lottery of sale ${saleId}: ${(error as Error).message}`);
    }
  }

  private ranking(sale: SaleEntity): Promise<LotteryRanking> {
    let ranking = this.rankings.get(sale.id);
    if (!ranking) {
      ranking = rankLottery(sale.lotterySeed as string, this.repository.entryPages(sale.id), false, sale.lotteryEntryCount ?? 0).then((ranked) => {
        if (ranked.count !== sale.lotteryEntryCount) throw new Error(`The draw of sale ${sale.id} ranked ${sale.lotteryEntryCount} entries, but ${ranked.count} are recorded now`);
        return ranked;
      });
      this.remember(sale.id, ranking);
      // A failed computation is not kept: the next request tries again.
      ranking.catch(() => this.rankings.get(sale.id) === ranking && this.rankings.delete(sale.id));
    }
    return ranking;
  }

  private keepRanking(saleId: string, ranking: LotteryRanking): void {
    this.remember(saleId, Promise.resolve(ranking.withoutBuckets()));
  }

  private remember(saleId: string, ranking: Promise<LotteryRanking>): void {
    this.rankings.delete(saleId);
    while (this.rankings.size >= RANKINGS_KEPT) this.rankings.delete(this.rankings.keys().next().value as string);
    this.rankings.set(saleId, ranking);
  }

  private async shared(saleId: string, work: () => Promise<void>): Promise<void> {
    let running = this.drawing.get(saleId);
    if (!running) {
      running = work().finally(() => this.drawing.delete(saleId));
      this.drawing.set(saleId, running);
    }
    await running;
  }

  private async lotterySale(saleId: string, cached: boolean): Promise<SaleEntity> {
    const sale = cached ? await this.sales.getSaleCached(saleId) : await this.sales.getSale(saleId);
    if (sale.admission !== 'lottery') throw noLottery(saleId);
    return sale;
  }
}

/**
 * The result as JSON, chunk by chunk: `{ seed, seedHash, entries, winners, rounds }`, where `entries` and
 * `winners` are written from the ranking's arrays as the response is sent rather than built into one
 * string (a million entries are some 70 MB of JSON).
 */
export function* resultJson(result: LotteryResult): Generator<Buffer> {
  yield Buffer.from(`{"seed":${JSON.stringify(result.seed)},"seedHash":${JSON.stringify(result.seedHash)},"entries":`);
  yield* result.ranking.entriesJson();
  yield Buffer.from(',"winners":');
  yield* result.ranking.winnersJson(result.rounds.admitted);
  yield Buffer.from(`,"rounds":${JSON.stringify(result.rounds.rounds.map((round) => ({ winners: round.admittedUpTo, buyBy: iso(round.buyBy) })))}}`);
}

function entriesClosed(saleId: string, closesAt: number): SellException {
  return new SellException(ErrorCode.ReservationClosed, `Entries to the lottery of sale ${saleId} closed at ${iso(closesAt)}`);
}

function noLottery(saleId: string): SellException {
  return new SellException(ErrorCode.NotFound, `Sale ${saleId} has no lottery`);
}

function missingRedisState(saleId: string): SellException {
  return SellException.unavailable(`The live state of sale ${saleId} (Redis)`);
}
