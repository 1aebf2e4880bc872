import { Injectable } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { DatabaseService } from '../../database/database.service';
import { ErrorCode } from '../../common/errors/error-code';
import { SellException } from '../../common/errors/sell.exception';
import type { SaleEntity } from '../../sales/sale.entity';
import { SalesService } from '../../sales/sales.service';
import { queueOpensAtOf } from '../admission-mode';
import { AdmissionTokens } from '../admission-token';
import { fcodeInvalidError, FcodeEligibility } from '../fcode-eligibility';
import type { QueueStatusDto } from './dto/queue-status.dto';
import { WaitingRoomRecorder } from './waiting-room-recorder';
import { WaitingRoomGateway, type WaitingRoomPlace } from './waiting-room.gateway';
import { WaitingRoomRepository } from './waiting-room.repository';

/**
 * The waiting room of a sale whose admission is `queue`: buyers join (once; eligibility checked), get a
 * place (random among everyone who joined before the start, by arrival after), and are admitted from the
 * front at the sale's rate; an admitted buyer gets a signed admission token for the purchase route.
 * The line lives in Redis; the database keeps its record (each place, answered only once recorded, and
 * when each buyer first saw their admission), from which the rebuild puts the line back.
 */
@Injectable()
export class WaitingRoomService {
  constructor(
    private readonly gateway: WaitingRoomGateway,
    private readonly repository: WaitingRoomRepository,
    private readonly recorder: WaitingRoomRecorder,
    private readonly database: DatabaseService,
    private readonly sales: SalesService,
    private readonly tokens: AdmissionTokens,
    private readonly fcodes: FcodeEligibility,
    private readonly clock: Clock,
  ) {}

  /** `POST /api/sales/:saleId/queue`: `created` is false when the buyer was in line already. */
  async join(saleId: string, userId: string, ip: string, fcode: string | undefined): Promise<{ status: QueueStatusDto; created: boolean }> {
    const sale = await this.waitingRoomSale(saleId);
    const now = this.clock.now();
    const opensAt = queueOpensAtOf(sale);
    if (now < opensAt) throw new SellException(ErrorCode.SaleNotStarted, `The waiting room of sale ${saleId} opens at ${new Date(opensAt).toISOString()}`);
    const result = await this.fcodes.check(userId, ip, fcode, (fcodeHash) => this.gateway.join(saleId, userId, now, fcodeHash), (joined) => joined.outcome === 'FCODE_INVALID');
    switch (result.outcome) {
      case 'PLACED':
        // Also for a repeat: the first join may have been answered 503 before its place was recorded.
        await this.database.transaction((manager) => this.repository.insertPlace(manager, saleId, userId, result.place.place));
        return { status: this.statusOf(sale, userId, result.place, now), created: result.place.joined };
      case 'SALE_ENDED':
        throw new SellException(ErrorCode.SaleEnded, `Sale ${saleId} ended at ${new Date(result.endsAt).toISOString()}`);
      case 'NOT_ELIGIBLE':
        throw new SellException(ErrorCode.NotEligible, `The waiting room of sale ${saleId} is open to buyers with a reservation or an F-code only`);
      case 'FCODE_INVALID':
        throw fcodeInvalidError();
      case 'NO_WAITING_ROOM':
        throw noWaitingRoom(saleId);
      case 'SALE_NOT_FOUND':
        throw SellException.unavailable(`The live state of sale ${saleId} (Redis)`);
    }
  }

  /** `GET /api/sales/:saleId/queue/me`. */
  async mine(saleId: string, userId: string): Promise<QueueStatusDto> {
    const sale = await this.waitingRoomSale(saleId);
    const now = this.clock.now();
    const result = await this.gateway.status(saleId, userId, now);
    switch (result.outcome) {
      case 'PLACED':
        return this.statusOf(sale, userId, result.place, now);
      case 'NOT_IN_QUEUE':
        throw new SellException(ErrorCode.NotFound, `You are not in the waiting room of sale ${saleId}; join it first`);
      case 'SALE_NOT_FOUND':
        throw SellException.unavailable(`The live state of sale ${saleId} (Redis)`);
    }
  }

  private async waitingRoomSale(saleId: string): Promise<SaleEntity> {
    const sale = await this.sales.getSaleCached(saleId);
    if (sale.admission !== 'queue') throw noWaitingRoom(saleId);
    return sale;
  }

  private statusOf(sale: SaleEntity, userId: string, place: WaitingRoomPlace, now: number): QueueStatusDto {
    if (place.seenNow) this.recorder.admissionSeen({ saleId: sale.id, userId, place: place.place, admittedAt: place.admittedAt });
    if (place.admittedAt > 0) {
      const expiresAt = Math.min(place.admittedAt + sale.admissionTtlSeconds * 1000, sale.endsAt);
      const token = expiresAt > now ? { admissionToken: this.tokens.sign({ saleId: sale.id, userId, expiresAt }) } : {};
      return { position: 0, ahead: 0, etaSeconds: 0, admitted: true, ...token, admissionExpiresAt: new Date(expiresAt).toISOString(), soldOut: place.soldOut };
    }
    const ahead = place.rank - place.admitted;
    // Thousandths of an admission still to be earned before this buyer's turn, at `rate` per second.
    const owed = Math.max(0, (ahead + 1) * 1000 - place.credit);
    const etaSeconds = Math.ceil(Math.max(0, sale.startsAt - now) / 1000 + owed / 1000 / sale.admissionRatePerSecond);
    return { position: ahead + 1, ahead, etaSeconds, admitted: false, soldOut: place.soldOut };
  }
}

function noWaitingRoom(saleId: string): SellException {
  return new SellException(ErrorCode.NotFound, `Sale ${saleId} has no waiting room`);
}
