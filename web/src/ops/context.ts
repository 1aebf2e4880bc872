import { TokenStore } from '../shared/auth';

/** The operator's token; separate from a buyer's so one tab can be the shop and another the console. */
export const opsTokens = new TokenStore('sellout.opsToken');
