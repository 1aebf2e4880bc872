import { TokenStore } from '../shared/auth';
import { newIdempotencyKey, Purchaser } from './purchase';
import { purchase } from './store-api';
import { ApiError } from '../shared/api';

/** The buyer's token (set by the dev sign-in box, or handed over by the host shop). */
export const buyerTokens = new TokenStore('sellout.token');

export const purchaser = new Purchaser({
  send: (saleId, body, idempotencyKey, admissionToken) => {
    const token = buyerTokens.get();
    if (token === null) return Promise.reject(new ApiError(401, 'UNAUTHENTICATED', 'Not signed in'));
    return purchase(saleId, body, idempotencyKey, token, admissionToken);
  },
  sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
  newKey: newIdempotencyKey,
  storage: sessionStorage,
});
