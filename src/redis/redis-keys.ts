/**
 * Every Redis key and channel Sellout uses, built in one place.
 *
 * All keys of one sale share the hash tag `{sale:<id>}`, so every script that touches a sale runs
 * unchanged on Redis Cluster (all its keys hash to one slot). Keys without a tag (`salesIndex`) are never
 * passed to a script.
 *
 * Layout of a sale's state (what each script reads and writes):
 *
 * - `sale` (hash) — the sale as the hot path needs it, plus its counters:
 *     startsAt, endsAt, fcodeOpensAt, reservationOpensAt, reservationClosesAt   epoch ms
 *     paused (0|1), reservationRequired (0|1), perUserLimit, priceCents, currency, paymentWindowMs
 *     admission (open|queue|lottery; missing = open), admissionRatePerSecond
 *     general, fcode                    units ever loaded per pool (the stock equation's totals)
 *     generalRemaining, fcodeRemaining  unsold units per pool
 *     unitsSold                         units in live orders (pending_payment + paid)
 *     accepted                          orders ever accepted (201)
 *     pending_payment, paid, expired, cancelled   orders by status
 *     fcodesRedeemed                    F-codes currently backing a live order
 *     stockVersion                      bumped whenever units are added or returned (clears sold-out flags)
 * - `reservations` (hash) userId → reservedAt (epoch ms)
 * - `buyers` (hash) userId → units held in live orders
 * - `order:<orderId>` (hash) — the live order: id, saleId, userId, quantity, unitPriceCents,
 *     amountCents, currency, status, pool, fcodeHash ('' if none), createdAt, payBy, paidAt ('' if unpaid)
 * - `user-orders:<userId>` (set) order ids of this buyer in this sale
 * - `deadlines` (sorted set) orderId → payBy, for pending orders only (the expiry sweeper's work list)
 * - `idem:<scope>:<length of userId>:<userId>:<key>` (string) an idempotent response, 24 h TTL
 * - `adjustment:<id>` (string) what one stock change did, `applied:total:remaining:stockVersion`, 24 h TTL
 *     (src/redis/scripts/adjust-stock.lua)
 * - `events` (stream) the order outbox, read by the order writer's consumer group:
 *     type=created order=<order JSON>      |   type=status orderId=<id> status=<status> at=<ms>
 * - `events:dead` (stream) messages the writer gave up on (parked, counted, never retried forever)
 * - `fcode:<codeHash>` (hash) userId ('' if unbound), expiresAt (0 if never), status (issued|void),
 *     orderId ('' or the live order it backs)
 * - `queue` (sorted set) userId → place in the waiting room: a random score in [0, 1) for those who
 *     joined before startsAt, 1 + arrival number after (src/redis/scripts/waiting-room.lua); the record of
 *     the line is the `queue_entries` table (places, admission times) and `sales.queue_admitted`
 * - `queue:state` (hash) admitted (places admitted from the front), accruedAt (ms), credit (thousandths
 *     of an admission earned), arrivals (joins after startsAt)
 * - `queue:admitted` (hash) userId → when the buyer first saw their admission (their token runs from it)
 * - `lottery:entries` (hash) userId → enteredAt (epoch ms), until the draw: the copy of the entries (the
 *     record is the `lottery_entries` table) that the entry script checks against
 * - `lottery:ranks` (hash) the draw's ranking in buckets: field = the first 2 bytes of SHA-256(userId) in
 *     hex, value = 34-byte records, one per entry of the bucket: the other 30 bytes of that hash, then the
 *     0-based rank (uint32, big-endian) (src/admission/lottery/lottery-ranking.core.ts; written at the draw)
 * - `lottery:state` (hash) admitted (ranks admitted so far), entries, rounds, round:<n> = '<admitted>:<buyBy>'
 *     (src/redis/scripts/lottery-draw.lua writes the draw's, lottery-rounds.lua opens the next ones)
 *
 * Every key and channel starts with the deployment's prefix (`REDIS_KEY_PREFIX`), so one Redis can hold
 * several deployments without one reading another's sales. Keys of the deployment itself:
 *
 * - `<prefix>:deployment` (string) the id of the database this prefix is bound to; its disappearance
 *     tells every process that Redis lost its memory
 * - `<prefix>:rebuild-lock` (string, with a TTL) held by the process rebuilding sales after such a loss
 * - `<prefix>:deployment:{m<n>}` (string) on a Redis Cluster, a copy of the deployment id on each master
 *     (`n` picked so that the key's slot is one of that master's): a master that lost its memory alone
 *     is noticed by its copy's disappearance
 * - `<prefix>:waiting-rooms` (set) sale ids whose waiting room has been joined (never passed to a script)
 */
export const DEFAULT_KEY_PREFIX = 'sellout';
/** What `REDIS_KEY_PREFIX` may be: it is spelled into every key and channel name. */
export const KEY_PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export class SaleKeys {
  readonly tag: string;

  constructor(
    readonly saleId: string,
    private readonly prefix: string = DEFAULT_KEY_PREFIX,
  ) {
    this.tag = `{sale:${saleId}}`;
  }

  private key(name: string): string {
    return `${this.prefix}:${this.tag}:${name}`;
  }

  get sale(): string {
    return this.key('sale');
  }
  get reservations(): string {
    return this.key('reservations');
  }
  get buyers(): string {
    return this.key('buyers');
  }
  get deadlines(): string {
    return this.key('deadlines');
  }
  get events(): string {
    return this.key('events');
  }
  get deadEvents(): string {
    return this.key('events:dead');
  }
  order(orderId: string): string {
    return this.key(`order:${orderId}`);
  }
  userOrders(userId: string): string {
    return this.key(`user-orders:${userId}`);
  }
  /**
   * The user id is length-prefixed: user ids and keys may both hold `:`, and without the length user `u:x`
   * with key `y` and user `u` with key `x:y` would share one record.
   */
  idempotency(scope: string, userId: string, idempotencyKey: string): string {
    return this.key(`idem:${scope}:${userId.length}:${userId}:${idempotencyKey}`);
  }
  adjustment(adjustmentId: string): string {
    return this.key(`adjustment:${adjustmentId}`);
  }
  fcode(codeHash: string): string {
    return this.key(`fcode:${codeHash}`);
  }
  get queue(): string {
    return this.key('queue');
  }
  get queueState(): string {
    return this.key('queue:state');
  }
  get queueAdmittedAt(): string {
    return this.key('queue:admitted');
  }
  get lotteryEntries(): string {
    return this.key('lottery:entries');
  }
  get lotteryRanks(): string {
    return this.key('lottery:ranks');
  }
  get lotteryState(): string {
    return this.key('lottery:state');
  }
}

/**
 * The keys of one deployment, built from its prefix. One instance per process (provided by `RedisModule`
 * from `REDIS_KEY_PREFIX`); inject it as `RedisKeys`.
 */
export class RedisKeys {
  /** Set of every sale id with state in Redis; lets the order writer and sweeper find their work. */
  readonly salesIndex: string;
  /** Pub/sub channel announcing that a pool has units again (`<saleId>:<stockVersion>`). */
  readonly soldOutChannel: string;
  /** The deployment id this prefix is bound to (see `DeploymentBinding`). */
  readonly deployment: string;
  /** Held while one process rebuilds every open sale after Redis lost its memory. */
  readonly rebuildLock: string;
  /** Set of sale ids with a waiting room that buyers have joined: what the admission ticker moves on. */
  readonly waitingRooms: string;

  constructor(readonly prefix: string = DEFAULT_KEY_PREFIX) {
    if (!KEY_PREFIX_PATTERN.test(prefix)) throw new Error(`Invalid Redis key prefix "${prefix}"`);
    this.salesIndex = `${prefix}:sales`;
    this.soldOutChannel = `${prefix}:stock`;
    this.deployment = `${prefix}:deployment`;
    this.rebuildLock = `${prefix}:rebuild-lock`;
    this.waitingRooms = `${prefix}:waiting-rooms`;
  }

  /** The `n`th candidate for a master's copy of the deployment id (see `DeploymentGateway`). */
  deploymentMarker(n: number): string {
    return `${this.prefix}:deployment:{m${n}}`;
  }

  forSale(saleId: string): SaleKeys {
    return new SaleKeys(saleId, this.prefix);
  }

  /** Rate-limit counters for wrong F-code attempts (not part of any sale's script). */
  fcodeAttempts(kind: 'user' | 'ip', subject: string): string {
    return `${this.prefix}:fcode-attempts:${kind}:${subject}`;
  }
}

export const ORDER_WRITER_GROUP = 'order-writers';
