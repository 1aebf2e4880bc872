/**
 * The contract between the service and its clients (the browser pages in web/, the k6 load tests, the
 * benchmark): response shapes, error codes, the F-code format, sale limits and phases, the id rules.
 * Clients import it as `@sellout/contract`; the server imports the files directly. Nothing here may
 * import a server-only package (Nest, TypeORM, ioredis) or a Node built-in: the browser bundle includes it.
 */
export * from './admission';
export * from './error-code';
export * from './fcode-format';
export * from './ids';
export * from './responses';
export * from './sale-limits';
export * from './sale-phase';
