/**
 * Calls `run` at most once per `intervalMs`: at once when it last ran that long ago, otherwise once when
 * the interval is up, for however many calls came during it, so the last of a burst is never dropped.
 */
export function throttled(run: () => void, intervalMs: number, now: () => number = Date.now): { call: () => void; cancel: () => void } {
  let lastRunAt = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fire = () => {
    timer = undefined;
    lastRunAt = now();
    run();
  };
  return {
    call: () => {
      if (timer !== undefined) return;
      const wait = lastRunAt + intervalMs - now();
      if (wait <= 0) fire();
      else timer = setTimeout(fire, wait);
    },
    cancel: () => {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
