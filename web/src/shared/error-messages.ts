import { ApiError, NETWORK_ERROR } from './api';
import { describeDuration } from './format';

export interface ErrorExplanation {
  /** What happened, in plain words. */
  title: string;
  /** What the person can do next. */
  advice: string;
}

export interface ExplainContext {
  perUserLimit?: number;
}

/** Every error code of the contract (and a lost connection), told in plain words with a next step. */
export function explainError(error: unknown, context: ExplainContext = {}): ErrorExplanation {
  if (!(error instanceof ApiError)) {
    return { title: 'Something went wrong in this page', advice: 'Reload the page and try again.' };
  }
  switch (error.code) {
    case NETWORK_ERROR:
      return { title: 'No connection to the shop', advice: 'Check your internet connection. It is safe to try again: a purchase is never made twice.' };
    case 'UNAVAILABLE':
      return { title: 'The shop is overloaded for a moment', advice: 'Nothing was changed or charged. Try again in a few seconds; it is safe to retry.' };
    case 'OUTCOME_UNKNOWN':
      return { title: 'We could not confirm that in time', advice: 'It may have gone through. Check your orders before trying again; retrying the same purchase is safe and never buys twice.' };
    case 'RATE_LIMITED': {
      const wait = error.retryAfterSeconds !== undefined ? describeDuration(error.retryAfterSeconds * 1000) : 'a few seconds';
      return { title: 'Too many attempts in a short time', advice: `Please wait ${wait} before trying again.` };
    }
    case 'SOLD_OUT':
      return { title: 'Sold out', advice: 'Every unit has been sold. Units from orders that are not paid in time go back on sale, so it may be worth checking again in a few minutes.' };
    case 'LIMIT_REACHED':
      return {
        title: 'You have reached the limit for this sale',
        advice: `Each buyer may hold ${context.perUserLimit ?? 'only a few'} unit${context.perUserLimit === 1 ? '' : 's'} at most. Pay for the order you already have, or cancel it to buy a different quantity.`,
      };
    case 'NOT_ELIGIBLE':
      return { title: 'This sale is for buyers who reserved a place', advice: 'You did not reserve before reservations closed. If you have an F-code, enter it and buy with it.' };
    case 'NOT_ADMITTED':
      return { title: 'It is not your turn yet', advice: 'This sale lets buyers in through its waiting room or its draw. Keep this page open: the Buy button turns on when you are admitted.' };
    case 'SALE_NOT_STARTED':
      return { title: 'The sale has not started yet', advice: 'Keep this page open: the Buy button turns on by itself at the start time.' };
    case 'SALE_PAUSED':
      return { title: 'The sale is paused', advice: 'The shop has paused the sale for a moment. Keep this page open and buy as soon as it resumes.' };
    case 'SALE_ENDED':
      return { title: 'The sale has ended', advice: 'No more purchases are possible for this sale. Check the list of sales for upcoming ones.' };
    case 'FCODE_INVALID':
      return { title: 'That F-code is not valid for this sale', advice: 'Check that the code was issued for this sale and, if it is personal, to the account you are signed in with.' };
    case 'FCODE_USED':
      return { title: 'That F-code has already been used', advice: 'Each F-code buys once. If its order is cancelled or expires, the code works again.' };
    case 'FCODE_EXPIRED':
      return { title: 'That F-code has expired', advice: 'Ask the shop for a new code, or buy with your reservation if you have one.' };
    case 'RESERVATION_NOT_OPEN':
      return { title: 'Reservations are not open yet', advice: 'Come back when the countdown reaches zero.' };
    case 'RESERVATION_CLOSED':
      return { title: 'Reservations have closed', advice: 'You can still buy with an F-code once the F-code window opens.' };
    case 'ORDER_NOT_PENDING':
      return { title: 'This order is no longer awaiting payment', advice: 'It was already paid, cancelled or expired; its current status is shown above.' };
    case 'ORDER_EXPIRED':
      return { title: 'The payment window has closed', advice: 'Nothing was charged. The units went back on sale; if any are left you can buy again.' };
    case 'PAYMENT_DECLINED':
      return { title: 'The payment was declined', advice: 'Nothing was charged and the order is still yours until the payment deadline. Try again or use another card.' };
    case 'IDEMPOTENCY_KEY_REUSED':
      return { title: 'This purchase was already sent with different details', advice: 'Reload the page to start a new purchase.' };
    case 'UNAUTHENTICATED':
      return { title: 'You are not signed in', advice: 'Your session may have expired. Sign in again, then retry.' };
    case 'FORBIDDEN':
      return { title: 'You are not allowed to do that', advice: 'Sign in with the account that owns this, or ask an operator.' };
    case 'SALE_NOT_FOUND':
      return { title: 'There is no such sale', advice: 'The link may be wrong or the sale removed. Go back to the list of sales.' };
    case 'ORDER_NOT_FOUND':
      return { title: 'There is no such order', advice: 'Check the link, or find your orders from the sale page.' };
    case 'RESERVATION_NOT_FOUND':
      return { title: 'You have no reservation for this sale', advice: 'Reserve while reservations are open.' };
    case 'SALE_LOCKED':
      return { title: 'The sale is locked', advice: 'Times, limits, name, description and price cannot change once the F-code window has opened. Stock and pause still can.' };
    case 'NOT_FOUND':
      return { title: 'That does not exist (any more)', advice: 'Check the link, or go back to the list of sales.' };
    case 'VALIDATION_FAILED':
      return {
        title: 'Some values were not accepted',
        advice: error.details.length > 0 ? error.details.map((detail) => `${detail.field}: ${detail.message}`).join('; ') : `Check what you entered and try again (${error.message}).`,
      };
    default:
      return {
        title: error.status >= 500 ? 'The shop had an unexpected problem' : 'The request was refused',
        advice: error.requestId ? `Try again in a moment. If it keeps happening, quote request id ${error.requestId}.` : `Try again in a moment. (${error.message})`,
      };
  }
}
