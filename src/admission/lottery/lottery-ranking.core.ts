import { hash } from 'node:crypto';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

/*
 * The ranking of a lottery draw, computed in one pass over the entries: on worker threads for a large
 * draw (lottery-ranking.ts) and inline for a small one. Self-contained (Node built-ins only), so that a
 * thread loads this file alone.
 *
 * Every entry costs two SHA-256 calls: its key SHA-256(seed + ":" + userId), which ranks it, and
 * SHA-256(userId), which the published result lists. Neither is kept as a string: of the key only its
 * first 48 bits, of the other its 32 bytes. The sorts compare no strings either: each hash's first bits
 * and the entry's index are packed into one exact integer in a Float64Array, sorted natively, and the
 * rare runs of entries whose packed bits are equal are then put in order by their whole hash (then user
 * id), which is the order the draw defines.
 */

/** Bytes of a SHA-256 digest. */
export const DIGEST_BYTES = 32;
/** Leading bytes of SHA-256(userId) that name an entry's rank bucket in Redis (see RankBuckets). */
export const BUCKET_BYTES = 2;
const BUCKET_COUNT = 2 ** (8 * BUCKET_BYTES);
/** One ranked entry in its bucket: the rest of its SHA-256(userId), then its 0-based rank (uint32, big-endian). */
export const RECORD_BYTES = DIGEST_BYTES - BUCKET_BYTES + 4;

/**
 * The ranking as Redis keeps it, for a buyer's rank to be one small read away: bucket `b` (named by the
 * first BUCKET_BYTES of SHA-256(userId), in hex) holds the records of its entries, bytes `offsets[b]` to
 * `offsets[b + 1]` of `records`. The whole hash identifies an entry, so no two entrants' records can be
 * taken for each other.
 */
export interface RankBuckets {
  offsets: Uint32Array;
  records: Uint8Array;
}

export interface RankingData {
  count: number;
  /** SHA-256(userId) of each entry, entry after entry in the order they were read (32 bytes each). */
  digests: Uint8Array;
  /** Entry indices in draw order: rank 0 first. */
  rankOrder: Uint32Array;
  /** Entry indices by SHA-256(userId) ascending (the published list of entries). */
  hashOrder: Uint32Array;
  /** Only when asked for: the ranking as Redis keeps it. */
  buckets?: RankBuckets;
  /**
   * Where the ranking's time went (ms): reading the entries (until the last page was handed over, on
   * threads only), hashing (what the ranking thread hashed itself), sorting, the Redis buckets.
   */
  timings: { readingMs?: number; hashingMs: number; sortingMs: number; bucketsMs: number };
}

/** One page of entries, hashed (see hashPage): what a hashing thread hands the ranking thread. */
export interface HashedPage {
  text: string;
  count: number;
  rankPrefixes: Float64Array;
  hashPrefixes: Float64Array;
  digests: Uint8Array;
}

/**
 * What the main thread sends the threads of a ranking: pages of entries to hash (either thread), pages a
 * hashing thread hashed (the ranking thread), then the end.
 */
export type RankingRequest = { type: 'entries'; text: string } | { type: 'hashed'; page: HashedPage } | { type: 'end' };
export type RankingReply = { type: 'ranked'; data: RankingData } | { type: 'hashed'; page: HashedPage } | { type: 'failed'; message: string };
export interface RankingThreadData {
  /**
   * `rank`: hashes what it is sent, takes in what the other thread hashed, and ranks at the end; `hash`:
   * hashes pages and sends them back. `expected`: about how many entries will come (room is made for them).
   */
  lotteryRanking: { seed: string; withBuckets: boolean; role: 'rank' | 'hash'; expected: number };
}

/** The first 48 bits of a digest held as a 'binary' (latin1) string, one character a byte, as an exact integer. */
function prefix48(digest: string): number {
  return (
    digest.charCodeAt(0) * 2 ** 40 +
    digest.charCodeAt(1) * 2 ** 32 +
    digest.charCodeAt(2) * 2 ** 24 +
    digest.charCodeAt(3) * 2 ** 16 +
    digest.charCodeAt(4) * 2 ** 8 +
    digest.charCodeAt(5)
  );
}

/** User ids separated by '\n' (ids hold no control characters), without empty ones. */
function idsOf(text: string): string[] {
  const ids = text === '' ? [] : text.split('\n');
  return ids.includes('') ? ids.filter((id) => id !== '') : ids;
}

/**
 * Hashes a page of entries (user ids separated by '\n'): each entry's key SHA-256(seed + ":" + userId),
 * of which the first 48 bits are kept, and its SHA-256(userId), kept whole.
 */
export function hashPage(seed: string, text: string, ids = idsOf(text)): HashedPage {
  const count = ids.length;
  const prefix = `${seed}:`;
  const rankPrefixes = new Float64Array(count);
  const hashPrefixes = new Float64Array(count);
  const digests = new Uint8Array(count * DIGEST_BYTES);
  for (let index = 0; index < count; index += 1) {
    const id = ids[index];
    rankPrefixes[index] = prefix48(hash('sha256', prefix + id, 'binary'));
    const own = hash('sha256', id, 'binary');
    hashPrefixes[index] = prefix48(own);
    // Byte by byte: cheaper than a Buffer call per entry.
    const offset = index * DIGEST_BYTES;
    for (let at = 0; at < DIGEST_BYTES; at += 1) digests[offset + at] = own.charCodeAt(at);
  }
  return { text, count, rankPrefixes, hashPrefixes, digests };
}

/**
 * Ranks entries by SHA-256(seed + ":" + userId) ascending, ties (which SHA-256 makes impossible in
 * practice) by user id. Entries come in pages (user ids separated by '\n', every id once), hashed here
 * (`add`) or by another thread (`addHashed`) as they arrive, so that hashing overlaps reading; `finish`
 * sorts. `packedBits` caps the hash bits packed into the sort keys (tests lower it to make many keys tie
 * on them).
 */
export class EntryRanker {
  private count = 0;
  private capacity: number;
  /** The first 48 bits of each entry's key and of its SHA-256(userId), as exact integers. */
  private rankPrefixes: Float64Array;
  private hashPrefixes: Float64Array;
  private digests: Uint8Array;
  /** Each page's text and first entry index: a user id is read back from its page only when ties need it. */
  private readonly pages: { text: string; start: number; ids?: string[] }[] = [];
  private hashingMs = 0;

  constructor(
    private readonly seed: string,
    private readonly withBuckets: boolean,
    expected = 0,
    private readonly packedBits = 48,
  ) {
    this.capacity = Math.max(1024, expected);
    this.rankPrefixes = new Float64Array(this.capacity);
    this.hashPrefixes = new Float64Array(this.capacity);
    this.digests = new Uint8Array(this.capacity * DIGEST_BYTES);
  }

  add(text: string): void {
    const started = performance.now();
    const page = hashPage(this.seed, text);
    this.hashingMs += performance.now() - started;
    this.addHashed(page);
  }

  /** Takes in a hashed page. Its ids are split again only if ties need them, so they need not be kept meanwhile. */
  addHashed(page: HashedPage): void {
    const start = this.count;
    while (start + page.count > this.capacity) this.grow();
    this.rankPrefixes.set(page.rankPrefixes, start);
    this.hashPrefixes.set(page.hashPrefixes, start);
    this.digests.set(page.digests, start * DIGEST_BYTES);
    this.pages.push({ text: page.text, start });
    this.count += page.count;
  }

  finish(): RankingData {
    const started = performance.now();
    const count = this.count;
    if (count >= 2 ** 32) throw new Error(`A draw ranks fewer than 2^32 entries, not ${count}`);
    // Exactly as many as expected: the arrays are handed over as they are, not copied.
    const digests = this.capacity === count ? this.digests : this.digests.slice(0, count * DIGEST_BYTES);
    const digestText = Buffer.from(digests.buffer, digests.byteOffset, digests.byteLength);
    // Packed sort keys: the hash's top `topBits` bits, then `indexBits` bits of the entry's index; below
    // 2^53, so every key is an exact double.
    const indexBits = Math.max(1, Math.ceil(Math.log2(count + 1)));
    const topBits = Math.min(this.packedBits, 48, 53 - indexBits);
    const divisor = 2 ** (48 - topBits);
    const scale = 2 ** indexBits;
    const pack = (prefixes: Float64Array) => {
      const keys = new Float64Array(count);
      for (let index = 0; index < count; index += 1) keys[index] = Math.floor(prefixes[index] / divisor) * scale + index;
      return keys.sort();
    };
    const prefix = `${this.seed}:`;
    const rankOrder = orderOf(pack(this.rankPrefixes), scale, (run) => {
      // Same leading bits: the whole key decides, then the user id.
      const ids = new Map(run.map((index) => [index, this.idAt(index)]));
      const keys = new Map(run.map((index) => [index, hash('sha256', prefix + ids.get(index), 'hex')]));
      run.sort((left, right) => compareText(keys.get(left) as string, keys.get(right) as string) || compareText(ids.get(left) as string, ids.get(right) as string));
      for (let at = 1; at < run.length; at += 1) if (ids.get(run[at]) === ids.get(run[at - 1])) throw new Error(`The entry ${ids.get(run[at])} was read twice`);
    });
    const hashOrder = orderOf(pack(this.hashPrefixes), scale, (run) => {
      const digestOf = (index: number) => digestText.subarray(index * DIGEST_BYTES, (index + 1) * DIGEST_BYTES);
      run.sort((left, right) => Buffer.compare(digestOf(left), digestOf(right)));
    });
    const sortedAt = performance.now();
    const data: RankingData = { count, digests, rankOrder, hashOrder, timings: { hashingMs: this.hashingMs, sortingMs: sortedAt - started, bucketsMs: 0 } };
    if (this.withBuckets) {
      data.buckets = rankBuckets(digests, rankOrder, hashOrder);
      data.timings.bucketsMs = performance.now() - sortedAt;
    }
    this.pages.length = 0;
    return data;
  }

  /** The user id of entry `index`, from its page. */
  private idAt(index: number): string {
    let low = 0;
    let high = this.pages.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.pages[middle].start <= index) low = middle;
      else high = middle - 1;
    }
    const page = this.pages[low];
    page.ids ??= idsOf(page.text);
    return page.ids[index - page.start];
  }

  private grow(): void {
    this.capacity *= 2;
    const grown = <T extends Float64Array | Uint8Array>(old: T, size: number): T => {
      const next = new (old.constructor as new (size: number) => T)(size);
      next.set(old);
      return next;
    };
    this.rankPrefixes = grown(this.rankPrefixes, this.capacity);
    this.hashPrefixes = grown(this.hashPrefixes, this.capacity);
    this.digests = grown(this.digests, this.capacity * DIGEST_BYTES);
  }
}

/** Ranks all of `texts` at once (see EntryRanker). */
export function rankEntryTexts(seed: string, texts: readonly string[], withBuckets: boolean, packedBits = 48): RankingData {
  const ranker = new EntryRanker(seed, withBuckets, 0, packedBits);
  for (const text of texts) ranker.add(text);
  return ranker.finish();
}

/** The entry indices in the order of their sorted packed keys, with each run of equal leading bits put in order by `orderRun`. */
function orderOf(sortedKeys: Float64Array, indexScale: number, orderRun: (run: number[]) => void): Uint32Array {
  const count = sortedKeys.length;
  const order = new Uint32Array(count);
  const settle = (start: number, end: number) => {
    if (end - start < 2) return;
    const run = Array.from(order.subarray(start, end));
    orderRun(run);
    order.set(run, start);
  };
  let runStart = 0;
  let runTop = count > 0 ? Math.floor(sortedKeys[0] / indexScale) : 0;
  for (let at = 0; at < count; at += 1) {
    // indexScale is a power of two: the division and the subtraction are exact.
    const top = Math.floor(sortedKeys[at] / indexScale);
    order[at] = sortedKeys[at] - top * indexScale;
    if (top !== runTop) {
      settle(runStart, at);
      runStart = at;
      runTop = top;
    }
  }
  settle(runStart, count);
  return order;
}

function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

function rankBuckets(digests: Uint8Array, rankOrder: Uint32Array, hashOrder: Uint32Array): RankBuckets {
  const count = rankOrder.length;
  const rankOf = new Uint32Array(count);
  for (let rank = 0; rank < count; rank += 1) rankOf[rankOrder[rank]] = rank;
  // In hash order the entries come bucket after bucket, so the records are written front to back.
  const offsets = new Uint32Array(BUCKET_COUNT + 1);
  const records = new Uint8Array(count * RECORD_BYTES);
  let bucket = 0;
  for (let position = 0; position < count; position += 1) {
    const index = hashOrder[position];
    const from = index * DIGEST_BYTES;
    let own = 0;
    for (let at = 0; at < BUCKET_BYTES; at += 1) own = own * 256 + digests[from + at];
    while (bucket < own) offsets[++bucket] = position * RECORD_BYTES;
    const at = position * RECORD_BYTES;
    for (let byte = 0; byte < DIGEST_BYTES - BUCKET_BYTES; byte += 1) records[at + byte] = digests[from + BUCKET_BYTES + byte];
    const rank = rankOf[index];
    records[at + RECORD_BYTES - 4] = rank >>> 24;
    records[at + RECORD_BYTES - 3] = (rank >>> 16) & 0xff;
    records[at + RECORD_BYTES - 2] = (rank >>> 8) & 0xff;
    records[at + RECORD_BYTES - 1] = rank & 0xff;
  }
  while (bucket < BUCKET_COUNT) offsets[++bucket] = count * RECORD_BYTES;
  return { offsets, records };
}

/** The Redis field of the bucket numbered `bucket`. */
export function bucketField(bucket: number): string {
  return bucket.toString(16).padStart(2 * BUCKET_BYTES, '0');
}

/** The 0-based rank that a bucket's records give the entry whose SHA-256(userId) is `userHash`, or undefined. */
export function rankInBucket(records: Uint8Array, userHash: Uint8Array): number | undefined {
  for (let at = 0; at + RECORD_BYTES <= records.length; at += RECORD_BYTES) {
    let same = true;
    for (let byte = 0; byte < DIGEST_BYTES - BUCKET_BYTES && same; byte += 1) same = records[at + byte] === userHash[BUCKET_BYTES + byte];
    if (same) return ((records[at + RECORD_BYTES - 4] << 24) >>> 0) + (records[at + RECORD_BYTES - 3] << 16) + (records[at + RECORD_BYTES - 2] << 8) + records[at + RECORD_BYTES - 1];
  }
  return undefined;
}

if (!isMainThread && parentPort && (workerData as Partial<RankingThreadData> | undefined)?.lotteryRanking) {
  const port = parentPort;
  const { seed, withBuckets, role, expected } = (workerData as RankingThreadData).lotteryRanking;
  const ranker = role === 'rank' ? new EntryRanker(seed, withBuckets, expected) : undefined;
  let failure: string | undefined;
  port.on('message', (message: RankingRequest) => {
    try {
      if (message.type === 'end') {
        if (failure !== undefined) throw new Error(failure);
        if (ranker) {
          const data = ranker.finish();
          const transfer = [data.digests.buffer, data.rankOrder.buffer, data.hashOrder.buffer, ...(data.buckets ? [data.buckets.offsets.buffer, data.buckets.records.buffer] : [])];
          port.postMessage({ type: 'ranked', data } satisfies RankingReply, transfer as ArrayBuffer[]);
        }
        port.close();
      } else if (failure !== undefined) {
        // Failed already: the end reports it.
      } else if (message.type === 'hashed') {
        ranker?.addHashed(message.page);
      } else if (ranker) {
        ranker.add(message.text);
      } else {
        const page = hashPage(seed, message.text);
        port.postMessage({ type: 'hashed', page } satisfies RankingReply, [page.rankPrefixes.buffer, page.hashPrefixes.buffer, page.digests.buffer] as ArrayBuffer[]);
      }
    } catch (error) {
      failure ??= error instanceof Error ? error.message : String(error);
      if (message.type === 'end') {
        port.postMessage({ type: 'failed', message: failure } satisfies RankingReply);
        port.close();
      }
    }
  });
}
