import { hash, randomBytes } from 'node:crypto';

/**
 * The draw, as anyone can recompute it: every entry's key is SHA-256(seed + ":" + userId) (hex), entries
 * are ranked by key ascending, and the first ones win. Pure functions: the service draws with the faster
 * equivalent in lottery-ranking.core.ts, and tests hold that to `rankEntries`, the definition.
 */

/** SHA-256 of the UTF-8 text, hex. One-shot `hash` spares a `createHash` object per call. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/** A fresh secret seed: 32 random bytes, hex. */
export function newSeed(): string {
  return randomBytes(32).toString('hex');
}

/** The user ids ranked by SHA-256(seed + ":" + userId) ascending (ties, which SHA-256 makes impossible in practice, by id). */
export function rankEntries(seed: string, userIds: readonly string[]): string[] {
  const keyed = userIds.map((userId) => ({ userId, key: sha256Hex(`${seed}:${userId}`) }));
  keyed.sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : left.userId < right.userId ? -1 : 1));
  return keyed.map((entry) => entry.userId);
}

/** How many buyers the units cover at `perUserLimit` each: at least one while any unit is left. */
export function winnersFor(units: number, perUserLimit: number, entries: number): number {
  if (units <= 0) return 0;
  return Math.min(entries, Math.max(1, Math.floor(units / perUserLimit)));
}
