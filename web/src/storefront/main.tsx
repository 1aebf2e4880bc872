import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { onUnauthenticated } from '../shared/api';
import { acceptHostToken } from '../shared/auth';
import { Link, SignIn } from '../shared/components';
import { matchPath, usePath } from '../shared/router';
import '../shared/styles.css';
import { buyerTokens } from './context';
import { OrderPage } from './order-page';
import { SaleListPage } from './sale-list-page';
import { SalePage } from './sale-page';

function NotFoundPage() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <Link href="/">See all sales</Link>
      </p>
    </section>
  );
}

function Storefront() {
  const path = usePath();
  useEffect(() => acceptHostToken(buyerTokens), []);
  // A rejected token (expired, revoked secret) is forgotten so the sign-in box comes back.
  useEffect(() => onUnauthenticated(() => buyerTokens.clear()), []);

  const sale = matchPath('/sales/:saleId', path);
  const order = matchPath('/orders/:orderId', path);
  let page;
  if (path === '/' || path === '') page = <SaleListPage />;
  else if (sale) page = <SalePage key={sale.saleId} saleId={sale.saleId} />;
  else if (order) page = <OrderPage key={order.orderId} orderId={order.orderId} />;
  else page = <NotFoundPage />;

  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="site-header">
        <div class="inner">
          <Link href="/" class="brand">
            Sell<span>out</span>
          </Link>
          <SignIn store={buyerTokens} productionHint={<span>Sign in on the shop's website.</span>} />
        </div>
      </header>
      <main id="main" tabIndex={-1}>{page}</main>
      <footer class="site-footer">
        <div class="inner">Times are shown in your time zone; countdowns follow the shop's clock, not your device's.</div>
      </footer>
    </>
  );
}

const root = document.getElementById('app') as HTMLElement;
// Preact renders next to existing children: drop the "Loading…" placeholder first.
root.replaceChildren();
render(<Storefront />, root);
