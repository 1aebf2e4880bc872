import type { ObservedOrder } from '../../support/invariants';
import { auditAnswers, AuditOptions } from './answer-audit';
import { Buyer, Meaning, RecordedAnswer } from './buyers';

/** The fault suite's audit on hand-made histories: each rule fires on the history that breaks it, and only there. */
describe(auditAnswers.name, () => {
  const strict: AuditOptions = { mayLoseAcknowledged: false, refunds: [], paidReferences: new Map() };

  const answer = (action: RecordedAnswer['action'], status: number, code: string | undefined, meaning: Meaning, extra: Partial<RecordedAnswer> = {}): RecordedAnswer => ({
    action,
    status,
    code,
    meaning,
    sentAt: 0,
    endedAt: 0,
    replayed: false,
    ...extra,
  });
  const created = (orderId: string, replayed = false) => answer('purchase', 201, undefined, 'done', { orderId, replayed });
  const unavailable = (action: RecordedAnswer['action'] = 'purchase') => answer(action, 503, 'UNAVAILABLE', 'nothing');
  const outcomeUnknown = (action: RecordedAnswer['action'] = 'purchase') => answer(action, 503, 'OUTCOME_UNKNOWN', 'unknown');
  const refused = (code: string, action: RecordedAnswer['action'] = 'purchase') => answer(action, 409, code, 'refused');
  const ok = (action: RecordedAnswer['action']) => answer(action, 200, undefined, 'done');

  const buyer = (answers: RecordedAnswer[], options: Partial<Buyer> = {}): Buyer => ({
    userId: 'u1',
    token: '',
    intent: 'keep',
    purchaseKey: 'buy-u1',
    answers,
    orderId: answers.find((candidate) => candidate.action === 'purchase' && candidate.meaning === 'done')?.orderId,
    ...options,
  });
  const order = (id: string, status = 'pending_payment', userId = 'u1'): ObservedOrder => ({ id, userId, quantity: 1, status, pool: 'general', fcodeHash: '', createdAt: 0 });
  const rules = (buyers: Buyer[], orders: ObservedOrder[], options = strict) => [...auditAnswers(buyers, orders, options).violations.keys()];

  it('accepts a history where every answer is true', () => {
    const paid = buyer([unavailable(), outcomeUnknown(), created('o1', true), outcomeUnknown('pay'), ok('pay')], { intent: 'pay' });
    const soldOut = buyer([refused('SOLD_OUT')], { userId: 'u2' });

    expect(rules([paid, soldOut], [order('o1', 'paid')])).toEqual([]);
  });

  it('refuses an order held by a buyer who was only refused or answered 503 UNAVAILABLE', () => {
    expect(rules([buyer([unavailable(), refused('LIMIT_REACHED')], { purchaseKey: undefined })], [order('o1')])).toEqual(['a buyer answered only refusals or 503 UNAVAILABLE holds no order']);
  });

  it('refuses a 201 whose order the database lacks, unless acknowledged orders may be lost', () => {
    const history = [buyer([created('o1')])];

    expect(rules(history, [])).toEqual(['a buyer answered 201 holds exactly that order']);
    expect(auditAnswers(history, [], { mayLoseAcknowledged: true, refunds: [], paidReferences: new Map() })).toMatchObject({ lostOrders: 1, violations: new Map() });
  });

  it('refuses a replayed 201 after answers that all said nothing changed', () => {
    expect(rules([buyer([unavailable(), created('o1', true)])], [order('o1')])).toEqual(['503 UNAVAILABLE means nothing changed (a later retry replayed the order it created)']);
  });

  it('refuses a keyed retry refused after the first attempt took effect', () => {
    expect(rules([buyer([outcomeUnknown(), refused('LIMIT_REACHED')])], [order('o1')])).toEqual(['a retry with the same Idempotency-Key replays the purchase that took effect']);
  });

  it('refuses a pay answered with a refusal that left the order paid, and a refund of the charge that paid it', () => {
    const history = [buyer([created('o1'), refused('ORDER_NOT_PENDING', 'pay')], { intent: 'pay' })];
    const paidReferences = new Map([['o1', 'ch_1']]);

    // A refund of another charge of the order (a second attempt's) is allowed.
    expect(rules(history, [order('o1', 'paid')], { mayLoseAcknowledged: false, refunds: [{ orderId: 'o1', reference: 'ch_2' }], paidReferences })).toEqual([
      'a pay answered with a refusal or 503 UNAVAILABLE left the order unchanged',
    ]);
    expect(rules(history, [order('o1', 'paid')], { mayLoseAcknowledged: false, refunds: [{ orderId: 'o1', reference: 'ch_1' }], paidReferences })).toEqual([
      'a pay answered with a refusal or 503 UNAVAILABLE left the order unchanged',
      'a charge is refunded only when it did not make the order paid',
    ]);
  });

  it('refuses a cancel answered 200 that did not cancel, and a cancel answered 503 UNAVAILABLE that did', () => {
    const answeredDone = buyer([created('o1'), ok('cancel')], { intent: 'cancel' });
    const answeredUnavailable = buyer([created('o2'), unavailable('cancel'), refused('ORDER_NOT_PENDING', 'cancel')], { userId: 'u2', intent: 'cancel' });

    expect(rules([answeredDone, answeredUnavailable], [order('o1'), order('o2', 'cancelled', 'u2')])).toEqual([
      'a cancel answered 200 left the order cancelled',
      'a cancel answered with a refusal or 503 UNAVAILABLE left the order unchanged',
    ]);
  });

  it('refuses a 404 for an existing sale and an answer outside the contract', () => {
    const history = [buyer([answer('purchase', 404, 'SALE_NOT_FOUND', 'refused'), answer('purchase', 500, 'INTERNAL', 'broken', { contractProblem: '500 INTERNAL is not a contract answer' })])];

    expect(rules(history, [])).toEqual(['an existing sale or order never answers 404', 'every answer is a contract answer (status, error body, code)']);
  });
});
