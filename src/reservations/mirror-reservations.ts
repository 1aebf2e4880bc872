import type Redis from 'ioredis';
import { runScript } from '../redis/lua-scripts';

/** Reservations per mirror-reservations.lua call: about a millisecond of Redis time. */
const CHUNK = 2_000;
/** Script calls in flight at once during a bulk mirror. */
const CALLS_IN_FLIGHT = 4;

/**
 * Copies reservations (userId, reservedAt from the database) into a sale's `reservations` hash with
 * HSETNX, in chunks. Used by the import and by the boot restore; writing the same entries twice is
 * harmless. Resolves to the number of entries added.
 */
export async function mirrorReservations(redis: Redis, key: string, reservations: Iterable<[userId: string, reservedAt: number]>): Promise<number> {
  let added = 0;
  let inFlight: Promise<number>[] = [];
  const settle = async () => {
    for (const count of await Promise.all(inFlight)) added += count;
    inFlight = [];
  };
  let chunk: (string | number)[] = [];
  for (const [userId, reservedAt] of reservations) {
    chunk.push(userId, reservedAt);
    if (chunk.length < CHUNK * 2) continue;
    inFlight.push(runScript<number>(redis, 'mirror-reservations', [key], chunk));
    chunk = [];
    if (inFlight.length >= CALLS_IN_FLIGHT) await settle();
  }
  if (chunk.length > 0) inFlight.push(runScript<number>(redis, 'mirror-reservations', [key], chunk));
  await settle();
  return added;
}
