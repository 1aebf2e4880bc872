// k6 provides a `console` global that @types/k6 does not declare (and lib "DOM" would bring far more
// than k6 has).
declare global {
  const console: {
    log(...values: unknown[]): void;
    info(...values: unknown[]): void;
    warn(...values: unknown[]): void;
    error(...values: unknown[]): void;
    debug(...values: unknown[]): void;
  };
}

export {};
