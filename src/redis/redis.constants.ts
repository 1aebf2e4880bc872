/** The main ioredis client (commands and scripts). */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
/** A second connection in subscriber mode (sold-out flag pub/sub). */
export const REDIS_SUBSCRIBER = Symbol('REDIS_SUBSCRIBER');
