/**
 * How long the primary waits before replacing a worker that died. The first death in a while is
 * replaced at once (a port served by fewer workers is the cost of waiting); each further death of a
 * worker that had not yet served for `stableMs` doubles the wait, up to `maxMs`, so a worker that crashes
 * at every start (a bad deploy, a database gone) does not make the machine spin forking it.
 */
export class RestartBackoff {
  private failuresInARow = 0;

  constructor(
    private readonly baseMs = 1000,
    private readonly maxMs = 30_000,
    private readonly stableMs = 10_000,
  ) {}

  /** The delay before replacing a worker that served for `servedMs` (undefined: it never listened). */
  next(servedMs: number | undefined): number {
    if (servedMs !== undefined && servedMs >= this.stableMs) this.failuresInARow = 0;
    const delay = this.failuresInARow === 0 ? 0 : Math.min(this.maxMs, this.baseMs * 2 ** (this.failuresInARow - 1));
    this.failuresInARow += 1;
    return delay;
  }
}
