import { useEffect, useId, useState } from 'preact/hooks';
import { ApiError } from '../shared/api';
import { Countdown, ErrorNotice, Link, Notice, PhaseBadge, PlaceholderPage, useToken } from '../shared/components';
import { checkFcodeInput } from '../shared/fcode-input';
import { describeDuration, formatCount, formatDateTime, formatMoney, orderReference } from '../shared/format';
import { usePolling, useServerNow } from '../shared/hooks';
import { useSaleEvents } from '../shared/sale-events';
import { navigate } from '../shared/router';
import { currentPhase, fcodeWindowOpen, isOver, nextMilestone, reservationOpen, sellingOpen, timesOf } from '../shared/sale-timeline';
import type { Order, Reservation, Sale } from '@sellout/contract';
import { AdmissionPanel } from './admission-panel';
import { buyerTokens, purchaser } from './context';
import type { PurchaseProgress } from './purchase';
import { fetchMyOrders, fetchMyReservation, fetchSale, reserve } from './store-api';

const POLL_INTERVAL_MS = 3000;
/**
 * While the event stream is open the server pushes every change; a slow poll still re-reads the sale now
 * and then, to keep the page's server clock in step and to catch up should a notice ever be missed.
 */
const POLL_WHILE_STREAMING_MS = 30_000;

function progressText(progress: PurchaseProgress): string {
  if (progress.kind === 'sending') return progress.attempt === 1 ? 'Placing your order…' : `Trying again (attempt ${progress.attempt})…`;
  const wait = describeDuration(progress.retryInMs);
  if (progress.reason === 'rate_limited') return `The shop asked us to slow down; trying again in ${wait}.`;
  if (progress.reason === 'busy') return `The shop is busy; trying again in ${wait}. You will not be charged twice.`;
  return `The connection dropped; trying again in ${wait}. You will not be charged twice.`;
}

export function SalePage(props: { saleId: string }) {
  const { saleId } = props;
  const token = useToken(buyerTokens);
  const now = useServerNow();
  const [sale, setSale] = useState<Sale | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [reservation, setReservation] = useState<Reservation | null | undefined>(undefined);
  const [reserveError, setReserveError] = useState<unknown>(undefined);
  const [reserving, setReserving] = useState(false);
  const [fcode, setFcode] = useState('');
  const [quantity, setQuantity] = useState(1);
  const [progress, setProgress] = useState<PurchaseProgress | undefined>(undefined);
  const [buyError, setBuyError] = useState<unknown>(undefined);
  const [myOrders, setMyOrders] = useState<Order[]>([]);
  const [admissionToken, setAdmissionToken] = useState<string | undefined>(undefined);
  const fcodeId = useId();
  const quantityId = useId();
  const buyHelpId = useId();

  const notFound = loadError instanceof ApiError && loadError.code === 'SALE_NOT_FOUND';
  const over = sale !== undefined && isOver(sale, now);

  const refreshSale = async (): Promise<void> => {
    try {
      setSale(await fetchSale(saleId, buyerTokens.get()));
      setLoadError(undefined);
    } catch (caught) {
      setLoadError(caught);
    }
  };

  // The server pushes every change while the stream is open; gentle polling covers the times it is not
  // (and slow polling the times it is), and stops once the sale is over (or does not exist).
  const streaming = useSaleEvents(
    saleId,
    (pushed) => {
      setSale(pushed);
      setLoadError(undefined);
    },
    !over && !notFound,
  );
  usePolling(refreshSale, { intervalMs: streaming ? POLL_WHILE_STREAMING_MS : POLL_INTERVAL_MS, enabled: !over && !notFound }, [saleId]);

  useEffect(() => {
    setReservation(undefined);
    setMyOrders([]);
    if (token === null) return;
    let cancelled = false;
    fetchMyReservation(saleId, token)
      .then((found) => !cancelled && setReservation(found))
      .catch(() => !cancelled && setReservation(undefined));
    fetchMyOrders(token)
      .then((orders) => !cancelled && setMyOrders(orders.filter((order) => order.saleId === saleId)))
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [saleId, token]);

  if (sale === undefined) {
    return <PlaceholderPage title={notFound ? 'Sale not found' : 'Loading the sale…'} error={loadError} back={<Link href="/">Back to all sales</Link>} />;
  }

  const phase = currentPhase(sale, now);
  const times = timesOf(sale);
  const milestone = nextMilestone(sale, now);
  const fcodeTyped = fcode.trim() !== '';
  const fcodeCheck = checkFcodeInput(fcode);
  const fcodeProblem = fcodeTyped && !fcodeCheck.ok
    ? fcodeCheck.reason === 'typo'
      ? 'This F-code has a typo: one character is wrong or two are swapped. Check it against the one you received.'
      : 'An F-code has 13 letters and digits (dashes and spaces are optional).'
    : undefined;
  const fcodeOpen = fcodeWindowOpen(sale, now);
  const selling = sellingOpen(sale, now);
  const unitsForMe = fcodeTyped ? sale.remaining + sale.fcodeRemaining : sale.remaining;
  const buying = progress !== undefined;
  const livingOrders = myOrders.filter((order) => order.status === 'pending_payment' || order.status === 'paid');
  // What this buyer may still buy: the limit counts units in orders awaiting payment and paid ones.
  const allowance = sale.perUserLimit - livingOrders.reduce((sum, order) => sum + order.quantity, 0);
  const awaitingPayment = livingOrders.find((order) => order.status === 'pending_payment');
  const maxQuantity = Math.max(1, Math.min(allowance, 10));
  const orderQuantity = Math.min(quantity, maxQuantity);

  let blockedBecause: string | undefined;
  if (token === null) blockedBecause = 'Sign in to buy.';
  else if (phase === 'ended') blockedBecause = 'The sale has ended.';
  else if (allowance <= 0) {
    blockedBecause = awaitingPayment
      ? `You already hold an order awaiting payment (limit ${sale.perUserLimit} per buyer): pay for it, or cancel it to buy again.`
      : `You have bought the limit of ${sale.perUserLimit} per buyer.`;
  }
  else if (sale.paused) blockedBecause = 'The sale is paused. The Buy button turns on by itself when it resumes.';
  else if (!selling && !(fcodeOpen && fcodeTyped)) {
    if (fcodeOpen) blockedBecause = 'Only F-code holders can buy before the start. Enter your F-code, or wait: the button turns on by itself at the start.';
    else if (fcodeTyped && times.fcodeOpensAt < times.startsAt) blockedBecause = `With an F-code the Buy button turns on by itself on ${formatDateTime(sale.fcodeOpensAt)}. Keep this page open.`;
    else blockedBecause = 'The Buy button turns on by itself when the sale starts. Keep this page open.';
  } else if (unitsForMe <= 0) blockedBecause = sale.fcodeRemaining > 0 && !fcodeTyped ? 'Sold out for buyers without an F-code.' : 'Sold out.';
  else if (fcodeProblem !== undefined) blockedBecause = 'Fix the F-code first.';
  // A waiting room or a lottery lets in only those it admitted (F-codes before the start excepted).
  else if (sale.admission !== 'open' && admissionToken === undefined && !(fcodeTyped && now < times.startsAt)) {
    blockedBecause = sale.admission === 'queue' ? 'The Buy button turns on by itself when it is your turn in the waiting room.' : 'Only lottery winners can buy, within their time to buy.';
  }

  const onReserve = async () => {
    if (token === null) return;
    setReserving(true);
    setReserveError(undefined);
    try {
      setReservation(await reserve(saleId, token));
      // The count of reservations on the page includes this one now.
      void refreshSale();
    } catch (caught) {
      setReserveError(caught);
    } finally {
      setReserving(false);
    }
  };

  const onBuy = async (event: Event) => {
    event.preventDefault();
    if (blockedBecause !== undefined) return;
    setBuyError(undefined);
    const body = fcodeTyped ? { quantity: orderQuantity, fcode: fcode.trim() } : { quantity: orderQuantity };
    try {
      const order = await purchaser.buy(saleId, body, { onProgress: setProgress, admissionToken });
      navigate(`/orders/${encodeURIComponent(order.id)}`, { order });
    } catch (caught) {
      setBuyError(caught);
      // The refusal may mean the page is behind (sold out, paused, ended): catch up now.
      void refreshSale();
    } finally {
      setProgress(undefined);
    }
  };

  return (
    <article aria-labelledby="sale-heading">
      <p>
        <Link href="/">← All sales</Link>
      </p>
      <div class="two-columns sale-layout">
        <div class="card">
          <h1 id="sale-heading">
            {sale.name}
          </h1>
          <p class="price" data-testid="price">
            {formatMoney(sale.priceCents, sale.currency)}
          </p>
          {sale.description ? <p class="description">{sale.description}</p> : null}
          <dl class="facts">
            <dt>Left</dt>
            <dd data-testid="remaining">{formatCount(sale.remaining)}</dd>
            {sale.fcodeStock > 0 ? (
              <>
                <dt>Left for F-code holders</dt>
                <dd>{formatCount(sale.fcodeRemaining)}</dd>
              </>
            ) : null}
            <dt>Reservations</dt>
            <dd data-testid="reservations">{formatCount(sale.reservations)}</dd>
            <dt>Limit</dt>
            <dd>
              {sale.perUserLimit} per buyer
            </dd>
            <dt>Starts</dt>
            <dd>{formatDateTime(sale.startsAt)}</dd>
            <dt>Ends</dt>
            <dd>{formatDateTime(sale.endsAt)}</dd>
          </dl>
        </div>

        <div class="card stack">
          <p class="row">
            <span class="muted">Status</span> <span data-testid="phase"><PhaseBadge phase={phase} /></span>
          </p>
          {milestone && phase !== 'ended' ? <Countdown label={milestone.label} remainingMs={milestone.at - now} testId="countdown" /> : null}
          {phase === 'sold_out' || (selling && unitsForMe <= 0 && !sale.paused) ? (
            <Notice kind="warning" title="Sold out" testId="sold-out">
              <p>Every unit has been sold. Units from orders that are not paid in time go back on sale; this page updates by itself.</p>
            </Notice>
          ) : null}
          {phase === 'paused' ? (
            <Notice kind="warning" title="The sale is paused">
              <p>Keep this page open; you can buy as soon as it resumes.</p>
            </Notice>
          ) : null}
          {phase === 'ended' ? (
            <Notice kind="info" title="This sale has ended">
              <p>Thank you for your interest. See the list of sales for upcoming ones.</p>
            </Notice>
          ) : null}

          {token === null ? (
            <Notice kind="info" title="Sign in to reserve and buy">
              <p>Use the sign-in at the top of the page; you stay on this sale.</p>
            </Notice>
          ) : (
            <>
              {sale.reservationRequired ? (
                <section aria-labelledby="reservation-heading">
                  <h2 id="reservation-heading">Reservation</h2>
                  {reservation ? (
                    <p class="reserved" data-testid="reserved">
                      Reserved ✓ <span class="muted">on {formatDateTime(reservation.reservedAt)}</span>
                    </p>
                  ) : reservationOpen(sale, now) ? (
                    <>
                      <p>This sale is for buyers who reserve a place before it starts.</p>
                      <button type="button" onClick={onReserve} disabled={reserving || reservation === undefined}>
                        {reserving ? 'Reserving…' : 'Reserve a place'}
                      </button>
                    </>
                  ) : now < times.reservationOpensAt ? (
                    <p>Reservations open on {formatDateTime(sale.reservationOpensAt)}.</p>
                  ) : reservation === null ? (
                    <p>Reservations have closed. Without a reservation you can still buy with an F-code.</p>
                  ) : null}
                  <ErrorNotice error={reserveError} />
                </section>
              ) : (
                <p>No reservation needed: anyone signed in can buy when the sale starts.</p>
              )}

              {sale.admission !== 'open' && phase !== 'ended' ? (
                <AdmissionPanel sale={sale} token={token} now={now} fcode={fcodeTyped && fcodeCheck.ok ? fcode.trim() : undefined} onAdmission={setAdmissionToken} />
              ) : null}

              {phase !== 'ended' && allowance <= 0 ? (
                awaitingPayment ? (
                  <Notice kind="info" title="Your order awaits payment" testId="limit-reached">
                    <p>
                      You hold {sale.perUserLimit === 1 ? 'the one unit' : `the ${sale.perUserLimit} units`} a buyer may have in this sale. Pay for it by{' '}
                      {formatDateTime(awaitingPayment.payBy)} to keep it, or cancel it to buy again.
                    </p>
                    <p>
                      <Link href={`/orders/${encodeURIComponent(awaitingPayment.id)}`}>Pay for order {orderReference(awaitingPayment.id)}</Link>
                    </p>
                  </Notice>
                ) : (
                  <Notice kind="success" title="You have bought your limit" testId="limit-reached">
                    <p>
                      Your order is paid. A buyer may have {sale.perUserLimit === 1 ? 'one unit' : `${sale.perUserLimit} units`} in this sale, so there is nothing more to buy here.
                    </p>
                  </Notice>
                )
              ) : null}

              {phase !== 'ended' && allowance > 0 ? (
                <form onSubmit={onBuy} aria-labelledby="buy-heading" class="stack" noValidate>
                  <h2 id="buy-heading">Buy</h2>
                  {fcodeOpen || times.fcodeOpensAt < times.startsAt ? (
                    <div class="field">
                      <label for={fcodeId}>F-code (optional)</label>
                      <input
                        id={fcodeId}
                        name="fcode"
                        autocomplete="off"
                        autocapitalize="characters"
                        spellcheck={false}
                        value={fcode}
                        onInput={(event) => {
                          setFcode((event.currentTarget as HTMLInputElement).value);
                          // A refusal was about the previous code (or none); it no longer applies.
                          setBuyError(undefined);
                        }}
                        aria-invalid={fcodeProblem !== undefined}
                        aria-describedby={`${fcodeId}-hint`}
                        placeholder="ABCD-EFGH-JKMN-P"
                      />
                      <p id={`${fcodeId}-hint`} class={fcodeProblem ? 'field-error' : 'field-hint'}>
                        {fcodeProblem ??
                          (fcodeOpen
                            ? 'Have an F-code? It lets you buy before the start and without a reservation.'
                            : `F-code holders can buy from ${formatDateTime(sale.fcodeOpensAt)}.`)}
                      </p>
                    </div>
                  ) : null}
                  {sale.perUserLimit > 1 ? (
                    <div class="field">
                      <label for={quantityId}>Quantity</label>
                      <select id={quantityId} name="quantity" value={String(orderQuantity)} onChange={(event) => setQuantity(Number((event.currentTarget as HTMLSelectElement).value))}>
                        {Array.from({ length: maxQuantity }, (_, index) => index + 1).map((value) => (
                          <option value={String(value)} key={value}>
                            {value}
                          </option>
                        ))}
                      </select>
                    </div>
                  ) : null}
                  <button type="submit" class="buy" disabled={blockedBecause !== undefined || buying} aria-describedby={buyHelpId} data-testid="buy">
                    {buying ? 'Buying…' : `Buy now · ${formatMoney(sale.priceCents * orderQuantity, sale.currency)}`}
                  </button>
                  <p id={buyHelpId} class="field-hint" role="status">
                    {progress !== undefined ? progressText(progress) : (blockedBecause ?? (sale.reservationRequired && reservation === null && !fcodeTyped ? 'You have no reservation: without an F-code the shop will refuse this purchase.' : ''))}
                  </p>
                  <ErrorNotice error={buyError} context={{ perUserLimit: sale.perUserLimit }} />
                </form>
              ) : null}

              {livingOrders.length > 0 ? (
                <section aria-labelledby="my-orders-heading">
                  <h2 id="my-orders-heading">Your orders in this sale</h2>
                  <ul>
                    {livingOrders.map((order) => (
                      <li key={order.id}>
                        <Link href={`/orders/${encodeURIComponent(order.id)}`}>
                          Order {orderReference(order.id)}: {order.quantity} × {formatMoney(order.unitPriceCents, order.currency)} — {order.status === 'paid' ? 'paid' : 'awaiting payment'}
                        </Link>
                      </li>
                    ))}
                  </ul>
                </section>
              ) : null}
            </>
          )}
        </div>
      </div>
    </article>
  );
}
