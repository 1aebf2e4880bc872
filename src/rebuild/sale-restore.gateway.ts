import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../redis/redis-topology';
import type { FcodeEntity } from '../fcodes/fcode.entity';
import type { OrderEntity } from '../orders/order.entity';
import type { QueueEntryEntity } from '../admission/waiting-room/queue-entry.entity';
import { runScript } from '../redis/lua-scripts';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';

const BUYERS_PER_CALL = 2_000;
const ORDERS_PER_CALL = 500;
const FCODES_PER_CALL = 1_000;
const QUEUE_ENTRIES_PER_CALL = 1_000;

/** Thrown when the sale's hash appeared mid-restore: another instance restored it first. */
export class RestoredElsewhereError extends Error {
  constructor(saleId: string) {
    super(`Sale ${saleId} was restored by another instance`);
    this.name = 'RestoredElsewhereError';
  }
}

/**
 * Writes the bulk parts of a sale's rebuilt Redis state (the reservations go through ReservationsGateway,
 * as the import's do). Every script refuses (-1) once the `sale` hash
 * exists, and never overwrites what is there, so a restore can never clobber live state.
 */
@Injectable()
export class SaleRestoreGateway {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async restoreBuyers(saleId: string, unitsByBuyer: Map<string, number>): Promise<void> {
    const keys = this.keys.forSale(saleId);
    const entries = [...unitsByBuyer.entries()];
    for (let start = 0; start < entries.length; start += BUYERS_PER_CALL) {
      const args = entries.slice(start, start + BUYERS_PER_CALL).flat();
      this.check(saleId, await runScript<number>(this.redis, 'restore-buyers', [keys.sale, keys.buyers], args));
    }
  }

  /** The `order:<id>` hashes and buyers' order sets of live orders, and the deadlines of pending ones. */
  async restoreLiveOrders(saleId: string, orders: OrderEntity[]): Promise<void> {
    const keys = this.keys.forSale(saleId);
    for (let start = 0; start < orders.length; start += ORDERS_PER_CALL) {
      const chunk = orders.slice(start, start + ORDERS_PER_CALL);
      const orderKeys = chunk.flatMap((order) => [keys.order(order.id), keys.userOrders(order.userId)]);
      const args = chunk.flatMap((order) => [
        order.id,
        order.saleId,
        order.userId,
        order.quantity,
        order.unitPriceCents,
        order.amountCents,
        order.currency,
        order.status,
        order.pool,
        order.fcodeHash ?? '',
        order.createdAt,
        order.payBy,
        order.paidAt ?? '',
      ]);
      this.check(saleId, await runScript<number>(this.redis, 'restore-orders', [keys.sale, keys.deadlines, ...orderKeys], args));
    }
  }

  /** The `fcode:<hash>` hashes, each with the live order it backs ('' for none). */
  async restoreFcodes(saleId: string, codes: FcodeEntity[], orderByCodeHash: Map<string, string>): Promise<void> {
    const keys = this.keys.forSale(saleId);
    for (let start = 0; start < codes.length; start += FCODES_PER_CALL) {
      const chunk = codes.slice(start, start + FCODES_PER_CALL);
      const args = chunk.flatMap((code) => [code.userId ?? '', code.expiresAt ?? 0, code.status, orderByCodeHash.get(code.codeHash) ?? '']);
      this.check(saleId, await runScript<number>(this.redis, 'restore-fcodes', [keys.sale, ...chunk.map((code) => keys.fcode(code.codeHash))], args));
    }
  }

  /**
   * A waiting room's line (a page of its buyers, with their places and admission times) and its state:
   * `admitted` places from the front, `arrivals` after the start, admission accruing from `now`. Also
   * listed again among the waiting rooms the ticker moves on.
   */
  async restoreQueue(saleId: string, entries: QueueEntryEntity[], line: { admitted: number; arrivals: number; now: number }): Promise<void> {
    const keys = this.keys.forSale(saleId);
    for (let start = 0; start < entries.length; start += QUEUE_ENTRIES_PER_CALL) {
      const args = entries.slice(start, start + QUEUE_ENTRIES_PER_CALL).flatMap((entry) => [entry.userId, entry.place, entry.admittedAt ?? '']);
      this.check(saleId, await runScript<number>(this.redis, 'restore-queue', [keys.sale, keys.queue, keys.queueAdmittedAt, keys.queueState], [line.admitted, line.arrivals, line.now, ...args]));
    }
    await this.redis.sadd(this.keys.waitingRooms, saleId);
  }

  private check(saleId: string, reply: number): void {
    if (reply === -1) throw new RestoredElsewhereError(saleId);
  }
}
