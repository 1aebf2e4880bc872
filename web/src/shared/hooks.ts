import { useEffect, useRef, useState } from 'preact/hooks';
import { serverClock } from './server-clock';

/**
 * Server time for this render, with a re-render every `intervalMs` (countdowns, buttons that turn on by
 * themselves). Read at render time rather than kept in state, so a render caused by fresh data never
 * shows a time from before that data synced the clock.
 */
export function useServerNow(intervalMs = 250): number {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((tick) => tick + 1), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return serverClock.now();
}

export interface PollingOptions {
  intervalMs: number;
  /** ± this fraction of the interval, so thousands of waiting buyers do not poll in step. */
  jitter?: number;
  /** Polling stops while false (e.g. once the sale is over). */
  enabled?: boolean;
}

/**
 * Calls `task` now and then again every `intervalMs` (± jitter) after the previous call finished, slower
 * while the tab is hidden. Never two calls at once.
 */
export function usePolling(task: () => Promise<void>, options: PollingOptions, dependencies: unknown[] = []): void {
  const taskRef = useRef(task);
  taskRef.current = task;
  const { intervalMs, jitter = 0.2, enabled = true } = options;
  useEffect(() => {
    if (!enabled) return undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async (): Promise<void> => {
      try {
        await taskRef.current();
      } catch {
        // The task shows its own errors; polling carries on.
      }
      if (stopped) return;
      const hiddenFactor = document.visibilityState === 'hidden' ? 4 : 1;
      const delay = intervalMs * hiddenFactor * (1 - jitter + Math.random() * 2 * jitter);
      timer = setTimeout(() => void run(), delay);
    };
    void run();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [intervalMs, jitter, enabled, ...dependencies]);
}
