/** The import route takes at most this many user ids per call (the API's limit). */
export const IMPORT_CHUNK_IDS = 100_000;

/** The same user id rule as the import route: 1-64 printable ASCII characters without spaces. */
const USER_ID = /^[\x21-\x7e]{1,64}$/;
const MAX_LISTED_PROBLEMS = 20;

export interface ParsedUserIds {
  userIds: string[];
  /** Bad lines by their number in the file (at most 20 listed). */
  problems: string[];
  badLines: number;
}

/**
 * Reads a CSV of user ids as the import route does: one id a line, blank lines skipped, a first line
 * `userId` taken as a header, surrounding whitespace and double quotes removed, no commas. Checked here
 * so that a bad line is named by its number in the whole file, before any chunk is sent.
 */
export function parseUserIdLines(text: string): ParsedUserIds {
  const userIds: string[] = [];
  const problems: string[] = [];
  let badLines = 0;
  let seenContent = false;
  const lines = text.split(/\r\n|\n|\r/);
  for (let index = 0; index < lines.length; index += 1) {
    let value = lines[index].trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).trim();
    if (value === '') continue;
    const first = !seenContent;
    seenContent = true;
    if (first && value.toLowerCase() === 'userid') continue;
    if (USER_ID.test(value) && !value.includes(',')) {
      userIds.push(value);
      continue;
    }
    badLines += 1;
    if (problems.length < MAX_LISTED_PROBLEMS) problems.push(`Line ${index + 1}: "${value.slice(0, 70)}" is not a user id (1 to 64 characters, no spaces or commas).`);
  }
  return { userIds, problems, badLines };
}

export function chunksOf<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

export interface ChunkResult {
  /** What the chunk added (reservations imported, codes issued). */
  done: number;
  /** What was already there (duplicate reservations); 0 where it does not apply. */
  duplicates: number;
}

export type RunState = 'ready' | 'running' | 'cancelling' | 'cancelled' | 'failed' | 'done';

export interface RunProgress {
  state: RunState;
  chunks: number;
  /** Chunks the server confirmed, in order: the run resumes at this one. */
  chunksDone: number;
  items: number;
  itemsSent: number;
  done: number;
  duplicates: number;
  /** Why the run stopped at chunk `chunksDone` (set in state `failed`). */
  error?: unknown;
  startedAt?: number;
  /** When the last chunk was confirmed (state `done`). */
  finishedAt?: number;
}

/**
 * Sends chunks one after another, reporting progress after each. It stops on the first failure with the
 * failed chunk as the next one, so `run()` again retries it and carries on: a resumable import. `cancel()`
 * lets the chunk in flight finish (its answer is counted) and stops before the next. Sending a chunk again
 * is safe for imports: ids already imported come back as duplicates.
 */
export class ChunkedRun<T> {
  private progress: RunProgress;
  private cancelRequested = false;

  constructor(
    private readonly chunks: T[][],
    private readonly send: (chunk: T[], index: number) => Promise<ChunkResult>,
    private readonly onChange: (progress: RunProgress) => void,
    private readonly now: () => number = () => Date.now(),
  ) {
    const items = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    this.progress = { state: 'ready', chunks: chunks.length, chunksDone: 0, items, itemsSent: 0, done: 0, duplicates: 0 };
  }

  get current(): RunProgress {
    return this.progress;
  }

  cancel(): void {
    if (this.progress.state !== 'running') return;
    this.cancelRequested = true;
    this.update({ state: 'cancelling' });
  }

  async run(): Promise<RunProgress> {
    if (this.progress.state === 'running' || this.progress.state === 'cancelling' || this.progress.state === 'done') return this.progress;
    this.cancelRequested = false;
    this.update({ state: 'running', error: undefined, startedAt: this.progress.startedAt ?? this.now() });
    while (this.progress.chunksDone < this.chunks.length) {
      if (this.cancelRequested) return this.update({ state: 'cancelled' });
      const index = this.progress.chunksDone;
      const chunk = this.chunks[index];
      let result: ChunkResult;
      try {
        result = await this.send(chunk, index);
      } catch (error) {
        return this.update({ state: 'failed', error });
      }
      this.update({
        chunksDone: index + 1,
        itemsSent: this.progress.itemsSent + chunk.length,
        done: this.progress.done + result.done,
        duplicates: this.progress.duplicates + result.duplicates,
      });
    }
    return this.update({ state: 'done', finishedAt: this.now() });
  }

  private update(changes: Partial<RunProgress>): RunProgress {
    this.progress = { ...this.progress, ...changes };
    this.onChange(this.progress);
    return this.progress;
  }
}
