import { useId, useRef, useState } from 'preact/hooks';
import { ApiError } from '../shared/api';
import { explainError } from '../shared/error-messages';
import { formatCount } from '../shared/format';
import type { Sale } from '@sellout/contract';
import { ChunkedRun, chunksOf, IMPORT_CHUNK_IDS, parseUserIdLines, RunProgress } from './chunked-import';
import { tokenOrThrow } from './context';
import { importReservations } from './ops-api';

const plural = (count: number, one: string, many: string) => `${formatCount(count)} ${count === 1 ? one : many}`;

/** A progress bar with its figures, for any chunked run. */
export function RunProgressView(props: { progress: RunProgress; noun: string; doneLabel: string; duplicatesLabel?: string; testId: string }) {
  const { progress } = props;
  const chunk = Math.min(progress.chunksDone + 1, progress.chunks);
  return (
    <div class="run-progress" data-testid={props.testId} data-state={progress.state}>
      <progress max={Math.max(progress.items, 1)} value={progress.itemsSent} aria-label={`${props.noun} sent`} />
      <p class="muted" aria-live="polite">
        {formatCount(progress.itemsSent)} of {formatCount(progress.items)} {props.noun} sent
        {progress.state === 'running' || progress.state === 'cancelling' ? ` (part ${chunk} of ${progress.chunks})` : ''} · {formatCount(progress.done)} {props.doneLabel}
        {props.duplicatesLabel !== undefined ? ` · ${formatCount(progress.duplicates)} ${props.duplicatesLabel}` : ''}
      </p>
    </div>
  );
}

/**
 * Imports a CSV of any size: checked in the page first (bad lines are named by line number and nothing is
 * sent), then sent 100,000 ids per call with a progress bar. Cancel stops after the part in flight; a
 * failed part can be retried and the import carries on from there (ids sent twice count as duplicates).
 */
export function ReservationImport(props: { sale: Sale }) {
  const [file, setFile] = useState<File | undefined>(undefined);
  const [reading, setReading] = useState(false);
  const [problems, setProblems] = useState<string[]>([]);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [progress, setProgress] = useState<RunProgress | undefined>(undefined);
  const run = useRef<ChunkedRun<string> | undefined>(undefined);
  const fileId = useId();
  const busy = reading || progress?.state === 'running' || progress?.state === 'cancelling';

  const submit = async (event: Event) => {
    event.preventDefault();
    setProblems([]);
    if (!file) {
      setProblem('Choose a CSV file with one user id per line.');
      return;
    }
    setProblem(undefined);
    setReading(true);
    let parsed;
    try {
      parsed = parseUserIdLines(await file.text());
    } finally {
      setReading(false);
    }
    if (parsed.badLines > 0) {
      setProblem(`${plural(parsed.badLines, 'line is', 'lines are')} not a user id; nothing was imported. Fix the file and import it again.`);
      setProblems(parsed.problems);
      return;
    }
    if (parsed.userIds.length === 0) {
      setProblem('The file holds no user ids.');
      return;
    }
    const saleId = props.sale.id;
    run.current = new ChunkedRun(
      chunksOf(parsed.userIds, IMPORT_CHUNK_IDS),
      async (chunk) => {
        const result = await importReservations(tokenOrThrow(), saleId, chunk);
        return { done: result.imported, duplicates: result.duplicates };
      },
      setProgress,
    );
    await run.current.run();
  };

  const resume = () => void run.current?.run();
  const chunkLabel = progress ? `part ${progress.chunksDone + 1} of ${progress.chunks}` : '';

  return (
    <form onSubmit={submit} noValidate aria-labelledby="import-heading">
      <h2 id="import-heading">Import reservations</h2>
      <div class="field">
        <label for={fileId}>CSV file (one user id per line)</label>
        <input
          id={fileId}
          name="file"
          type="file"
          accept=".csv,.txt,text/csv,text/plain"
          disabled={busy}
          onChange={(event) => setFile((event.currentTarget as HTMLInputElement).files?.[0])}
          aria-invalid={problem !== undefined}
          aria-describedby={`${fileId}-hint`}
        />
        <p id={`${fileId}-hint`} class={problem ? 'field-error' : 'field-hint'}>
          {problem ?? `Any size: sent ${formatCount(IMPORT_CHUNK_IDS)} ids at a time. Ids already reserved are counted, not repeated.`}
        </p>
        {problems.length > 0 ? (
          <ul class="field-error" data-testid="import-problems">
            {problems.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        ) : null}
      </div>
      <div class="row">
        <button type="submit" disabled={busy}>
          {reading ? 'Reading the file…' : busy ? 'Importing…' : 'Import'}
        </button>
        {progress?.state === 'running' ? (
          <button type="button" class="button-quiet" onClick={() => run.current?.cancel()}>
            Cancel
          </button>
        ) : null}
      </div>
      {progress ? <RunProgressView progress={progress} noun="ids" doneLabel="imported" duplicatesLabel="already reserved" testId="import-progress" /> : null}
      {progress?.state === 'done' ? (
        <p role="status" data-testid="import-result">
          Imported {plural(progress.done, 'reservation', 'reservations')}; {formatCount(progress.duplicates)} already existed.
          {progress.chunks > 1 && progress.startedAt !== undefined && progress.finishedAt !== undefined ? ` ${progress.chunks} parts in ${((progress.finishedAt - progress.startedAt) / 1000).toFixed(1)} s.` : ''}
        </p>
      ) : null}
      {progress?.state === 'cancelled' ? (
        <p role="status" data-testid="import-stopped">
          Cancelled before {chunkLabel}: the parts before it are imported.{' '}
          <button type="button" class="button-quiet" onClick={resume}>
            Resume
          </button>
        </p>
      ) : null}
      {progress?.state === 'failed' ? (
        <div class="notice notice-error" role="alert" data-testid="import-stopped">
          <p class="notice-title">
            {chunkLabel.charAt(0).toUpperCase() + chunkLabel.slice(1)} failed: {explainError(progress.error).title.toLowerCase()}
          </p>
          <p>
            The parts before it are imported. Retrying is safe: ids that did get in are counted as already reserved.{' '}
            {progress.error instanceof ApiError && progress.error.code === 'VALIDATION_FAILED' ? progress.error.message : ''}
          </p>
          <button type="button" onClick={resume}>
            Retry from {chunkLabel}
          </button>
        </div>
      ) : null}
    </form>
  );
}
