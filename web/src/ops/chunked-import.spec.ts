import { ChunkedRun, chunksOf, parseUserIdLines, RunProgress } from './chunked-import';

describe(parseUserIdLines.name, () => {
  it('reads ids as the import route does: header, blanks, quotes and whitespace', () => {
    expect(parseUserIdLines('userId\r\n  ana \n\n"bo"\r\ncy')).toEqual({ userIds: ['ana', 'bo', 'cy'], problems: [], badLines: 0 });
  });

  it('names bad lines by their number in the whole file', () => {
    const parsed = parseUserIdLines('ana\nhas space\nbo\na,b');
    expect(parsed.userIds).toEqual(['ana', 'bo']);
    expect(parsed.badLines).toBe(2);
    expect(parsed.problems[0]).toMatch(/^Line 2: /);
    expect(parsed.problems[1]).toMatch(/^Line 4: /);
  });
});

describe(ChunkedRun.name, () => {
  const chunks = chunksOf(['a', 'b', 'c', 'd', 'e'], 2);

  it('sends every chunk in order and adds up what each did', async () => {
    const sent: string[][] = [];
    const seen: RunProgress[] = [];
    const run = new ChunkedRun(chunks, async (chunk) => {
      sent.push(chunk);
      return { done: chunk.length - 1, duplicates: 1 };
    }, (progress) => seen.push(progress));
    const final = await run.run();
    expect(sent).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(final).toMatchObject({ state: 'done', chunks: 3, chunksDone: 3, items: 5, itemsSent: 5, done: 2, duplicates: 3 });
    expect(seen.map((progress) => progress.chunksDone)).toEqual([0, 1, 2, 3, 3]);
  });

  it('stops at a failed chunk and resumes from it when run again', async () => {
    let failOnce = true;
    const sent: number[] = [];
    const run = new ChunkedRun(chunks, async (chunk, index) => {
      if (index === 1 && failOnce) {
        failOnce = false;
        throw new Error('connection lost');
      }
      sent.push(index);
      return { done: chunk.length, duplicates: 0 };
    }, () => undefined);
    const failed = await run.run();
    expect(failed).toMatchObject({ state: 'failed', chunksDone: 1, itemsSent: 2, error: new Error('connection lost') });
    const resumed = await run.run();
    expect(resumed).toMatchObject({ state: 'done', chunksDone: 3, done: 5 });
    expect(sent).toEqual([0, 1, 2]);
  });

  it('lets the chunk in flight finish on cancel, stops before the next, and resumes after', async () => {
    let release: () => void = () => undefined;
    const sent: number[] = [];
    const run = new ChunkedRun(chunks, (chunk, index) => {
      sent.push(index);
      if (index === 0) return new Promise((resolve) => (release = () => resolve({ done: chunk.length, duplicates: 0 })));
      return Promise.resolve({ done: chunk.length, duplicates: 0 });
    }, () => undefined);
    const running = run.run();
    run.cancel();
    expect(run.current.state).toBe('cancelling');
    release();
    expect(await running).toMatchObject({ state: 'cancelled', chunksDone: 1, done: 2 });
    expect(sent).toEqual([0]);
    expect(await run.run()).toMatchObject({ state: 'done', chunksDone: 3, done: 5 });
  });
});
