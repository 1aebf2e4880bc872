import { useState } from 'preact/hooks';
import { ApiError } from '../shared/api';
import { ErrorNotice, Link, Notice, PhaseBadge, TableHead, type ColumnHeading } from '../shared/components';
import { formatCount, formatDateTime, formatMoney } from '../shared/format';
import { usePolling } from '../shared/hooks';
import type { OrderCounts, SaleReport } from '@sellout/contract';
import { tokenOrThrow } from './context';
import { fetchSaleReport } from './ops-api';

const STATUS_LABELS: Record<keyof OrderCounts, string> = {
  pending_payment: 'Awaiting payment',
  paid: 'Paid',
  expired: 'Expired',
  cancelled: 'Cancelled',
  total: 'All orders',
};

function Figure(props: { label: string; value: string; testId?: string }) {
  return (
    <>
      <dt>{props.label}</dt>
      <dd data-testid={props.testId}>{props.value}</dd>
    </>
  );
}

function Reconciliation(props: { report: SaleReport }) {
  const { report } = props;
  if (report.consistent) {
    return (
      <Notice kind="success" title="Consistent" testId="report-verdict">
        <p>Redis, the database and the payments ledger agree on every figure below.</p>
      </Notice>
    );
  }
  return (
    <Notice kind="warning" title={`${formatCount(report.differences.length)} difference${report.differences.length === 1 ? '' : 's'} found`} testId="report-verdict">
      <ul data-testid="report-differences">
        {report.differences.map((difference, index) => (
          <li key={index}>
            <code>{difference.check}</code>: {difference.message}
          </li>
        ))}
      </ul>
    </Notice>
  );
}

const ORDER_COLUMNS: ColumnHeading[] = [{ label: 'Status' }, { label: 'Redis', class: 'number' }, { label: 'Database', class: 'number' }, { label: 'Agree', hidden: true }];

function OrdersTable(props: { report: SaleReport }) {
  const { redis, database } = props.report.orders;
  const statuses = Object.keys(STATUS_LABELS) as (keyof OrderCounts)[];
  return (
    <table data-testid="report-orders">
      <caption>Orders by status</caption>
      <TableHead columns={ORDER_COLUMNS} />
      <tbody>
        {statuses.map((status) => {
          const agree = redis === null || redis[status] === database[status];
          return (
            <tr key={status} class={agree ? undefined : 'mismatch'}>
              <th scope="row">{STATUS_LABELS[status]}</th>
              <td class="number">{redis === null ? '—' : formatCount(redis[status])}</td>
              <td class="number">{formatCount(database[status])}</td>
              <td>{redis === null ? '' : agree ? <span aria-label="agree">✓</span> : <span aria-label="differ">✗</span>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The end-of-sale report of any sale, laid out to be printed (or saved as PDF) from the browser. */
export function SaleReportPage(props: { saleId: string }) {
  const [report, setReport] = useState<SaleReport | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [version, setVersion] = useState(0);
  const notFound = error instanceof ApiError && error.code === 'SALE_NOT_FOUND';
  usePolling(
    async () => {
      try {
        setReport(await fetchSaleReport(tokenOrThrow(), props.saleId));
        setError(undefined);
      } catch (caught) {
        setError(caught);
      }
    },
    // Made once per visit (or Refresh): it reads every code and order of the sale, so it is not polled often.
    { intervalMs: 60000, enabled: !notFound },
    [props.saleId, version],
  );
  const back = `/ops/sales/${encodeURIComponent(props.saleId)}`;

  if (report === undefined) {
    return (
      <section>
        <h1>{notFound ? 'Sale not found' : 'Preparing the report…'}</h1>
        <ErrorNotice error={error} />
        <p>
          <Link href="/ops">Back to the console</Link>
        </p>
      </section>
    );
  }
  const money = (minorUnits: number) => formatMoney(minorUnits, report.payments.currency);
  const { units } = report;
  return (
    <article class="stack report" aria-labelledby="report-heading">
      <p class="no-print row">
        <Link href={back}>← Back to the sale</Link>
        <button type="button" onClick={() => window.print()}>
          Print
        </button>
        <button type="button" class="button-quiet" onClick={() => setVersion(version + 1)}>
          Refresh
        </button>
      </p>
      <header class="card">
        <h1 id="report-heading">End-of-sale report: {report.name}</h1>
        <p class="row">
          <PhaseBadge phase={report.phase} />
          <code>{report.sku}</code>
          <code>{report.saleId}</code>
        </p>
        <p class="muted">
          Sale from {formatDateTime(report.startsAt)} to {formatDateTime(report.endsAt)}. Report made {formatDateTime(report.generatedAt)}.
        </p>
        <Reconciliation report={report} />
        {report.notes.map((note) => (
          <p class="muted" key={note}>
            {note}
          </p>
        ))}
        <ErrorNotice error={error} />
      </header>

      <div class="report-grid">
        <section class="card" aria-labelledby="report-units">
          <h2 id="report-units">Units</h2>
          <dl class="facts">
            <Figure label="Loaded (general + F-code)" value={`${formatCount(units.loadedTotal)} (${formatCount(units.loaded.general)} + ${formatCount(units.loaded.fcode)})`} testId="report-loaded" />
            <Figure label="Left unsold" value={units.remaining === null ? '—' : `${formatCount(units.remaining.general + units.remaining.fcode)} (${formatCount(units.remaining.general)} + ${formatCount(units.remaining.fcode)})`} />
            <Figure label="Sold (awaiting payment or paid)" value={formatCount(units.sold)} testId="report-sold" />
            <Figure label="Paid" value={formatCount(units.paid)} />
            <Figure label="Awaiting payment" value={formatCount(units.pending)} />
            <Figure label="Expired" value={formatCount(units.expired)} />
            <Figure label="Cancelled" value={formatCount(units.cancelled)} />
            <Figure label="Returned to the pools" value={formatCount(units.returned)} />
            <Figure label="Sold out at" value={report.soldOutAt === null ? 'Not sold out' : formatDateTime(report.soldOutAt)} testId="report-sold-out" />
          </dl>
        </section>
        <section class="card" aria-labelledby="report-money">
          <h2 id="report-money">Payments</h2>
          <dl class="facts">
            <Figure label="Charges taken" value={`${formatCount(report.payments.charges)} · ${money(report.payments.chargedCents)}`} testId="report-charges" />
            <Figure label="Refunds" value={`${formatCount(report.payments.refunds)} · ${money(report.payments.refundedCents)}`} testId="report-refunds" />
            <Figure label="Net taken" value={money(report.payments.netCents)} />
            <Figure label="Paid orders add up to" value={money(report.payments.paidOrdersCents)} />
            <Figure label="Declined attempts" value={formatCount(report.payments.declined)} />
          </dl>
        </section>
        <section class="card" aria-labelledby="report-orders-heading">
          <h2 id="report-orders-heading" class="visually-hidden">
            Orders
          </h2>
          <OrdersTable report={report} />
          {report.orderPipeline !== null && (report.orderPipeline.lag > 0 || report.orderPipeline.parked > 0) ? (
            <p class="muted">
              {formatCount(report.orderPipeline.lag)} order event(s) still on their way to the database, {formatCount(report.orderPipeline.parked)} parked.
            </p>
          ) : null}
        </section>
        <section class="card" aria-labelledby="report-people">
          <h2 id="report-people">F-codes, reservations, buyers</h2>
          <dl class="facts">
            <Figure
              label="F-codes"
              value={`${formatCount(report.fcodes.issued)} issued · ${formatCount(report.fcodes.redeemed)} redeemed · ${formatCount(report.fcodes.void)} void · ${formatCount(report.fcodes.expired)} expired`}
              testId="report-fcodes"
            />
            <Figure label="Reservations" value={`${report.reservations.redis === null ? '—' : formatCount(report.reservations.redis)} in Redis · ${formatCount(report.reservations.database)} in the database`} />
            <Figure label="Buyers with an order" value={formatCount(report.buyers.withOrders)} testId="report-buyers" />
            <Figure label="… holding a unit now" value={formatCount(report.buyers.withLiveOrders)} />
            <Figure label="… who paid" value={formatCount(report.buyers.withPaidOrders)} />
          </dl>
        </section>
      </div>
    </article>
  );
}
