import { createHash } from 'node:crypto';
import { newSeed, rankEntries } from './lottery-draw';
import { INLINE_RANKING_MAX, type LotteryRanking, rankLottery } from './lottery-ranking';
import { BUCKET_BYTES, bucketField, type RankBuckets, rankEntryTexts, rankInBucket } from './lottery-ranking.core';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function* pagesOf(ids: string[], perPage = 7_000): AsyncGenerator<string> {
  for (let start = 0; start < ids.length; start += perPage) yield ids.slice(start, start + perPage).join('\n');
}

const collect = (chunks: Generator<Buffer>) => JSON.parse(Buffer.concat([...chunks]).toString('utf8')) as string[];

/** What the published result must say for `ids` under `seed`, by the draw's definition (lottery-draw.ts). */
function expectDrawnAsDefined(ranking: LotteryRanking, seed: string, ids: string[]): void {
  const ranked = rankEntries(seed, ids);
  expect(ranking.count).toBe(ids.length);
  expect(collect(ranking.winnersJson(ids.length))).toEqual(ranked.map(sha256));
  expect(collect(ranking.winnersJson(3))).toEqual(ranked.slice(0, 3).map(sha256));
  expect(collect(ranking.entriesJson())).toEqual(ids.map(sha256).sort());
  expect(ranking.entryHashes()).toEqual(ids.map(sha256).sort());
}

/** Each id's rank as Redis gets it: its bucket (the first bytes of SHA-256(userId)), then its record. */
function ranksFromBuckets(buckets: RankBuckets, ids: string[]): (number | undefined)[] {
  const byField = new Map<string, Uint8Array>();
  for (let bucket = 0; bucket + 1 < buckets.offsets.length; bucket += 1) {
    if (buckets.offsets[bucket + 1] > buckets.offsets[bucket]) byField.set(bucketField(bucket), buckets.records.subarray(buckets.offsets[bucket], buckets.offsets[bucket + 1]));
  }
  return ids.map((id) => {
    const userHash = createHash('sha256').update(id).digest();
    const records = byField.get(userHash.subarray(0, BUCKET_BYTES).toString('hex'));
    return records === undefined ? undefined : rankInBucket(records, userHash);
  });
}

describe('lottery ranking', () => {
  const seed = newSeed();

  it('ranks a small draw inline exactly as the draw is defined, with user ids that hold colons and spaces', async () => {
    const ids = [...Array.from({ length: 500 }, (_, index) => `buyer-${index}`), 'a:b', 'a', 'b:c:d', 'with space', 'ünï'];
    const ranking = await rankLottery(seed, pagesOf(ids, 100), true);
    expectDrawnAsDefined(ranking, seed, ids);
    const ranked = rankEntries(seed, ids);
    expect(ranksFromBuckets(ranking.buckets, ids)).toEqual(ids.map((id) => ranked.indexOf(id)));
    expect(ranksFromBuckets(ranking.buckets, ['stranger', 'a:', ':b'])).toEqual([undefined, undefined, undefined]);
    expect(() => ranking.withoutBuckets().buckets).toThrow();
  });

  it('ranks a large draw on a worker thread exactly as inline', async () => {
    const ids = Array.from({ length: INLINE_RANKING_MAX + 5_000 }, (_, index) => `u${(index * 7919) % 1_000_003}`);
    const ranking = await rankLottery(seed, pagesOf(ids), true);
    expectDrawnAsDefined(ranking, seed, ids);
    const ranked = rankEntries(seed, ids);
    const ranks = ranksFromBuckets(ranking.buckets, ids);
    expect(ids.every((id, index) => ranks[index] === ranked.indexOf(id))).toBe(true);
  });

  it('orders entries whose packed sort keys tie by their whole hash, as the definition does', () => {
    const ids = Array.from({ length: 3_000 }, (_, index) => `tie-${index}`);
    // Four bits of hash in the keys: every run of equal keys is long and settled by the whole hash.
    const data = rankEntryTexts(seed, [ids.join('\n')], false, 4);
    expect(Array.from(data.rankOrder, (index) => ids[index])).toEqual(rankEntries(seed, ids));
    expect(Array.from(data.hashOrder, (index) => sha256(ids[index]))).toEqual(ids.map(sha256).sort());
  });

  it('refuses an entry read twice, and ranks no entries as an empty draw', async () => {
    expect(() => rankEntryTexts(seed, ['a\nb\na'], false)).toThrow(/read twice/);
    const empty = await rankLottery(seed, pagesOf([]), true);
    expect(empty.count).toBe(0);
    expect(collect(empty.entriesJson())).toEqual([]);
    expect(collect(empty.winnersJson(5))).toEqual([]);
    expect(empty.buckets.records.length).toBe(0);
  });
});
