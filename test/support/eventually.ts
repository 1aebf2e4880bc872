import { setTimeout as sleep } from 'node:timers/promises';

export interface EventuallyOptions {
  /** Give up after this long; the error names `what`. */
  timeoutMs?: number;
  /** Pause between two checks. */
  intervalMs?: number;
  what?: string;
}

/**
 * Checks `condition` until it holds, bounded by `timeoutMs`: for effects of background loops and timers,
 * which announce nothing a test could wait on.
 */
export async function eventually(condition: () => boolean | Promise<boolean>, options: EventuallyOptions = {}): Promise<void> {
  const { timeoutMs = 15_000, intervalMs = 20, what = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}
