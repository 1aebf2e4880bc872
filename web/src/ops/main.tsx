import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { onUnauthenticated } from '../shared/api';
import { Link, Notice, SignIn, useToken } from '../shared/components';
import { matchPath, usePath } from '../shared/router';
import '../shared/styles.css';
import { opsTokens } from './context';
import { OpsHomePage } from './home-page';
import { SaleReportPage } from './report-page';
import { SaleAdminPage } from './sale-admin-page';

function OpsConsole() {
  const path = usePath();
  const token = useToken(opsTokens);
  useEffect(() => onUnauthenticated(() => opsTokens.clear()), []);
  const claims = opsTokens.claims();
  const sale = matchPath('/ops/sales/:saleId', path);
  const report = matchPath('/ops/sales/:saleId/report', path);

  let page;
  if (token === null) {
    page = (
      <section class="card">
        <h1>Ops console</h1>
        <p>Sign in with an ops token to create and run sales.</p>
        <SignIn
          store={opsTokens}
          roles={['ops']}
          defaultUserId="ops-1"
          label="Sign in as ops"
          productionHint={<p>Development sign-in is off on this server. Paste a token with the ops role, issued by your identity provider.</p>}
        />
      </section>
    );
  } else if (!claims?.roles.includes('ops')) {
    page = (
      <Notice kind="warning" title="This token has no ops role">
        <p>The admin routes will refuse it. Sign out and sign in with an ops token.</p>
      </Notice>
    );
  } else if (report) page = <SaleReportPage key={report.saleId} saleId={report.saleId} />;
  else if (sale) page = <SaleAdminPage key={sale.saleId} saleId={sale.saleId} />;
  else page = <OpsHomePage token={token} />;

  return (
    <div class="ops">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="site-header no-print">
        <div class="inner">
          <Link href="/ops" class="brand">
            Sell<span>out</span> ops
          </Link>
          {token !== null ? <SignIn store={opsTokens} roles={['ops']} productionHint={null} /> : null}
        </div>
      </header>
      <main id="main" tabIndex={-1}>{page}</main>
    </div>
  );
}

const root = document.getElementById('app') as HTMLElement;
// Preact renders next to existing children: drop the "Loading…" placeholder first.
root.replaceChildren();
render(<OpsConsole />, root);
