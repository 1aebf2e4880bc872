import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../shared/api';
import { Countdown, ErrorNotice, Link, Notice, PlaceholderPage, useToken } from '../shared/components';
import { formatDateTime, formatMoney, orderReference } from '../shared/format';
import { usePolling, useServerNow } from '../shared/hooks';
import type { Order, OrderStatus, Sale } from '@sellout/contract';
import { buyerTokens } from './context';
import { cancelOrder, fetchOrder, fetchSale, payOrder } from './store-api';

const STATUS_LABELS: Record<OrderStatus, string> = {
  pending_payment: 'Awaiting payment',
  paid: 'Paid',
  expired: 'Expired',
  cancelled: 'Cancelled',
};

function initialOrder(orderId: string): Order | undefined {
  // The purchase page hands the fresh order over in the history entry, so it shows without a round trip.
  const state = history.state as { order?: Order } | null;
  return state?.order?.id === orderId ? state.order : undefined;
}

export function OrderPage(props: { orderId: string }) {
  const { orderId } = props;
  const token = useToken(buyerTokens);
  const now = useServerNow();
  const [order, setOrder] = useState<Order | undefined>(() => initialOrder(orderId));
  const [sale, setSale] = useState<Sale | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [actionError, setActionError] = useState<unknown>(undefined);
  const [acting, setActing] = useState<'pay' | 'cancel' | undefined>(undefined);
  const [confirmingCancel, setConfirmingCancel] = useState(false);

  const pending = order === undefined || order.status === 'pending_payment';
  const payBy = order ? Date.parse(order.payBy) : Number.NaN;
  const windowPassed = order !== undefined && order.status === 'pending_payment' && now >= payBy;
  const fatal = loadError instanceof ApiError && (loadError.status === 404 || loadError.status === 403);

  const refresh = async (): Promise<void> => {
    const current = buyerTokens.get();
    if (current === null) return;
    try {
      setOrder(await fetchOrder(orderId, current));
      setLoadError(undefined);
    } catch (caught) {
      setLoadError(caught);
    }
  };

  // While the order awaits payment its status can change under us (expiry); poll faster once the deadline passed.
  usePolling(refresh, { intervalMs: windowPassed ? 1500 : 4000, enabled: token !== null && pending && !fatal }, [orderId, token]);

  useEffect(() => {
    if (order === undefined || sale?.id === order.saleId) return;
    fetchSale(order.saleId, buyerTokens.get())
      .then(setSale)
      .catch(() => undefined);
  }, [order?.saleId]);

  if (token === null) {
    return (
      <section>
        <h1>
          Your order
        </h1>
        <Notice kind="info" title="Sign in to see this order">
          <p>Use the sign-in at the top of the page with the account that placed the order.</p>
        </Notice>
      </section>
    );
  }

  if (order === undefined) {
    return <PlaceholderPage title={fatal ? 'Order not available' : 'Loading your order…'} error={loadError} back={<Link href="/">Back to all sales</Link>} />;
  }

  const act = async (action: 'pay' | 'cancel') => {
    setActing(action);
    setActionError(undefined);
    try {
      setOrder(action === 'pay' ? await payOrder(order.id, token) : await cancelOrder(order.id, token));
    } catch (caught) {
      setActionError(caught);
      // Whatever happened (declined, expired meanwhile, connection lost after the server acted), show the truth.
      await refresh();
    } finally {
      setActing(undefined);
      setConfirmingCancel(false);
    }
  };

  return (
    <article aria-labelledby="order-heading">
      <p>
        <Link href={`/sales/${encodeURIComponent(order.saleId)}`}>← Back to the sale</Link>
      </p>
      <div class="card stack">
        <h1 id="order-heading">
          Your order{sale ? `: ${sale.name}` : ''}
        </h1>
        <p class="row">
          <span class="muted">Status</span>
          <span class={`badge badge-${order.status}`} data-testid="order-status">
            {STATUS_LABELS[order.status]}
          </span>
          <span class="muted">Order</span>
          <strong class="order-reference" data-testid="order-reference">
            {orderReference(order.id)}
          </strong>
        </p>
        <dl class="facts">
          <dt>Quantity</dt>
          <dd>{order.quantity}</dd>
          <dt>Amount</dt>
          <dd data-testid="order-amount">{formatMoney(order.amountCents, order.currency)}</dd>
          <dt>Ordered</dt>
          <dd>{formatDateTime(order.createdAt)}</dd>
          <dt>Pay by</dt>
          <dd>{formatDateTime(order.payBy)}</dd>
          {order.paidAt ? (
            <>
              <dt>Paid</dt>
              <dd>{formatDateTime(order.paidAt)}</dd>
            </>
          ) : null}
          <dt>Order reference</dt>
          <dd>
            {orderReference(order.id)} <span class="muted small">(quote it to the shop)</span>
          </dd>
        </dl>

        {order.status === 'pending_payment' && !windowPassed ? (
          <>
            <Countdown label="Pay within" remainingMs={payBy - now} testId="pay-countdown" />
            <p class="field-hint">If the order is not paid in time it expires: nothing is charged and the units go back on sale.</p>
            <div class="row">
              <button type="button" onClick={() => void act('pay')} disabled={acting !== undefined} data-testid="pay">
                {acting === 'pay' ? 'Paying…' : `Pay ${formatMoney(order.amountCents, order.currency)} (test card)`}
              </button>
              {confirmingCancel ? (
                <>
                  <button type="button" class="button-danger" onClick={() => void act('cancel')} disabled={acting !== undefined}>
                    {acting === 'cancel' ? 'Cancelling…' : 'Yes, cancel the order'}
                  </button>
                  <button type="button" class="button-quiet" onClick={() => setConfirmingCancel(false)} disabled={acting !== undefined}>
                    Keep it
                  </button>
                </>
              ) : (
                <button type="button" class="button-quiet" onClick={() => setConfirmingCancel(true)} disabled={acting !== undefined}>
                  Cancel order
                </button>
              )}
            </div>
          </>
        ) : null}
        {windowPassed ? (
          <Notice kind="warning" title="The payment window has closed" testId="window-closed">
            <p>This order can no longer be paid and nothing was charged. It is being marked expired and its units go back on sale.</p>
          </Notice>
        ) : null}
        {order.status === 'paid' ? (
          <Notice kind="success" title="Paid ✓" testId="paid">
            <p>Thank you! Your payment was received; the shop will ship your order.</p>
          </Notice>
        ) : null}
        {order.status === 'expired' ? (
          <Notice kind="info" title="This order expired">
            <p>It was not paid in time. Nothing was charged and the units went back on sale.</p>
          </Notice>
        ) : null}
        {order.status === 'cancelled' ? (
          <Notice kind="info" title="This order was cancelled">
            <p>Nothing was charged and the units went back on sale.</p>
          </Notice>
        ) : null}
        <ErrorNotice error={actionError} />
        {loadError !== undefined && !fatal ? <ErrorNotice error={loadError} /> : null}
        <details class="muted small">
          <summary>Full order id</summary>
          <code class="break-anywhere" data-testid="order-id">
            {order.id}
          </code>
        </details>
      </div>
    </article>
  );
}
