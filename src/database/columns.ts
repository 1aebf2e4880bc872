import { ValueTransformer } from 'typeorm';

/**
 * Times are stored as epoch milliseconds in a `bigint` column: the same representation in PostgreSQL,
 * the embedded SQLite database and Redis, with no time-zone conversion anywhere. pg returns bigint as a
 * string, so it is converted back to a number on read (safe: ms timestamps fit in 2^53).
 */
export const epochMs: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};
