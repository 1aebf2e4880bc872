import { useId, useState } from 'preact/hooks';
import { ApiError } from '../shared/api';
import { Countdown, ErrorNotice, Link, Notice, PhaseBadge } from '../shared/components';
import { formatCount, formatDateTime, formatMoney, fromDateTimeLocal } from '../shared/format';
import { usePolling, useServerNow } from '../shared/hooks';
import { currentPhase, isOver, nextMilestone, timesOf } from '../shared/sale-timeline';
import type { FcodeBatch, Sale, SaleStats } from '../shared/types';
import { opsTokens } from './context';
import { LiveStats } from './live-stats';
import { addStock, downloadFcodesCsv, fetchAdminSale, importReservationsCsv, issueFcodes, pauseSale, resumeSale, updateSale } from './ops-api';
import { saleFormOf } from './sale-form-rules';
import { SaleForm } from './sale-form';

const USER_ID = /^[\x21-\x7e]{1,64}$/;

function tokenOrThrow(): string {
  const token = opsTokens.get();
  if (token === null) throw new ApiError(401, 'UNAUTHENTICATED', 'Signed out');
  return token;
}

function PauseControl(props: { sale: Sale; onChange: (sale: Sale) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const toggle = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const token = tokenOrThrow();
      props.onChange(props.sale.paused ? await resumeSale(token, props.sale.id) : await pauseSale(token, props.sale.id));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <button type="button" class={props.sale.paused ? undefined : 'button-danger'} onClick={() => void toggle()} disabled={busy} data-testid="pause-toggle">
        {props.sale.paused ? 'Resume the sale' : 'Pause the sale'}
      </button>
      <ErrorNotice error={error} />
    </div>
  );
}

function StockControl(props: { sale: Sale; stats: SaleStats | undefined; onChange: (sale: Sale) => void }) {
  const [add, setAdd] = useState('');
  const [pool, setPool] = useState<'general' | 'fcode'>('general');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const addId = useId();
  const poolId = useId();
  // The live figures (every second) are fresher than the sale (every few seconds).
  const pools = props.stats?.stock ?? { general: props.sale.stock, fcode: props.sale.fcodeStock, generalRemaining: props.sale.remaining, fcodeRemaining: props.sale.fcodeRemaining };
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setDone(undefined);
    const units = /^-?\d+$/.test(add.trim()) ? Number(add.trim()) : Number.NaN;
    if (!Number.isSafeInteger(units) || units === 0) {
      setProblem('A whole number other than 0: positive adds units, negative removes unsold ones.');
      return;
    }
    setProblem(undefined);
    try {
      const sale = await addStock(tokenOrThrow(), props.sale.id, units, pool);
      props.onChange(sale);
      setDone(`${units > 0 ? 'Added' : 'Removed'} ${formatCount(Math.abs(units))} unit${Math.abs(units) === 1 ? '' : 's'} ${units > 0 ? 'to' : 'from'} the ${pool === 'fcode' ? 'F-code' : 'general'} pool.`);
      setAdd('');
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <form onSubmit={submit} noValidate aria-labelledby="stock-heading">
      <h2 id="stock-heading">Add or remove stock</h2>
      <p class="muted">
        General: {formatCount(pools.generalRemaining)} of {formatCount(pools.general)} left · F-code: {formatCount(pools.fcodeRemaining)} of {formatCount(pools.fcode)} left.
        Allowed at any time; a pool never goes below 0.
      </p>
      <div class="form-grid">
        <div class="field">
          <label for={addId}>Units to add or remove</label>
          <input
            id={addId}
            name="add"
            inputMode="numeric"
            value={add}
            onInput={(event) => setAdd((event.currentTarget as HTMLInputElement).value)}
            aria-invalid={problem !== undefined}
            aria-describedby={`${addId}-hint`}
          />
          <p id={`${addId}-hint`} class={problem ? 'field-error' : 'field-hint'}>
            {problem ?? 'Negative removes unsold units.'}
          </p>
        </div>
        <div class="field">
          <label for={poolId}>Pool</label>
          <select id={poolId} name="pool" value={pool} onChange={(event) => setPool((event.currentTarget as HTMLSelectElement).value as 'general' | 'fcode')}>
            <option value="general">General</option>
            <option value="fcode">F-code</option>
          </select>
        </div>
      </div>
      <button type="submit">Change stock</button>
      {done ? <p role="status">{done}</p> : null}
      <ErrorNotice error={error} />
    </form>
  );
}

function ReservationImport(props: { sale: Sale }) {
  const [file, setFile] = useState<File | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ imported: number; duplicates: number } | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const fileId = useId();
  const submit = async (event: Event) => {
    event.preventDefault();
    setResult(undefined);
    setError(undefined);
    if (!file) {
      setProblem('Choose a CSV file with one user id per line.');
      return;
    }
    setProblem(undefined);
    setBusy(true);
    try {
      setResult(await importReservationsCsv(tokenOrThrow(), props.sale.id, await file.text()));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} noValidate aria-labelledby="import-heading">
      <h2 id="import-heading">Import reservations</h2>
      <div class="field">
        <label for={fileId}>CSV file (one user id per line, up to 100,000)</label>
        <input
          id={fileId}
          name="file"
          type="file"
          accept=".csv,.txt,text/csv,text/plain"
          onChange={(event) => setFile((event.currentTarget as HTMLInputElement).files?.[0])}
          aria-invalid={problem !== undefined}
          aria-describedby={problem ? `${fileId}-error` : undefined}
        />
        {problem ? (
          <p id={`${fileId}-error`} class="field-error">
            {problem}
          </p>
        ) : null}
      </div>
      <button type="submit" disabled={busy}>
        {busy ? 'Importing…' : 'Import'}
      </button>
      {result ? (
        <p role="status" data-testid="import-result">
          Imported {formatCount(result.imported)} reservation{result.imported === 1 ? '' : 's'}; {formatCount(result.duplicates)} already existed.
        </p>
      ) : null}
      <ErrorNotice error={error} />
    </form>
  );
}

function saveFile(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = name;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function FcodeIssuer(props: { sale: Sale }) {
  const [count, setCount] = useState('100');
  const [expiresAt, setExpiresAt] = useState('');
  const [userIds, setUserIds] = useState('');
  const [problems, setProblems] = useState<{ count?: string; expiresAt?: string; userIds?: string }>({});
  const [busy, setBusy] = useState(false);
  const [batches, setBatches] = useState<FcodeBatch[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const [downloading, setDownloading] = useState<string | undefined>(undefined);
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
      else if (boundUsers.length > 100000) found.userIds = 'At most 100,000 user ids per batch.';
      body.count = boundUsers.length;
      body.userIds = boundUsers;
    } else {
      const parsed = /^\d+$/.test(count.trim()) ? Number(count.trim()) : Number.NaN;
      if (!Number.isSafeInteger(parsed) || parsed < 1 || parsed > 100000) found.count = 'From 1 to 100,000.';
      body.count = parsed;
    }
    if (expiresAt.trim() !== '') {
      const iso = fromDateTimeLocal(expiresAt);
      if (iso === undefined) found.expiresAt = 'Not a valid date and time.';
      else body.expiresAt = iso;
    }
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      const batch = await issueFcodes(tokenOrThrow(), props.sale.id, body);
      setBatches([batch, ...batches]);
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
              {problems.count ?? (boundUsers.length > 0 ? 'One code per user id listed below.' : 'Up to 100,000 per batch.')}
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
        <button type="submit" disabled={busy}>
          {busy ? 'Issuing…' : 'Issue codes'}
        </button>
      </form>
      <ErrorNotice error={error} />
      {batches.map((batch) => (
        <div class="notice notice-success" key={batch.batchId} data-testid="fcode-batch">
          <p class="notice-title">
            Issued {formatCount(batch.codes.length)} code{batch.codes.length === 1 ? '' : 's'} (batch <code>{batch.batchId}</code>)
          </p>
          <p>Codes are shown in full only here and in the CSV: download it now.</p>
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

function initialSale(saleId: string): Sale | undefined {
  const state = history.state as { sale?: Sale } | null;
  return state?.sale?.id === saleId ? state.sale : undefined;
}

export function SaleAdminPage(props: { saleId: string }) {
  const { saleId } = props;
  const now = useServerNow(500);
  const [sale, setSale] = useState<Sale | undefined>(() => initialSale(saleId));
  const [loadError, setLoadError] = useState<unknown>(undefined);
  // The edit form starts again from the server's values whenever a save or a reload replaces them.
  const [formVersion, setFormVersion] = useState(0);
  const [stats, setStats] = useState<SaleStats | undefined>(undefined);
  const notFound = loadError instanceof ApiError && loadError.code === 'SALE_NOT_FOUND';

  usePolling(
    async () => {
      try {
        setSale(await fetchAdminSale(tokenOrThrow(), saleId));
        setLoadError(undefined);
      } catch (caught) {
        setLoadError(caught);
      }
    },
    { intervalMs: 5000, enabled: !notFound },
    [saleId],
  );

  if (sale === undefined) {
    return (
      <section>
        <h1>
          {notFound ? 'Sale not found' : 'Loading the sale…'}
        </h1>
        <ErrorNotice error={loadError} />
        <p>
          <Link href="/ops">Back to the console</Link>
        </p>
      </section>
    );
  }

  // The stats say within a second when a running sale sells out; the sale poll is slower.
  const phase = stats !== undefined && stats.saleId === sale.id && (stats.phase === 'sold_out' || stats.phase === 'live') && currentPhase(sale, now) === 'live' ? stats.phase : currentPhase(sale, now);
  const milestone = nextMilestone(sale, now);
  const locked = now >= timesOf(sale).fcodeOpensAt;
  const over = isOver(sale, now);

  return (
    <article class="stack" aria-labelledby="sale-admin-heading">
      <p>
        <Link href="/ops">← All sales</Link>
      </p>
      <header class="card">
        <h1 id="sale-admin-heading">
          {sale.name}
        </h1>
        <p class="row">
          <span data-testid="phase">
            <PhaseBadge phase={phase} />
          </span>
          <span>
            <code>{sale.id}</code>
          </span>
          <span>{formatMoney(sale.priceCents, sale.currency)}</span>
          <Link href={`/sales/${encodeURIComponent(sale.id)}`}>Open in the storefront</Link>
        </p>
        {milestone && !over ? <Countdown label={milestone.label} remainingMs={milestone.at - now} /> : null}
        {!over ? (
          <PauseControl
            sale={sale}
            onChange={(fresh) => {
              setSale(fresh);
            }}
          />
        ) : null}
      </header>

      <section class="card" aria-labelledby="live-heading">
        <h2 id="live-heading">Live view</h2>
        <LiveStats saleId={sale.id} running={!over} onStats={setStats} />
      </section>

      <div class="two-columns">
        <section class="card">
          <StockControl sale={sale} stats={stats} onChange={setSale} />
        </section>
        <section class="card">
          <ReservationImport sale={sale} />
        </section>
      </div>

      <section class="card">
        <FcodeIssuer sale={sale} />
      </section>

      <section class="card" aria-labelledby="edit-heading">
        <h2 id="edit-heading">Details</h2>
        {locked ? (
          <Notice kind="info" title="Locked" testId="locked">
            <p>
              The F-code window opened on {formatDateTime(sale.fcodeOpensAt)}: times, limits, name, description and price can no longer change. Stock and pause still can.
            </p>
          </Notice>
        ) : (
          <p class="muted">Editable until the F-code window opens ({formatDateTime(sale.fcodeOpensAt)}).</p>
        )}
        <SaleForm
          key={`${sale.id}:${formVersion}:${locked}`}
          mode="edit"
          initial={saleFormOf(sale)}
          locked={locked}
          submit={(body) => updateSale(tokenOrThrow(), sale.id, body)}
          onSaved={(fresh) => {
            setSale(fresh);
            setFormVersion(formVersion + 1);
          }}
        />
      </section>
    </article>
  );
}
