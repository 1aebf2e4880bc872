import { useState } from 'preact/hooks';
import { Countdown, ErrorNotice, Link, PhaseBadge } from '../shared/components';
import { formatCount, formatMoney } from '../shared/format';
import { usePolling, useServerNow } from '../shared/hooks';
import { currentPhase, nextMilestone } from '../shared/sale-timeline';
import type { Sale } from '@sellout/contract';
import { buyerTokens } from './context';
import { fetchSales } from './store-api';

export function SaleListPage() {
  const [sales, setSales] = useState<Sale[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const now = useServerNow(500);

  usePolling(
    async () => {
      try {
        setSales(await fetchSales(buyerTokens.get()));
        setError(undefined);
      } catch (caught) {
        setError(caught);
      }
    },
    { intervalMs: 5000 },
  );

  return (
    <section aria-labelledby="sales-heading">
      <h1 id="sales-heading">
        Flash sales
      </h1>
      {error !== undefined ? <ErrorNotice error={error} /> : null}
      {sales === undefined && error === undefined ? <p aria-busy="true">Loading sales…</p> : null}
      {sales !== undefined && sales.length === 0 ? <p>No sales are scheduled right now. Check back soon.</p> : null}
      {sales !== undefined && sales.length > 0 ? (
        <ul class="sale-list grid">
          {sales.map((sale) => {
            const milestone = nextMilestone(sale, now);
            return (
              <li class="card sale-card" key={sale.id} data-testid="sale-card">
                <h2>
                  <Link href={`/sales/${encodeURIComponent(sale.id)}`}>{sale.name}</Link>
                </h2>
                <p class="price">{formatMoney(sale.priceCents, sale.currency)}</p>
                <p class="row">
                  <PhaseBadge phase={currentPhase(sale, now)} />
                  <span class="muted" data-testid="card-remaining">
                    {/* The same two figures as the sale page: the F-code pool is not open to every buyer. */}
                    {formatCount(sale.remaining)} left
                    {sale.fcodeStock > 0 ? ` · ${formatCount(sale.fcodeRemaining)} for F-code holders` : ''}
                  </span>
                </p>
                {milestone ? <Countdown label={milestone.label} remainingMs={milestone.at - now} /> : null}
              </li>
            );
          })}
        </ul>
      ) : null}
    </section>
  );
}
