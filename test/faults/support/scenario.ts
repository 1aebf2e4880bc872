import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import jwt from 'jsonwebtoken';
import type Redis from 'ioredis';
import { DEFAULT_KEY_PREFIX, RedisKeys } from '../../../src/redis/redis-keys';
import { assertInvariants, InvariantSource, ObservedOrder } from '../../support/invariants';
import { ControlledRedisServer, freePort, RedisServerOptions, startRedisServer } from '../../support/test-services';
import { auditAnswers, AuditReport, describeViolations } from './answer-audit';
import { Buyer, Intent, labelOf, RecordedAnswer, runBuyers } from './buyers';
import { createFaultDatabase, FaultDatabase } from './fault-database';
import { HttpClient } from './http-client';
import { ServiceProcess } from './service-process';

/** The size of every scenario's sell-out (issue: at least 2,000 units to at least 3,000 buyers). */
export const SELL_OUT = { stock: 2_000, buyers: 3_000, concurrency: 150, maxAttempts: 40, loadDeadlineMs: 30_000 } as const;
/** The fault starts once this many purchases were answered 201: mid sell-out, with pays and cancels under way. */
const FAULT_AFTER_CREATED = 600;
const IDLE_TIMEOUT_MS = 15_000;

export type Durability = 'none' | 'aof' | 'replicas:1';

/** What a fault can act on while the sell-out runs. */
export interface FaultContext {
  service: ServiceProcess;
  redis: ControlledRedisServer;
  database: FaultDatabase;
  client: HttpClient;
  saleId: string;
  /** Records a moment of the fault (ms on the scenario clock) for the summary and the checks. */
  mark(event: string): void;
  marks: Map<string, number>;
  /** Resolves once `count` more answers have arrived (or after `timeoutMs`, when the load has ended). */
  answersArrive(count: number, timeoutMs?: number): Promise<void>;
  /** Facts the fault found that its own check needs (e.g. requests in flight at SIGTERM). */
  facts: Record<string, unknown>;
}

export interface FaultScenario {
  /** The fault, as the summary and the test name show it. */
  name: string;
  durability: Durability;
  /** How the primary Redis persists (none unless given). */
  redis?: Omit<RedisServerOptions, 'port' | 'replicaOf'>;
  /** Runs a replica of the primary (REDIS_DURABILITY=replicas:1 waits for it). */
  replica?: boolean;
  /** More environment for the service. */
  env?: Record<string, string>;
  /** What a DB outage does (PostgreSQL only). */
  databaseOutage?: 'cut' | 'stall';
  /** Only REDIS_DURABILITY=none after Redis lost its memory may lose acknowledged orders. */
  mayLoseAcknowledged?: boolean;
  inject(context: FaultContext): Promise<void>;
  /** Checks of the fault itself, after the common ones (each returned string is a broken rule). */
  check?(context: FaultContext, buyers: Buyer[]): string[];
  /** Reason to skip on this database kind, if any. */
  skip?(database: 'postgres' | 'sqlite'): string | undefined;
}

export interface ScenarioResult {
  failures: string[];
  summary: string;
}

export function databaseKind(): 'postgres' | 'sqlite' {
  return process.env.DATABASE_URL && /^postgres(ql)?:/.test(process.env.DATABASE_URL) ? 'postgres' : 'sqlite';
}

async function waitForReplica(primary: ControlledRedisServer): Promise<void> {
  const client = primary.client();
  try {
    const deadline = Date.now() + 10_000;
    while (!/connected_slaves:[1-9]/.test(await client.info('replication'))) {
      if (Date.now() > deadline) throw new Error('the replica did not connect to the primary within 10 s');
      await sleep(50);
    }
  } finally {
    client.disconnect();
  }
}

function countBy<T>(items: T[], key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].sort((left, right) => right[1] - left[1]).map(([label, count]) => `${label} ×${count}`).join(', ') || 'none';
}

const seconds = (ms: number | undefined) => (ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`);

class Scenario {
  private readonly secret = randomBytes(24).toString('hex');
  private readonly opsToken: string;
  private readonly dataDirectory = mkdtempSync(join(tmpdir(), 'sellout-fault-data-'));
  private redis?: ControlledRedisServer;
  private replica?: ControlledRedisServer;
  private database?: FaultDatabase;
  private service?: ServiceProcess;
  private client?: HttpClient;
  private admin?: Redis;
  private readonly failures: string[] = [];
  private readonly lines: string[] = [];
  private readonly setup: string[] = [];

  constructor(private readonly definition: FaultScenario) {
    this.opsToken = this.sign('ops-fault', ['ops']);
  }

  private sign(userId: string, roles: string[] = []): string {
    return jwt.sign({ roles }, this.secret, { algorithm: 'HS256', subject: userId, expiresIn: 3600 });
  }

  async run(): Promise<ScenarioResult> {
    try {
      await this.execute();
    } catch (error) {
      this.failures.push(`the scenario could not run: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      await this.cleanUp();
    }
    return { failures: this.failures, summary: this.lines.join('\n') };
  }

  private async execute(): Promise<void> {
    const definition = this.definition;
    const begun = Date.now();
    this.redis = await startRedisServer(definition.redis ?? {});
    if (definition.replica) {
      this.replica = await startRedisServer({ replicaOf: `127.0.0.1:${this.redis.port}` });
      await waitForReplica(this.redis);
    }
    this.database = await createFaultDatabase(definition.databaseOutage);
    const port = await freePort();
    this.service = new ServiceProcess({
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      REDIS_URL: this.redis.url,
      DATABASE_URL: this.database.serviceUrl,
      DATA_DIR: this.dataDirectory,
      JWT_SECRET: this.secret,
      REDIS_DURABILITY: definition.durability,
      // A killed process leaves order events claimed by its writer; the next one takes them over after this.
      ORDER_WRITER_CLAIM_IDLE_MS: '1000',
      ...(definition.env ?? {}),
    });
    const booting = Date.now();
    await this.service.start();
    this.setup.push(`service boot ${seconds(Date.now() - booting)}`);
    this.client = new HttpClient(port, SELL_OUT.concurrency + 20);
    const client = this.client;

    const saleId = await this.createSale();
    const buyers = this.makeBuyers(saleId);
    await this.importReservations(saleId, buyers);
    const live = client.now();
    this.setup.unshift(`setup ${seconds(Date.now() - begun)}`);

    // The fault starts mid sell-out, on an answer count rather than after a guessed delay.
    const marks = new Map<string, number>();
    let answers = 0;
    let created = 0;
    const waiters: { target: number; resolve: () => void }[] = [];
    let startFault: () => void = () => undefined;
    const faultDue = new Promise<void>((resolve) => (startFault = resolve));
    const context: FaultContext = {
      service: this.service,
      redis: this.redis,
      database: this.database,
      client,
      saleId,
      marks,
      facts: {},
      mark: (event) => marks.set(event, client.now()),
      answersArrive: (count, timeoutMs = 3_000) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          waiters.push({ target: answers + count, resolve: () => (clearTimeout(timer), resolve()) });
        }),
    };
    const onAnswer = (_buyer: Buyer, answer: RecordedAnswer) => {
      answers += 1;
      if (answer.action === 'purchase' && answer.meaning === 'done' && ++created === FAULT_AFTER_CREATED) startFault();
      for (const waiter of waiters.filter((candidate) => candidate.target <= answers)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    };
    const load = runBuyers(client, { saleId, buyers, concurrency: SELL_OUT.concurrency, deadlineMs: live + SELL_OUT.loadDeadlineMs, maxAttempts: SELL_OUT.maxAttempts, onAnswer }).then(() => {
      context.mark('load done');
      startFault();
    });
    const fault = faultDue.then(async () => {
      context.mark('fault');
      await definition.inject(context);
      context.mark('fault over');
    });
    await Promise.all([load, fault]);

    // The order pipeline must go idle, then the invariants and every answer are checked against the record.
    const idle = await this.waitForIdle(saleId);
    if (idle.problem) this.failures.push(idle.problem);
    context.mark('idle');
    // A connection of its own, opened now: the Redis of the start may have been killed and restarted.
    this.admin = this.redis.client();
    try {
      await assertInvariants(this.invariantSource(), saleId, { idleTimeoutMs: 1 });
    } catch (error) {
      this.failures.push(`the five invariants: ${error instanceof Error ? error.message : String(error)}`);
    }
    const orders = await this.database.ordersOf(saleId);
    const paidReferences = await this.paidReferences(saleId, orders);
    const audit = auditAnswers(buyers, orders, { mayLoseAcknowledged: definition.mayLoseAcknowledged ?? false, refunds: this.service.refunds, paidReferences });
    if (audit.violations.size > 0) this.failures.push(`every answer matches the database:\n    ${describeViolations(audit.violations).join('\n    ')}`);
    for (const problem of definition.check?.(context, buyers) ?? []) this.failures.push(problem);
    this.summarise(buyers, orders, audit, marks, live, idle.stats);
  }

  private async createSale(): Promise<string> {
    const now = Date.now();
    const startsAt = now + 1_000;
    const iso = (epochMs: number) => new Date(epochMs).toISOString();
    const response = await this.expectOk('POST', '/api/admin/sales', {
      sku: `fault-${randomBytes(4).toString('hex')}`,
      name: 'Fault suite phone',
      priceCents: 69_900,
      stock: SELL_OUT.stock,
      perUserLimit: 1,
      reservationRequired: true,
      reservationOpensAt: iso(now),
      reservationClosesAt: iso(startsAt),
      startsAt: iso(startsAt),
      endsAt: iso(startsAt + 3_600_000),
      paymentWindowSeconds: 900,
    });
    return response.id as string;
  }

  /**
   * Four in ten buyers pay their order, two in ten cancel it, the rest leave it pending; one in ten buys
   * without an Idempotency-Key (so a purchase run twice shows as a refusal to someone who holds an order).
   */
  private makeBuyers(saleId: string): Buyer[] {
    const intents: Intent[] = ['pay', 'keep', 'cancel', 'pay', 'keep', 'pay', 'keep', 'cancel', 'pay', 'keep'];
    return Array.from({ length: SELL_OUT.buyers }, (_, index) => {
      const userId = `b${index}-${saleId.slice(-6)}`;
      const purchaseKey = index % 10 === 9 ? undefined : `buy-${userId}`;
      return { userId, token: this.sign(userId), intent: intents[index % intents.length], purchaseKey, answers: [] };
    });
  }

  private async importReservations(saleId: string, buyers: Buyer[]): Promise<void> {
    await this.expectOk('POST', `/api/admin/sales/${saleId}/reservations/import`, { userIds: buyers.map((buyer) => buyer.userId) });
    const sale = await this.expectOk('GET', `/api/admin/sales/${saleId}`);
    const wait = Date.parse(sale.startsAt) - Date.parse(sale.serverTime);
    if (wait > 0) await sleep(wait + 5);
  }

  private async expectOk(method: string, path: string, body?: unknown): Promise<any> {
    const answer = await (this.client as HttpClient).request(method, path, { token: this.opsToken, body });
    if (answer.status < 200 || answer.status >= 300) throw new Error(`${method} ${path} answered ${labelOf(answer)}: ${JSON.stringify(answer.body).slice(0, 300)}`);
    return answer.body;
  }

  /** Polls the sale's stats until every accepted order is persisted and the writer has nothing left. */
  private async waitForIdle(saleId: string): Promise<{ problem?: string; stats?: any }> {
    const deadline = Date.now() + IDLE_TIMEOUT_MS;
    let last: string = 'no answer yet';
    let stats: any;
    for (;;) {
      const answer = await (this.client as HttpClient).request('GET', `/api/admin/sales/${saleId}/stats`, { token: this.opsToken });
      if (answer.status === 200) {
        stats = answer.body;
        const lag = stats.orderWriter?.lag ?? 0;
        if (stats.orders.persisted === stats.accepted && lag === 0) return { stats };
        last = `accepted ${stats.accepted}, persisted ${stats.orders.persisted}, writer lag ${lag}, parked ${stats.orderWriter?.parked ?? '?'}`;
      } else {
        last = `stats answered ${labelOf(answer)}`;
      }
      if (Date.now() > deadline) return { problem: `the order pipeline went idle (persisted == accepted) within ${IDLE_TIMEOUT_MS / 1000} s: last ${last}`, stats };
      await sleep(100);
    }
  }

  /** Which charge paid each paid order, as its Redis hash says (a hash rebuilt from the database has none). */
  private async paidReferences(saleId: string, orders: ObservedOrder[]): Promise<Map<string, string>> {
    const keys = new RedisKeys(DEFAULT_KEY_PREFIX).forSale(saleId);
    const paid = orders.filter((order) => order.status === 'paid');
    const references = new Map<string, string>();
    for (const order of paid) {
      const reference = await (this.admin as Redis).hget(keys.order(order.id), 'paymentReference');
      if (reference) references.set(order.id, reference);
    }
    return references;
  }

  private invariantSource(): InvariantSource {
    return {
      redis: this.admin as Redis,
      // The service runs with the default REDIS_KEY_PREFIX.
      keys: new RedisKeys(DEFAULT_KEY_PREFIX),
      databaseOrders: (saleId) => (this.database as FaultDatabase).ordersOf(saleId),
      // waitForIdle has already waited for the pipeline through the service's own stats.
      waitForOrderWriter: async () => undefined,
    };
  }

  private summarise(buyers: Buyer[], orders: { status: string }[], audit: AuditReport, marks: Map<string, number>, live: number, stats: any): void {
    const answers = buyers.flatMap((buyer) => buyer.answers);
    const of = (action: string) => countBy(answers.filter((answer) => answer.action === action), (answer) => (answer.status === 0 ? `no answer (${answer.code})` : `${answer.status}${answer.code ? ` ${answer.code}` : ''}`));
    const timeline = [...marks].map(([event, at]) => `${event} ${seconds(at - live)}`).join(', ');
    this.lines.push(
      `  purchase: ${of('purchase')}`,
      `  pay: ${of('pay')}`,
      `  cancel: ${of('cancel')}`,
      `  read order: ${of('read')}`,
      `  orders in the database: ${orders.length} (${countBy(orders, (order) => order.status)}); accepted ${stats?.accepted ?? '?'}; units left ${stats?.stock?.generalRemaining ?? '?'} of ${SELL_OUT.stock}`,
      `  lost: ${audit.lostOrders} order(s) answered 201, ${audit.undoneChanges} pay/cancel answered 200 undone; outcome unknown but taken effect: ${audit.unknownThatTookEffect}`,
      `  service: ${this.service?.starts} start(s), ${this.service?.errorRecords} error log record(s), ${this.service?.refunds.length} refund(s) logged`,
      `  timeline from the sale going live: ${timeline} (${this.setup.join(', ')})`,
    );
  }

  private async cleanUp(): Promise<void> {
    this.client?.close();
    this.admin?.disconnect();
    await this.service?.stop('SIGKILL').catch(() => undefined);
    await this.replica?.stop();
    await this.redis?.stop();
    await this.database?.close().catch(() => undefined);
    rmSync(this.dataDirectory, { recursive: true, force: true });
  }
}

/** Runs one fault scenario end to end; the result lists every broken check, first the first one found. */
export function runScenario(definition: FaultScenario): Promise<ScenarioResult> {
  return new Scenario(definition).run();
}
