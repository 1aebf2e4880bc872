import { useId, useRef, useState } from 'preact/hooks';
import { ApiError } from '../shared/api';
import { ErrorNotice, TableHead, type ColumnHeading } from '../shared/components';
import { explainError } from '../shared/error-messages';
import { formatCount, formatDateTime, fromDateTimeLocal } from '../shared/format';
import { usePolling, useServerNow } from '../shared/hooks';
import { isOver } from '../shared/sale-timeline';
import type { IssuedFcodes, FcodeBatchSummary, Sale, VoidedFcode } from '@sellout/contract';
import { ChunkedRun, chunksOf, RunProgress } from './chunked-import';
import { saveFile, tokenOrThrow } from './context';
import { downloadFcodesCsv, fetchFcodeBatches, issueFcodes, voidFcode } from './ops-api';
import { RunProgressView } from './reservation-import';

const USER_ID = /^[\x21-\x7e]{1,64}$/;
/** The API issues at most this many codes per call (one batch). */
const CODES_PER_BATCH = 100_000;
/** What the console issues in one go, as several batches. */
const MAX_CODES_PER_REQUEST = 1_000_000;

function FcodeIssuer(props: { sale: Sale; onIssued: () => void }) {
  const [count, setCount] = useState('100');
  const [expiresAt, setExpiresAt] = useState('');
  const [userIds, setUserIds] = useState('');
  const [problems, setProblems] = useState<{ count?: string; expiresAt?: string; userIds?: string }>({});
  const [busy, setBusy] = useState(false);
  const [batches, setBatches] = useState<IssuedFcodes[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const [downloading, setDownloading] = useState<string | undefined>(undefined);
  const [bulk, setBulk] = useState<RunProgress | undefined>(undefined);
  const bulkRun = useRef<ChunkedRun<string | null> | undefined>(undefined);
  const countId = useId();
  const expiresId = useId();
  const usersId = useId();
  const boundUsers = userIds
    .split(/[\s,;]+/)
    .map((userId) => userId.trim())
    .filter(Boolean);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    const found: typeof problems = {};
    const body: { count: number; expiresAt?: string; userIds?: string[] } = { count: 0 };
    if (boundUsers.length > 0) {
      const bad = boundUsers.find((userId) => !USER_ID.test(userId));
      if (bad !== undefined) found.userIds = `"${bad.slice(0, 70)}" is not a user id (1 to 64 characters, no spaces).`;
      else if (new Set(boundUsers).size !== boundUsers.length) found.userIds = 'Each user id may appear only once.';
      else if (boundUsers.length > MAX_CODES_PER_REQUEST) found.userIds = `At most ${formatCount(MAX_CODES_PER_REQUEST)} user ids at once.`;
      body.count = boundUsers.length;
      body.userIds = boundUsers;
    } else {
      const parsed = /^\d+$/.test(count.trim()) ? Number(count.trim()) : Number.NaN;
      if (!Number.isSafeInteger(parsed) || parsed < 1 || parsed > MAX_CODES_PER_REQUEST) found.count = `From 1 to ${formatCount(MAX_CODES_PER_REQUEST)}.`;
      body.count = parsed;
    }
    if (expiresAt.trim() !== '') {
      const iso = fromDateTimeLocal(expiresAt);
      if (iso === undefined) found.expiresAt = 'Not a valid date and time.';
      else body.expiresAt = iso;
    }
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    if (body.count > CODES_PER_BATCH) {
      await issueInBatches(body);
      return;
    }
    setBusy(true);
    try {
      const batch = await issueFcodes(tokenOrThrow(), props.sale.id, body);
      setBatches([batch, ...batches]);
      props.onIssued();
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'VALIDATION_FAILED') {
        const byField: typeof problems = {};
        for (const detail of caught.details) {
          const field = detail.field.split('.')[0] as keyof typeof problems;
          if (field === 'count' || field === 'expiresAt' || field === 'userIds') byField[field] = detail.message;
        }
        setProblems(byField);
      }
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  /**
   * More codes than one call may issue: one batch per 100,000 codes (or bound user ids), one call after
   * another with a progress bar. A failed call stops the run; retrying it carries on from there (if the
   * failed call did reach the server, that batch exists twice: the batch list shows it).
   */
  const issueInBatches = async (body: { count: number; expiresAt?: string; userIds?: string[] }) => {
    const items: (string | null)[] = body.userIds ?? new Array<null>(body.count).fill(null);
    const saleId = props.sale.id;
    bulkRun.current = new ChunkedRun(
      chunksOf(items, CODES_PER_BATCH),
      async (chunk) => {
        const bound = chunk[0] !== null;
        const batch = await issueFcodes(tokenOrThrow(), saleId, { count: chunk.length, expiresAt: body.expiresAt, ...(bound ? { userIds: chunk as string[] } : {}) });
        props.onIssued();
        return { done: batch.codes.length, duplicates: 0 };
      },
      setBulk,
    );
    await bulkRun.current.run();
  };
  const bulkBusy = bulk?.state === 'running' || bulk?.state === 'cancelling';
  const bulkChunk = bulk ? `batch ${bulk.chunksDone + 1} of ${bulk.chunks}` : '';

  const download = async (batchId: string) => {
    setDownloading(batchId);
    setError(undefined);
    try {
      const csv = await downloadFcodesCsv(tokenOrThrow(), props.sale.id, batchId);
      saveFile(`fcodes-${props.sale.id}-${batchId}.csv`, csv, 'text/csv');
    } catch (caught) {
      setError(caught);
    } finally {
      setDownloading(undefined);
    }
  };

  return (
    <div>
      <form onSubmit={submit} noValidate aria-labelledby="fcodes-heading">
        <h2 id="fcodes-heading">Issue F-codes</h2>
        <div class="form-grid">
          <div class="field">
            <label for={countId}>How many codes</label>
            <input
              id={countId}
              name="count"
              inputMode="numeric"
              value={boundUsers.length > 0 ? String(boundUsers.length) : count}
              disabled={boundUsers.length > 0}
              onInput={(event) => setCount((event.currentTarget as HTMLInputElement).value)}
              aria-invalid={problems.count !== undefined}
              aria-describedby={`${countId}-hint`}
            />
            <p id={`${countId}-hint`} class={problems.count ? 'field-error' : 'field-hint'}>
              {problems.count ?? (boundUsers.length > 0 ? 'One code per user id listed below.' : `Up to ${formatCount(CODES_PER_BATCH)} per batch; more are issued as several batches.`)}
            </p>
          </div>
          <div class="field">
            <label for={expiresId}>Expires (optional, your local time)</label>
            <input
              id={expiresId}
              name="expiresAt"
              type="datetime-local"
              step={1}
              value={expiresAt}
              onInput={(event) => setExpiresAt((event.currentTarget as HTMLInputElement).value)}
              aria-invalid={problems.expiresAt !== undefined}
              aria-describedby={problems.expiresAt ? `${expiresId}-error` : undefined}
            />
            {problems.expiresAt ? (
              <p id={`${expiresId}-error`} class="field-error">
                {problems.expiresAt}
              </p>
            ) : null}
          </div>
        </div>
        <div class="field">
          <label for={usersId}>Bind to user ids (optional)</label>
          <textarea
            id={usersId}
            name="userIds"
            rows={3}
            value={userIds}
            onInput={(event) => setUserIds((event.currentTarget as HTMLTextAreaElement).value)}
            aria-invalid={problems.userIds !== undefined}
            aria-describedby={`${usersId}-hint`}
          />
          <p id={`${usersId}-hint`} class={problems.userIds ? 'field-error' : 'field-hint'}>
            {problems.userIds ?? 'One per line (or separated by commas). A bound code works only for its user.'}
          </p>
        </div>
        <div class="row">
          <button type="submit" disabled={busy || bulkBusy}>
            {busy || bulkBusy ? 'Issuing…' : 'Issue codes'}
          </button>
          {bulk?.state === 'running' ? (
            <button type="button" class="button-quiet" onClick={() => bulkRun.current?.cancel()}>
              Stop after this batch
            </button>
          ) : null}
        </div>
      </form>
      <ErrorNotice error={error} />
      {bulk ? <RunProgressView progress={bulk} noun="codes" doneLabel="issued" testId="issue-progress" /> : null}
      {bulk?.state === 'done' ? (
        <p role="status" data-testid="issue-result">
          Issued {formatCount(bulk.done)} codes in {formatCount(bulk.chunks)} batches. Download them from the batch list below.
        </p>
      ) : null}
      {bulk?.state === 'cancelled' ? (
        <p role="status">
          Stopped before {bulkChunk}: {formatCount(bulk.done)} codes issued.{' '}
          <button type="button" class="button-quiet" onClick={() => void bulkRun.current?.run()}>
            Go on
          </button>
        </p>
      ) : null}
      {bulk?.state === 'failed' ? (
        <div class="notice notice-error" role="alert" data-testid="issue-stopped">
          <p class="notice-title">
            Issuing {bulkChunk} failed: {explainError(bulk.error).title.toLowerCase()}
          </p>
          <p>The batches before it are issued. If the failed call did reach the shop, retrying issues that batch again: check the batch list first.</p>
          <button type="button" onClick={() => void bulkRun.current?.run()}>
            Retry from {bulkChunk}
          </button>
        </div>
      ) : null}
      {batches.map((batch) => (
        <div class="notice notice-success" key={batch.batchId} data-testid="fcode-batch">
          <p class="notice-title">
            Issued {formatCount(batch.codes.length)} code{batch.codes.length === 1 ? '' : 's'} (batch <code>{batch.batchId}</code>)
          </p>
          <p>Codes are shown in full only here and in the CSV; the batch stays listed below for later downloads.</p>
          <button type="button" onClick={() => void download(batch.batchId)} disabled={downloading === batch.batchId}>
            {downloading === batch.batchId ? 'Preparing…' : 'Download CSV'}
          </button>
          <details>
            <summary>Show the first {Math.min(20, batch.codes.length)} codes</summary>
            <ol class="codes">
              {batch.codes.slice(0, 20).map((code) => (
                <li key={code}>{code}</li>
              ))}
            </ol>
          </details>
        </div>
      ))}
    </div>
  );
}

const BATCH_COLUMNS: ColumnHeading[] = [
  { label: 'Issued' },
  { label: 'Codes', class: 'number' },
  { label: 'Expires' },
  { label: 'Redeemed', class: 'number' },
  { label: 'Void', class: 'number' },
  { label: 'Expired', class: 'number' },
  { label: 'Unused', class: 'number' },
  { label: 'Download', hidden: true },
];

/** A sale's batches from the server (so they survive a reload), with their counts and downloads. */
function FcodeBatchList(props: { sale: Sale; batches: FcodeBatchSummary[] | undefined; error: unknown }) {
  const [downloading, setDownloading] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const download = async (batchId: string | undefined) => {
    const name = batchId === undefined ? `fcodes-${props.sale.id}.csv` : `fcodes-${props.sale.id}-${batchId}.csv`;
    setDownloading(batchId ?? 'all');
    setError(undefined);
    try {
      saveFile(name, await downloadFcodesCsv(tokenOrThrow(), props.sale.id, batchId), 'text/csv');
    } catch (caught) {
      setError(caught);
    } finally {
      setDownloading(undefined);
    }
  };
  const { batches } = props;
  const total = batches?.reduce((sum, batch) => sum + batch.count, 0) ?? 0;
  return (
    <div>
      <h2 id="batches-heading">F-code batches</h2>
      <ErrorNotice error={props.error ?? error} />
      {batches === undefined && props.error === undefined ? <p class="muted">Loading…</p> : null}
      {batches !== undefined && batches.length === 0 ? <p>No F-codes issued for this sale yet.</p> : null}
      {batches !== undefined && batches.length > 0 ? (
        <>
          <p class="row">
            <span>
              {formatCount(batches.length)} batch{batches.length === 1 ? '' : 'es'}, {formatCount(total)} code{total === 1 ? '' : 's'}.
            </span>
            <button type="button" class="button-quiet" onClick={() => void download(undefined)} disabled={downloading !== undefined} data-testid="download-all-fcodes">
              {downloading === 'all' ? 'Preparing…' : 'Download every code (CSV)'}
            </button>
          </p>
          <div class="table-scroll">
            <table data-testid="fcode-batches">
              <TableHead columns={BATCH_COLUMNS} />
              <tbody>
                {batches.map((batch) => (
                  <tr key={batch.batchId} data-batch-id={batch.batchId}>
                    <td>
                      {formatDateTime(batch.createdAt)}
                      <br />
                      <code class="muted small">{batch.batchId}</code>
                    </td>
                    <td class="number">
                      {formatCount(batch.count)}
                      {batch.bound > 0 ? <span class="muted small"> ({formatCount(batch.bound)} bound)</span> : null}
                    </td>
                    <td>{batch.expiresAt === null ? <span class="muted">At the sale’s end</span> : formatDateTime(batch.expiresAt)}</td>
                    <td class="number" data-testid="batch-redeemed">
                      {formatCount(batch.redeemed)}
                    </td>
                    <td class="number" data-testid="batch-void">
                      {formatCount(batch.void)}
                    </td>
                    <td class="number" data-testid="batch-expired">
                      {formatCount(batch.expired)}
                    </td>
                    <td class="number">{formatCount(batch.count - batch.redeemed - batch.void - batch.expired)}</td>
                    <td>
                      <button
                        type="button"
                        class="button-quiet"
                        onClick={() => void download(batch.batchId)}
                        disabled={downloading !== undefined}
                        aria-label={`Download the CSV of batch ${batch.batchId}`}
                      >
                        {downloading === batch.batchId ? 'Preparing…' : 'CSV'}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </div>
  );
}

/** Voids one code, after a second click: a void code never works again. */
function VoidCodeForm(props: { onVoided: () => void }) {
  const [code, setCode] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [voided, setVoided] = useState<VoidedFcode | undefined>(undefined);
  const codeId = useId();
  const ask = (event: Event) => {
    event.preventDefault();
    setVoided(undefined);
    setError(undefined);
    if (code.replace(/[\s-]/g, '') === '') {
      setProblem('Enter the code to void.');
      return;
    }
    setProblem(undefined);
    setConfirming(true);
  };
  const confirm = async () => {
    setBusy(true);
    try {
      setVoided(await voidFcode(tokenOrThrow(), code.trim()));
      setCode('');
      props.onVoided();
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'VALIDATION_FAILED') setProblem(caught.details[0]?.message ?? caught.message);
      else if (caught instanceof ApiError && caught.code === 'NOT_FOUND') setProblem('No such F-code was ever issued.');
      else setError(caught);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  return (
    <form onSubmit={ask} noValidate aria-labelledby="void-heading" class="void-form">
      <h3 id="void-heading">Void a code</h3>
      <div class="inline-form">
        <label for={codeId}>F-code</label>
        <input
          id={codeId}
          name="code"
          value={code}
          autocomplete="off"
          spellcheck={false}
          onInput={(event) => {
            setCode((event.currentTarget as HTMLInputElement).value);
            setConfirming(false);
          }}
          aria-invalid={problem !== undefined}
          aria-describedby={`${codeId}-hint`}
          placeholder="XXXX-XXXX-XXXX-X"
        />
        {confirming ? (
          <>
            <button type="button" class="button-danger" onClick={() => void confirm()} disabled={busy}>
              {busy ? 'Voiding…' : 'Yes, void it for good'}
            </button>
            <button type="button" class="button-quiet" onClick={() => setConfirming(false)} disabled={busy}>
              Keep it
            </button>
          </>
        ) : (
          <button type="submit">Void code</button>
        )}
      </div>
      <p id={`${codeId}-hint`} class={problem ? 'field-error' : 'field-hint'}>
        {problem ?? 'A void code is refused from then on. An order it already backs keeps its unit.'}
      </p>
      {voided ? (
        <p role="status" data-testid="void-result">
          Voided <code>{voided.code}</code>.{voided.orderId !== null ? ` It backs order ${voided.orderId}, which keeps its unit; if that order lapses the code does not come back.` : ''}
        </p>
      ) : null}
      <ErrorNotice error={error} />
    </form>
  );
}

/** Everything about a sale's F-codes: issue a batch, list the batches, download, void. */
export function FcodesPanel(props: { sale: Sale }) {
  const now = useServerNow(5000);
  const [batches, setBatches] = useState<FcodeBatchSummary[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [version, setVersion] = useState(0);
  const refresh = () => setVersion((current) => current + 1);
  usePolling(
    async () => {
      try {
        setBatches(await fetchFcodeBatches(tokenOrThrow(), props.sale.id));
        setError(undefined);
      } catch (caught) {
        setError(caught);
      }
    },
    { intervalMs: 15000 },
    [props.sale.id, version],
  );
  const over = isOver(props.sale, now);
  return (
    <>
      {over ? null : (
        <section class="card">
          <FcodeIssuer sale={props.sale} onIssued={refresh} />
        </section>
      )}
      <section class="card" aria-labelledby="batches-heading">
        <FcodeBatchList sale={props.sale} batches={batches} error={error} />
        <VoidCodeForm onVoided={refresh} />
      </section>
    </>
  );
}
