import { useId, useState } from 'preact/hooks';
import { ErrorNotice, Link, PhaseBadge, TableHead, type ColumnHeading } from '../shared/components';
import { formatCount, formatDateTime } from '../shared/format';
import { usePolling, useServerNow } from '../shared/hooks';
import { navigate } from '../shared/router';
import { currentPhase } from '../shared/sale-timeline';
import type { SalePage } from '@sellout/contract';
import { opsTokens } from './context';
import { createSale, fetchSaleArchive } from './ops-api';
import { emptySaleForm } from './sale-form-rules';
import { SaleForm } from './sale-form';

/** The archive's filters, each a comma-separated list of phases (as the API takes them). */
export const PHASE_FILTERS: { label: string; phases: string }[] = [
  { label: 'Every sale', phases: '' },
  { label: 'Not ended', phases: 'upcoming,reservation,waiting,priority,live,sold_out,paused' },
  { label: 'Before launch', phases: 'upcoming,reservation,waiting' },
  { label: 'Selling (priority, live)', phases: 'priority,live' },
  { label: 'Sold out', phases: 'sold_out' },
  { label: 'Paused', phases: 'paused' },
  { label: 'Ended', phases: 'ended' },
];

const PAGE_SIZE = 20;

interface ArchiveView {
  phase: string;
  q: string;
  /** Cursors of the pages before this one (the first page's is null), for "Newer". */
  previous: (string | null)[];
  cursor: string | null;
}

/** The filters live in the address, so a reload or a shared link shows the same list. */
function viewFromAddress(): ArchiveView {
  const parameters = new URLSearchParams(location.search);
  const phase = parameters.get('phase') ?? '';
  return { phase: PHASE_FILTERS.some((filter) => filter.phases === phase) ? phase : '', q: parameters.get('q') ?? '', previous: [], cursor: null };
}

function writeAddress(view: ArchiveView): void {
  const parameters = new URLSearchParams();
  if (view.phase !== '') parameters.set('phase', view.phase);
  if (view.q.trim() !== '') parameters.set('q', view.q.trim());
  const search = parameters.toString();
  history.replaceState(history.state, '', `${location.pathname}${search === '' ? '' : `?${search}`}`);
}

const ARCHIVE_COLUMNS: ColumnHeading[] = [{ label: 'Sale' }, { label: 'SKU', class: 'wide-only' }, { label: 'Status' }, { label: 'Starts' }, { label: 'Left', class: 'number' }];

function SaleArchive(props: { token: string }) {
  const now = useServerNow(1000);
  const [view, setView] = useState<ArchiveView>(viewFromAddress);
  const [search, setSearch] = useState(view.q);
  const [page, setPage] = useState<SalePage | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [saleId, setSaleId] = useState('');
  const openId = useId();
  const filterId = useId();
  const searchId = useId();

  usePolling(
    async () => {
      try {
        setPage(await fetchSaleArchive(props.token, { phase: view.phase, q: view.q, limit: PAGE_SIZE, cursor: view.cursor }));
        setError(undefined);
      } catch (caught) {
        setError(caught);
      }
    },
    { intervalMs: 10000 },
    [view.phase, view.q, view.cursor],
  );

  const show = (next: ArchiveView) => {
    setPage(undefined);
    setView(next);
    writeAddress(next);
  };
  const filtered = view.phase !== '' || view.q.trim() !== '';

  return (
    <section class="card" aria-labelledby="sales-heading">
      <h2 id="sales-heading">Sales</h2>
      <form
        class="filter-bar"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          show({ ...view, q: search, previous: [], cursor: null });
        }}
      >
        <div class="field">
          <label for={filterId}>Show</label>
          <select id={filterId} value={view.phase} onChange={(event) => show({ ...view, phase: (event.currentTarget as HTMLSelectElement).value, previous: [], cursor: null })}>
            {PHASE_FILTERS.map((filter) => (
              <option key={filter.phases} value={filter.phases}>
                {filter.label}
              </option>
            ))}
          </select>
        </div>
        <div class="field grow">
          <label for={searchId}>Search SKU or name</label>
          <input id={searchId} type="search" value={search} onInput={(event) => setSearch((event.currentTarget as HTMLInputElement).value)} maxLength={200} />
        </div>
        <button type="submit">Search</button>
      </form>
      <ErrorNotice error={error} />
      {page === undefined && error === undefined ? <p class="muted">Loading…</p> : null}
      {page !== undefined && page.items.length === 0 ? <p>{filtered ? 'No sale matches.' : 'No sales yet. Create one below.'}</p> : null}
      {page !== undefined && page.items.length > 0 ? (
        <div class="table-scroll">
          <table data-testid="sale-archive">
            <TableHead columns={ARCHIVE_COLUMNS} />
            <tbody>
              {page.items.map((sale) => (
                <tr key={sale.id}>
                  <td>
                    <Link href={`/ops/sales/${encodeURIComponent(sale.id)}`}>{sale.name}</Link>
                  </td>
                  <td class="wide-only">
                    <code>{sale.sku}</code>
                  </td>
                  <td>
                    <PhaseBadge phase={sale.phase === 'sold_out' ? 'sold_out' : currentPhase(sale, now)} />
                  </td>
                  <td>{formatDateTime(sale.startsAt)}</td>
                  <td class="number">
                    {formatCount(sale.remaining)}
                    {sale.fcodeStock > 0 ? <span class="muted"> + {formatCount(sale.fcodeRemaining)} F-code</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {page !== undefined && (view.previous.length > 0 || page.nextCursor !== null) ? (
        <nav class="row pager" aria-label="Pages of sales">
          <button type="button" disabled={view.previous.length === 0} onClick={() => show({ ...view, cursor: view.previous[view.previous.length - 1], previous: view.previous.slice(0, -1) })}>
            ← Newer
          </button>
          <span class="muted">Page {view.previous.length + 1}</span>
          <button type="button" disabled={page.nextCursor === null} onClick={() => show({ ...view, cursor: page.nextCursor, previous: [...view.previous, view.cursor] })}>
            Older →
          </button>
        </nav>
      ) : null}
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (saleId.trim() !== '') navigate(`/ops/sales/${encodeURIComponent(saleId.trim())}`);
        }}
      >
        <label for={openId}>Open a sale by id</label>
        <input id={openId} value={saleId} onInput={(event) => setSaleId((event.currentTarget as HTMLInputElement).value)} placeholder="s_…" />
        <button type="submit">Open</button>
      </form>
    </section>
  );
}

export function OpsHomePage(props: { token: string }) {
  return (
    <div class="stack">
      <h1>Ops console</h1>
      <SaleArchive token={props.token} />
      <section class="card" aria-labelledby="create-heading">
        <h2 id="create-heading">Create a sale</h2>
        <SaleForm
          mode="create"
          initial={emptySaleForm()}
          submit={(body) => {
            const token = opsTokens.get();
            return token === null ? Promise.reject(new Error('signed out')) : createSale(token, body);
          }}
          onSaved={(sale) => navigate(`/ops/sales/${encodeURIComponent(sale.id)}`, { sale })}
        />
      </section>
    </div>
  );
}
