import { ErrorCode } from '@sellout/contract';
import { ApiError, NETWORK_ERROR } from './api';
import { explainError } from './error-messages';

/** What the page says for a code it has no words for; no contract code may end up here. */
const fallbackTitles = new Set(['The shop had an unexpected problem', 'The request was refused']);

describe(explainError.name, () => {
  it.each(Object.values(ErrorCode).filter((code) => code !== ErrorCode.Internal))('explains %s in its own words, with a next step', (code) => {
    const explanation = explainError(new ApiError(409, code, 'server message'));
    expect(fallbackTitles.has(explanation.title)).toBe(false);
    expect(explanation.advice.length).toBeGreaterThan(20);
  });

  it('tells how long to wait when rate limited', () => {
    expect(explainError(new ApiError(429, 'RATE_LIMITED', 'slow down', [], 7)).advice).toContain('7 seconds');
  });

  it('reassures that retrying a purchase after a lost connection is safe', () => {
    expect(explainError(new ApiError(0, NETWORK_ERROR, 'reset')).advice).toContain('never made twice');
  });

  it('quotes the request id of an unexpected error', () => {
    expect(explainError(new ApiError(500, 'INTERNAL', 'boom', [], undefined, 'req-42')).advice).toContain('req-42');
  });

  it('names the per-buyer limit', () => {
    expect(explainError(new ApiError(409, 'LIMIT_REACHED', 'limit'), { perUserLimit: 2 }).advice).toContain('2 units');
  });

  it('lists the fields of a validation failure', () => {
    expect(explainError(new ApiError(400, 'VALIDATION_FAILED', 'bad', [{ field: 'quantity', message: 'must be at least 1' }])).advice).toBe('quantity: must be at least 1');
  });
});
