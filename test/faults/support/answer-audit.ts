import type { ObservedOrder } from '../../support/invariants';
import type { Buyer, RecordedAnswer } from './buyers';

/**
 * "Every answer matches the database": each buyer's recorded answers held against the orders the
 * database holds once the order pipeline is idle (the README, "What an answer means under faults").
 *
 * - `201`/`200`: done, and durable as REDIS_DURABILITY promises.
 * - a refusal (`4xx`) or `503 UNAVAILABLE`: nothing changed.
 * - `503 OUTCOME_UNKNOWN`, or a request sent that got no answer: it may or may not have happened.
 */
export interface AuditOptions {
  /** Only REDIS_DURABILITY=none with a Redis that lost its memory may lose what it acknowledged. */
  mayLoseAcknowledged: boolean;
  /** Every charge the service refunded (from its log): the order and the provider's reference. */
  refunds: readonly Refund[];
  /** The reference of the charge that paid each paid order, where Redis still knows it. */
  paidReferences: ReadonlyMap<string, string>;
}

export interface Refund {
  orderId: string;
  reference: string;
}

export interface AuditReport {
  /** Each broken rule, with the buyer and their answers, grouped by rule. */
  violations: Map<string, string[]>;
  /** Orders answered 201 that the database does not hold (allowed only when `mayLoseAcknowledged`). */
  lostOrders: number;
  /** Pays and cancels answered 200 whose order is not in that state (same allowance). */
  undoneChanges: number;
  /** Buyers left without a settling answer who nevertheless hold an order (allowed: outcome unknown). */
  unknownThatTookEffect: number;
}

const describeAnswers = (answers: RecordedAnswer[]) => answers.map((answer) => (answer.status === 0 ? `no answer (${answer.code})` : `${answer.status}${answer.code ? ` ${answer.code}` : ''}`)).join(', ');

export function auditAnswers(buyers: Buyer[], orders: ObservedOrder[], options: AuditOptions): AuditReport {
  const report: AuditReport = { violations: new Map(), lostOrders: 0, undoneChanges: 0, unknownThatTookEffect: 0 };
  const violate = (rule: string, detail: string) => report.violations.set(rule, [...(report.violations.get(rule) ?? []), detail]);
  const ordersByUser = new Map<string, ObservedOrder[]>();
  for (const order of orders) ordersByUser.set(order.userId, [...(ordersByUser.get(order.userId) ?? []), order]);
  const buyerIds = new Set(buyers.map((buyer) => buyer.userId));
  for (const order of orders) if (!buyerIds.has(order.userId)) violate('every order belongs to a buyer of the scenario', `order ${order.id} of ${order.userId}`);
  const refundedReferences = new Set(options.refunds.map((refund) => `${refund.orderId} ${refund.reference}`));

  for (const buyer of buyers) {
    const held = ordersByUser.get(buyer.userId) ?? [];
    const purchases = buyer.answers.filter((answer) => answer.action === 'purchase');
    const who = `${buyer.userId} (purchase: ${describeAnswers(purchases)}; holds ${held.map((order) => `${order.id} ${order.status}`).join(', ') || 'nothing'})`;

    // An order that Redis lost before it was stored is truly gone: only then may it answer 404.
    const orderLost = options.mayLoseAcknowledged && !held.some((order) => order.id === buyer.orderId);
    for (const answer of buyer.answers) {
      if (answer.contractProblem) violate('every answer is a contract answer (status, error body, code)', `${buyer.userId} ${answer.action}: ${answer.contractProblem}`);
      if (answer.status === 404 && !(orderLost && answer.code === 'ORDER_NOT_FOUND')) violate('an existing sale or order never answers 404', `${buyer.userId} ${answer.action}: ${answer.status} ${answer.code}`);
    }

    // Purchases.
    const created = purchases.filter((answer) => answer.meaning === 'done');
    const createdIds = new Set(created.map((answer) => answer.orderId));
    const unknown = purchases.some((answer) => answer.meaning === 'unknown' || answer.meaning === 'broken');
    if (held.length > 1) violate('a buyer holds at most one order (one purchase, carried out at most once)', who);
    if (createdIds.size > 1) violate('every 201 to one Idempotency-Key names the same order', who);
    if (created.length > 0) {
      const mine = held.filter((order) => order.id === buyer.orderId);
      if (mine.length !== 1) {
        if (options.mayLoseAcknowledged && held.length === 0) report.lostOrders += 1;
        else violate('a buyer answered 201 holds exactly that order', who);
      }
    } else if (!unknown && held.length > 0) {
      violate('a buyer answered only refusals or 503 UNAVAILABLE holds no order', who);
    } else if (held.length > 0) {
      report.unknownThatTookEffect += 1;
      const last = purchases[purchases.length - 1];
      // A retry with the same key is a replay of the first outcome: once the order exists, a retry
      // cannot be refused. Only a Redis that lost its memory (and the key with it) is excused.
      if (buyer.purchaseKey && last?.meaning === 'refused' && !options.mayLoseAcknowledged) violate('a retry with the same Idempotency-Key replays the purchase that took effect', who);
    }
    // A replayed 201 repeats an earlier request's outcome: if every earlier answer said "nothing changed",
    // one of them was not true.
    if (falselyUnchanged(purchases)) violate('503 UNAVAILABLE means nothing changed (a later retry replayed the order it created)', who);

    // Pays and cancels.
    const order = held.find((candidate) => candidate.id === buyer.orderId);
    for (const action of ['pay', 'cancel'] as const) {
      const target = action === 'pay' ? 'paid' : 'cancelled';
      const asked = buyer.answers.filter((answer) => answer.action === action);
      const changeWho = `${buyer.userId} order ${buyer.orderId} is ${order?.status ?? 'missing'} (${action}: ${describeAnswers(asked)})`;
      const answeredDone = asked.some((answer) => answer.meaning === 'done');
      const mayHaveHappened = asked.some((answer) => answer.meaning === 'unknown' || answer.meaning === 'broken');
      if (falselyUnchanged(asked)) violate(`503 UNAVAILABLE means nothing changed (a later ${action} replayed the one it carried out)`, changeWho);
      if (answeredDone && order?.status !== target) {
        if (options.mayLoseAcknowledged) report.undoneChanges += 1;
        else violate(`a ${action} answered 200 left the order ${target}`, changeWho);
      }
      if (order?.status === target && !answeredDone && !mayHaveHappened) {
        violate(`a ${action} answered with a refusal or 503 UNAVAILABLE left the order unchanged`, changeWho);
      }
    }
    if (order && buyer.intent === 'keep' && order.status !== 'pending_payment') violate('an order nobody paid or cancelled stays pending', `${buyer.userId} order ${order.id} is ${order.status}`);
    // Another charge of a paid order (a retry's, or one whose settle found the order moved on) may be given
    // back; the charge that paid it never may.
    const paidBy = order ? options.paidReferences.get(order.id) : undefined;
    if (order?.status === 'paid' && paidBy !== undefined && refundedReferences.has(`${order.id} ${paidBy}`)) {
      violate('a charge is refunded only when it did not make the order paid', `${buyer.userId} order ${order.id} is paid and the service refunded the charge that paid it (pay: ${describeAnswers(buyer.answers.filter((answer) => answer.action === 'pay'))})`);
    }
  }
  return report;
}

/** True when the first success is a replay and every answer before it said that nothing had changed. */
function falselyUnchanged(answers: RecordedAnswer[]): boolean {
  const first = answers.findIndex((answer) => answer.meaning === 'done');
  return first > 0 && answers[first].replayed && answers.slice(0, first).every((answer) => answer.meaning === 'nothing' || answer.meaning === 'refused');
}

/** `rule: first examples` lines for a failure message. */
export function describeViolations(violations: Map<string, string[]>, examples = 5): string[] {
  return [...violations].map(([rule, details]) => `${rule}: ${details.length} broken, e.g.\n      ${details.slice(0, examples).join('\n      ')}`);
}
