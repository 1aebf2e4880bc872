import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { ErrorCode } from '../common/errors/error-code';
import { isInfrastructureError } from '../common/errors/infrastructure-error';
import { OutcomeUnknownError } from '../common/errors/outcome-unknown.error';
import { SellException } from '../common/errors/sell.exception';
import { DatabaseService } from '../database/database.service';
import { SalesService } from '../sales/sales.service';
import { type ImportResultDto, type ReservationResponseDto, toReservationResponse } from './dto/reservation-response.dto';
import { ReservationsGateway } from './reservations.gateway';
import { ReservationsRepository } from './reservations.repository';

export interface ReserveResult {
  reservation: ReservationResponseDto;
  /** False when the buyer had already reserved (the first reservedAt is returned). */
  created: boolean;
}

/**
 * Reservations: the database is the record (insert-or-ignore, first reservedAt wins), mirrored into the
 * sale's `reservations` hash, which the purchase script checks. The database is written first and Redis
 * gets the database's reservedAt with HSETNX, so a retry after a Redis failure converges.
 *
 * Answers stay true when Redis fails: while Redis is known to be down nothing is written (503
 * UNAVAILABLE); once the database has the reservation, a Redis failure is 503 OUTCOME_UNKNOWN, since the
 * reservation exists but the purchase script does not know it yet — a retry completes it.
 */
@Injectable()
export class ReservationsService {
  constructor(
    private readonly sales: SalesService,
    private readonly reservations: ReservationsRepository,
    private readonly gateway: ReservationsGateway,
    private readonly database: DatabaseService,
    private readonly clock: Clock,
  ) {}

  /** A buyer reserves a place, inside [reservationOpensAt, reservationClosesAt). */
  async reserve(saleId: string, userId: string): Promise<ReserveResult> {
    // Cached row: this is hit by every buyer at once when reservations open.
    const sale = await this.sales.getSaleCached(saleId);
    const now = this.clock.now();
    if (now < sale.reservationOpensAt) {
      throw new SellException(ErrorCode.ReservationNotOpen, `Reservations for sale ${saleId} open at ${new Date(sale.reservationOpensAt).toISOString()}`);
    }
    if (now >= sale.reservationClosesAt) {
      throw new SellException(ErrorCode.ReservationClosed, `Reservations for sale ${saleId} closed at ${new Date(sale.reservationClosesAt).toISOString()}`);
    }
    this.gateway.assertConnected();
    const { reservedAt, created } = await this.database.transaction((manager) => this.reservations.insertOne(manager, saleId, userId, now));
    await completing(`Your reservation for sale ${saleId} is recorded, but making it count for the sale`, () => this.gateway.mirrorOne(saleId, userId, reservedAt));
    return { reservation: toReservationResponse(saleId, userId, reservedAt), created };
  }

  async findMine(saleId: string, userId: string): Promise<ReservationResponseDto> {
    await this.sales.getSaleCached(saleId);
    const reservation = await this.reservations.findOne(saleId, userId);
    if (!reservation) throw new SellException(ErrorCode.ReservationNotFound, `You have no reservation for sale ${saleId}`);
    return toReservationResponse(saleId, userId, reservation.reservedAt);
  }

  /**
   * Ops import: any phase before `endsAt`. Ids repeated in the request or already reserved count as
   * duplicates; a repeated import (e.g. after a 503) changes nothing that is already there.
   */
  async importUserIds(saleId: string, userIds: string[]): Promise<ImportResultDto> {
    const sale = await this.sales.getSale(saleId);
    const now = this.clock.now();
    if (now >= sale.endsAt) throw new SellException(ErrorCode.SaleEnded, `Sale ${saleId} ended at ${new Date(sale.endsAt).toISOString()}`);
    const distinct = [...new Set(userIds)];
    this.gateway.assertConnected();
    const { inserted, existing } = await this.database.transaction((manager) => this.reservations.insertMany(manager, saleId, distinct, now));
    await completing(`The import into sale ${saleId} is recorded, but making it count for the sale`, () => this.gateway.mirror(saleId, allReservations(inserted, now, existing)));
    return { imported: inserted.length, duplicates: userIds.length - inserted.length };
  }
}

/** The Redis half of a change whose database half is committed: its failure is not "nothing changed". */
async function completing(what: string, mirror: () => Promise<void>): Promise<void> {
  try {
    await mirror();
  } catch (error) {
    if (isInfrastructureError(error)) throw new OutcomeUnknownError(`${what} (retry to complete it)`, error);
    throw error;
  }
}

function* allReservations(inserted: string[], now: number, existing: Map<string, number>): Generator<[string, number]> {
  for (const userId of inserted) yield [userId, now];
  yield* existing.entries();
}
