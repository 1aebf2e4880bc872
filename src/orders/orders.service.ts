import { Injectable, Logger } from '@nestjs/common';
import { OPS_ROLE, type AuthUser } from '../auth/token.service';
import { Clock } from '../common/clock';
import { ErrorCode } from '../common/errors/error-code';
import { SellException } from '../common/errors/sell.exception';
import { ID_PATTERN, saleIdOfOrder } from '../common/ids';
import { SaleRebuildService } from '../rebuild/sale-rebuild.service';
import { SalesRepository } from '../sales/sales.repository';
import { MalformedOrderError, orderFromEntity, orderFromFields, OrderRecord } from './order-record';
import { OrdersGateway } from './orders.gateway';
import { OrdersRepository } from './orders.repository';

/** Most orders `GET /api/me/orders` lists from the database (a buyer holds a handful per sale). */
export const MY_ORDERS_LIMIT = 500;

/**
 * Reads orders. While a sale runs, the `order:<id>` hash in Redis is the live state (it exists from the
 * moment of the 201, before the order writer has stored the row); the database is the record after that.
 */
@Injectable()
export class OrdersService {
  private readonly logger = new Logger(OrdersService.name);

  constructor(
    private readonly gateway: OrdersGateway,
    private readonly orders: OrdersRepository,
    private readonly sales: SalesRepository,
    private readonly clock: Clock,
    private readonly rebuild: SaleRebuildService,
  ) {}

  /**
   * The order, if it exists, for its owner or ops: 404 ORDER_NOT_FOUND, 403 FORBIDDEN otherwise (503
   * UNAVAILABLE while Redis has lost its sale's state, see `SaleRebuildService.orderMissingError`).
   */
  async getOrderFor(orderId: string, user: AuthUser): Promise<OrderRecord> {
    const order = await this.findOrder(orderId);
    if (!order) {
      // A well-formed id may name an order that Redis lost before the order writer stored it.
      throw ID_PATTERN.test(orderId) ? await this.rebuild.orderMissingError(orderId) : new SellException(ErrorCode.OrderNotFound, `Order ${orderId} does not exist`);
    }
    if (order.userId !== user.userId && !user.roles.includes(OPS_ROLE)) throw new SellException(ErrorCode.Forbidden, 'This order belongs to another buyer');
    return order;
  }

  /** Redis first, then the database; undefined when neither knows the id. */
  async findOrder(orderId: string): Promise<OrderRecord | undefined> {
    if (!ID_PATTERN.test(orderId)) return undefined;
    const saleId = saleIdOfOrder(orderId);
    if (saleId !== undefined) {
      const live = this.fromHash(await this.gateway.orderHash(saleId, orderId));
      if (live) return live;
    }
    const stored = await this.orders.findById(orderId);
    return stored ? orderFromEntity(stored) : undefined;
  }

  /** The buyer's orders, newest first: the database's, with the live Redis state of recent sales on top. */
  async listFor(userId: string): Promise<OrderRecord[]> {
    const [stored, liveSaleIds] = await Promise.all([this.orders.findByUser(userId, MY_ORDERS_LIMIT), this.liveSaleIds()]);
    const byId = new Map(stored.map((entity) => [entity.id, orderFromEntity(entity)]));
    for (const order of await this.liveOrdersOf(userId, liveSaleIds)) byId.set(order.id, order);
    return [...byId.values()].sort((left, right) => right.createdAt - left.createdAt || (left.id < right.id ? 1 : left.id > right.id ? -1 : 0));
  }

  /** Sales whose orders may still change in Redis: not ended, or ended less than a payment window ago. */
  private liveSaleIds(): Promise<string[]> {
    return this.sales.idsWithPaymentWindowOpenAt(this.clock.now());
  }

  /**
   * The buyer's live orders in these sales. When Redis lost the state of some of them, their orders may be
   * in neither store for now (in a batch an order writer read before the loss): 503 until they are rebuilt.
   */
  private async liveOrdersOf(userId: string, saleIds: string[]): Promise<OrderRecord[]> {
    const { hashes, missingSales } = await this.gateway.buyerLiveOrders(userId, saleIds);
    if (missingSales.length > 0) throw this.rebuild.liveStateMissingError(missingSales, 'The live state of your orders');
    return hashes.flatMap((hash) => {
      const order = this.fromHash(hash);
      return order ? [order] : [];
    });
  }

  private fromHash(hash: Record<string, string>): OrderRecord | undefined {
    if (Object.keys(hash).length === 0) return undefined;
    try {
      return orderFromFields(hash);
    } catch (error) {
      if (!(error instanceof MalformedOrderError)) throw error;
      // A damaged live hash must not hide the order: the database copy is served instead.
      this.logger.warn(`Order hash ${String(hash.id)} is malformed (${error.message}); reading the database`);
      return undefined;
    }
  }
}
