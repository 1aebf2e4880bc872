import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DIGEST_BYTES, type RankBuckets, rankEntryTexts, type RankingData, type RankingReply, type RankingRequest, type RankingThreadData } from './lottery-ranking.core';
import type { LotteryGateway } from './lottery.gateway';
import type { LotteryRepository } from './lottery.repository';

/**
 * Below this many entries a draw is ranked inline: a thread costs more to start than the work. Above it,
 * on a worker thread, so that the event loop keeps answering requests while the entries are hashed and
 * sorted.
 */
export const INLINE_RANKING_MAX = 20_000;
/** Entries per chunk of a streamed list: big enough to stream quickly, small enough never to hold the loop. */
const ENTRIES_PER_CHUNK = 1024;
/** Chunks written between two turns of the event loop (see `paced`): about a quarter of a megabyte. */
const CHUNKS_PER_TURN = 4;
/** One listed hash in JSON: the quoted hex and a comma. */
const LISTED_BYTES = 2 * DIGEST_BYTES + 3;
/** The two hex digits of each byte value, as character codes. */
const HEX_DIGITS = Uint8Array.from(Buffer.from(Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0')).join(''), 'latin1'));
const QUOTE = 0x22;
const COMMA = 0x2c;

/**
 * A drawn lottery's ranking as the result needs it: the SHA-256 of each entrant's user id, in draw order
 * (the winners are a prefix of it) and in hash order (the published list of entries). Held as typed arrays,
 * so a million entries take about 40 MB outside the JavaScript heap, and the lists are written into the
 * response chunk by chunk.
 */
export class LotteryRanking {
  private readonly digestText: Buffer;

  constructor(private readonly data: RankingData) {
    this.digestText = Buffer.from(data.digests.buffer, data.digests.byteOffset, data.digests.byteLength);
  }

  get count(): number {
    return this.data.count;
  }

  get timings(): RankingData['timings'] {
    return this.data.timings;
  }

  /** Redis's copy of the ranking (see RankBuckets): only a ranking computed with buckets has it. */
  get buckets(): RankBuckets {
    if (!this.data.buckets) throw new Error('This ranking was computed without its Redis buckets');
    return this.data.buckets;
  }

  /** The same ranking without its Redis buckets (34 bytes an entry), to keep once they are written. */
  withoutBuckets(): LotteryRanking {
    return this.data.buckets ? new LotteryRanking({ ...this.data, buckets: undefined }) : this;
  }

  /** SHA-256 (hex) of every entrant's user id, sorted. */
  entryHashes(): string[] {
    return Array.from(this.data.hashOrder, (index) => this.hashOf(index));
  }

  /** The JSON array of every entrant's hash, sorted, as chunks of bytes. */
  entriesJson(): Generator<Buffer> {
    return this.listJson(this.data.hashOrder, this.count);
  }

  /** The JSON array of the hashes of the first `admitted` ranks, in draw order, as chunks of bytes. */
  winnersJson(admitted: number): Generator<Buffer> {
    return this.listJson(this.data.rankOrder, Math.min(admitted, this.count));
  }

  private hashOf(index: number): string {
    return this.digestText.toString('hex', index * DIGEST_BYTES, (index + 1) * DIGEST_BYTES);
  }

  private *listJson(order: Uint32Array, count: number): Generator<Buffer> {
    const digests = this.data.digests;
    yield Buffer.from('[');
    for (let start = 0; start < count; start += ENTRIES_PER_CHUNK) {
      const end = Math.min(count, start + ENTRIES_PER_CHUNK);
      const chunk = Buffer.allocUnsafe((end - start) * LISTED_BYTES - (end === count ? 1 : 0));
      for (let position = start; position < end; position += 1) {
        let at = (position - start) * LISTED_BYTES;
        const from = order[position] * DIGEST_BYTES;
        chunk[at++] = QUOTE;
        for (let byte = 0; byte < DIGEST_BYTES; byte += 1) {
          const value = digests[from + byte];
          chunk[at++] = HEX_DIGITS[2 * value];
          chunk[at++] = HEX_DIGITS[2 * value + 1];
        }
        chunk[at++] = QUOTE;
        if (position < count - 1) chunk[at] = COMMA;
      }
      yield chunk;
    }
    yield Buffer.from(']');
  }
}

/**
 * `chunks` as a stream that lets the event loop serve others after every CHUNKS_PER_TURN chunks: a
 * socket that takes data as fast as it comes (a client on the same host) would otherwise have the
 * whole answer written in one go.
 */
export function paced(chunks: Iterable<Buffer>): AsyncGenerator<Buffer> {
  return (async function* () {
    let sent = 0;
    for (const chunk of chunks) {
      yield chunk;
      if (++sent % CHUNKS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  })();
}

/**
 * Ranks the entries read from `pages` (user ids separated by '\n', every id once): inline when they are
 * few, else on two worker threads, which hash alternate pages while the next ones are read, and one of
 * which then ranks them all. `withBuckets` adds Redis's copy of the ranking (for the draw and the
 * rebuild, which write it). `expected`, about how many entries there are, lets the ranking make room
 * for them at once.
 */
export async function rankLottery(seed: string, pages: AsyncIterable<string>, withBuckets: boolean, expected = 0): Promise<LotteryRanking> {
  const started = performance.now();
  const first: string[] = [];
  let entries = 0;
  const iterator = pages[Symbol.asyncIterator]();
  // Pages are read until they pass the inline limit; only then are threads worth starting.
  for (;;) {
    const page = await iterator.next();
    if (page.done) return new LotteryRanking(rankEntryTexts(seed, first, withBuckets));
    first.push(page.value);
    entries += countLines(page.value);
    if (entries > INLINE_RANKING_MAX) break;
  }
  const threads = new RankingThreads(seed, withBuckets, expected);
  try {
    for (const text of first) threads.send(text);
    for (let page = await iterator.next(); !page.done; page = await iterator.next()) threads.send(page.value);
    const readingMs = performance.now() - started;
    const data = await threads.finish();
    data.timings.readingMs = readingMs;
    return new LotteryRanking(data);
  } catch (error) {
    await threads.stop();
    throw error;
  }
}

function countLines(text: string): number {
  if (text === '') return 0;
  let lines = 1;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) lines += 1;
  return lines;
}

/** The two threads of a large ranking (see lottery-ranking.core.ts): one ranks, the other only hashes. */
class RankingThreads {
  private readonly ranker: Worker;
  private readonly hasher: Worker;
  private readonly failed: Promise<never>;
  private readonly ranked: Promise<RankingData>;
  private sent = 0;
  private hashing = 0;
  private ended = false;
  private allHashed?: () => void;

  constructor(seed: string, withBuckets: boolean, expected: number) {
    this.ranker = createWorker({ lotteryRanking: { seed, withBuckets, role: 'rank', expected } });
    this.hasher = createWorker({ lotteryRanking: { seed, withBuckets: false, role: 'hash', expected: 0 } });
    let fail: (error: Error) => void = () => undefined;
    this.failed = new Promise<never>((_, reject) => (fail = reject));
    // A caller that gives up (stop) has its own error to report.
    this.failed.catch(() => undefined);
    let resolveRanked: (data: RankingData) => void = () => undefined;
    this.ranked = new Promise<RankingData>((resolve) => (resolveRanked = resolve));
    this.ranker.on('message', (reply: RankingReply) => (reply.type === 'ranked' ? resolveRanked(reply.data) : reply.type === 'failed' && fail(new Error(`Ranking the lottery failed: ${reply.message}`))));
    this.hasher.on('message', (reply: RankingReply) => {
      if (reply.type === 'failed') return fail(new Error(`Hashing the lottery's entries failed: ${reply.message}`));
      if (reply.type !== 'hashed') return;
      const { page } = reply;
      this.ranker.postMessage({ type: 'hashed', page } satisfies RankingRequest, [page.rankPrefixes.buffer, page.hashPrefixes.buffer, page.digests.buffer] as ArrayBuffer[]);
      this.hashing -= 1;
      if (this.hashing === 0) this.allHashed?.();
    });
    for (const [worker, name] of [
      [this.ranker, 'ranking'],
      [this.hasher, 'hashing'],
    ] as const) {
      worker.on('error', fail);
      // Each thread exits once it has done its part after the end; before it, that is a failure.
      worker.on('exit', (code) => (!this.ended || code !== 0) && fail(new Error(`The lottery ${name} thread exited (code ${code}) before it was done`)));
    }
  }

  /** Hands a page to one thread or the other, in turn. */
  send(text: string): void {
    const request: RankingRequest = { type: 'entries', text };
    if (this.sent++ % 2 === 0) return this.ranker.postMessage(request);
    this.hashing += 1;
    this.hasher.postMessage(request);
  }

  async finish(): Promise<RankingData> {
    if (this.hashing > 0) await Promise.race([new Promise<void>((resolve) => (this.allHashed = resolve)), this.failed]);
    this.ended = true;
    this.hasher.postMessage({ type: 'end' } satisfies RankingRequest);
    this.ranker.postMessage({ type: 'end' } satisfies RankingRequest);
    return Promise.race([this.ranked, this.failed]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.ranker.terminate(), this.hasher.terminate()]);
  }
}

/**
 * The compiled thread file in a build. Under ts-jest or ts-node the source is transpiled here (once), by
 * the TypeScript compiler those already loaded: the file imports only Node's own modules, so the thread
 * needs no TypeScript loader of its own, which would take longer to start than a million entries take
 * to hash.
 */
function createWorker(workerData: RankingThreadData): Worker {
  const extension = extname(__filename);
  const file = join(__dirname, `lottery-ranking.core${extension}`);
  if (extension !== '.ts') return new Worker(file, { workerData });
  if (transpiledThread === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const typescript = require('typescript') as typeof import('typescript');
    transpiledThread = typescript.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: { module: typescript.ModuleKind.CommonJS, target: typescript.ScriptTarget.ES2022 } }).outputText;
  }
  // No inherited loader flags (`-r ts-node/register`): the thread runs plain JavaScript.
  return new Worker(transpiledThread, { eval: true, workerData, execArgv: [] });
}

let transpiledThread: string | undefined;

/**
 * Puts a recorded draw into Redis: the ranking again from the recorded entries and seed (the same seed and
 * entries give the same ranks), then every recorded round. A draw that ranks another number of entries
 * than the record holds is not put back (its buyers would get another draw's winners): it throws.
 * Used where Redis lacks a drawn lottery: the lottery's own repair and the rebuild after Redis lost it.
 */
export async function restoreRecordedDraw(
  repository: LotteryRepository,
  gateway: LotteryGateway,
  sale: { id: string; lotterySeed: string; lotteryEntryCount: number },
): Promise<{ ranking: LotteryRanking; rounds: number }> {
  const ranking = await rankLottery(sale.lotterySeed, repository.entryPages(sale.id), true, sale.lotteryEntryCount);
  if (ranking.count !== sale.lotteryEntryCount) throw new Error(`The lottery of sale ${sale.id} was drawn over ${sale.lotteryEntryCount} entries, but ${ranking.count} are recorded`);
  const rounds = await repository.rounds(sale.id);
  await gateway.writeRanks(sale.id, ranking.buckets);
  await gateway.recordDraw(sale.id, ranking.count, rounds);
  return { ranking, rounds: rounds.length };
}
