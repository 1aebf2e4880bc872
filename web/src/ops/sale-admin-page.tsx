import { useId, useState } from 'preact/hooks';
import { ApiError } from '../shared/api';
import { Countdown, ErrorNotice, Link, Notice, PhaseBadge, PlaceholderPage } from '../shared/components';
import { formatCount, formatDateTime, formatMoney } from '../shared/format';
import { usePolling, useServerNow } from '../shared/hooks';
import { currentPhase, isOver, nextMilestone, timesOf } from '../shared/sale-timeline';
import type { Sale, SaleStats } from '@sellout/contract';
import { tokenOrThrow } from './context';
import { FcodesPanel } from './fcodes-panel';
import { LotteryPanel } from './lottery-panel';
import { LiveStats } from './live-stats';
import { addStock, fetchAdminSale, pauseSale, resumeSale, updateSale } from './ops-api';
import { ReservationImport } from './reservation-import';
import { saleFormOf } from './sale-form-rules';
import { SaleForm } from './sale-form';

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
    return <PlaceholderPage title={notFound ? 'Sale not found' : 'Loading the sale…'} error={loadError} back={<Link href="/ops">Back to the console</Link>} />;
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
          <Link href={`/ops/sales/${encodeURIComponent(sale.id)}/report`}>End-of-sale report</Link>
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

      <FcodesPanel sale={sale} />

      {sale.admission === 'lottery' ? <LotteryPanel sale={sale} now={now} onChange={() => void fetchAdminSale(tokenOrThrow(), sale.id).then(setSale)} /> : null}

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
          current={saleFormOf(sale)}
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
