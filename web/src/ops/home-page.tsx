import { useId, useState } from 'preact/hooks';
import { ErrorNotice, Link, PhaseBadge } from '../shared/components';
import { formatCount, formatDateTime } from '../shared/format';
import { usePolling, useServerNow } from '../shared/hooks';
import { navigate } from '../shared/router';
import { currentPhase } from '../shared/sale-timeline';
import type { Sale } from '../shared/types';
import { opsTokens } from './context';
import { createSale, fetchPublicSales } from './ops-api';
import { emptySaleForm } from './sale-form-rules';
import { SaleForm } from './sale-form';

export function OpsHomePage(props: { token: string }) {
  const now = useServerNow(1000);
  const [sales, setSales] = useState<Sale[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [saleId, setSaleId] = useState('');
  const openId = useId();

  usePolling(
    async () => {
      try {
        setSales(await fetchPublicSales(props.token));
        setError(undefined);
      } catch (caught) {
        setError(caught);
      }
    },
    { intervalMs: 10000 },
  );

  return (
    <div class="stack">
      <h1>
        Ops console
      </h1>
      <section class="card" aria-labelledby="sales-heading">
        <h2 id="sales-heading">Sales not yet ended</h2>
        <ErrorNotice error={error} />
        {sales !== undefined && sales.length === 0 ? <p>No sales yet. Create one below.</p> : null}
        {sales !== undefined && sales.length > 0 ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Sale</th>
                <th scope="col">Status</th>
                <th scope="col">Starts</th>
                <th scope="col" class="number">
                  Left
                </th>
              </tr>
            </thead>
            <tbody>
              {sales.map((sale) => (
                <tr key={sale.id}>
                  <td>
                    <Link href={`/ops/sales/${encodeURIComponent(sale.id)}`}>{sale.name}</Link>
                  </td>
                  <td>
                    <PhaseBadge phase={currentPhase(sale, now)} />
                  </td>
                  <td>{formatDateTime(sale.startsAt)}</td>
                  <td class="number">{formatCount(sale.remaining + sale.fcodeRemaining)}</td>
                </tr>
              ))}
            </tbody>
          </table>
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
