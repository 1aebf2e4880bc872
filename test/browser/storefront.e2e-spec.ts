import type { Page, Route } from 'playwright-core';
import { uniqueId } from '../support/test-app';
import { describeInBrowser, eventually, focusedElementText, focusedOutlineStyle, layoutReport, markPage, openPage, pageStillMarked, RunningClock, screenshot, waitUntilEnabled } from '../support/browser';
import { browserSuite, createSaleAsOps, signIn, statsAsOps } from '../support/browser-suite';

const HOUR = 3600_000;

describeInBrowser('Storefront in a browser', () => {
  // The server runs two hours behind the browser: every countdown must follow serverTime, not the device.
  const clock = new RunningClock(Date.now() - 2 * HOUR);
  const suite = browserSuite(clock);

  /** A sale of Redmi 1S phones, by default one unit starting a minute from the server's clock. */
  const createSale = (overrides: Record<string, unknown>) =>
    createSaleAsOps(suite, clock, { name: 'Redmi 1S', description: 'Grey, 8 GB', priceCents: 69900, currency: 'CNY', stock: 1, startsAt: new Date(clock.now() + 60_000).toISOString(), ...overrides });
  const stats = (saleId: string) => statsAsOps(suite, saleId);

  function expectStockEquation(saleStats: any): void {
    const { general, fcode, generalRemaining, fcodeRemaining } = saleStats.stock;
    expect(general + fcode - generalRemaining - fcodeRemaining).toBe(saleStats.unitsSold);
  }

  async function countdownSeconds(page: Page): Promise<number> {
    const text = (await page.getByTestId('countdown').locator('.countdown-value').textContent()) ?? '';
    return text
      .split(':')
      .map(Number)
      .reduce((total, part) => total * 60 + part, 0);
  }

  const buyButton = (page: Page) => page.getByTestId('buy');

  describe('when a buyer reserves, waits for the start, buys and pays', () => {
    it('opens Buy by itself at the start, takes one order to paid, and shows the next buyer "sold out"', async () => {
      const sale = await createSale({ stock: 1, reservationRequired: true, startsAt: new Date(clock.now() + 90_000).toISOString() });
      const alice = uniqueId('alice-');
      const bob = uniqueId('bob-');
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/sales/${sale.id}`);

      await page.getByRole('heading', { name: 'Redmi 1S' }).waitFor();
      expect(await page.getByTestId('price').textContent()).toContain('699.00');
      await signIn(page, alice);
      await page.getByRole('button', { name: 'Reserve a place' }).click();
      await page.getByTestId('reserved').getByText('Reserved ✓').waitFor();

      // 90 s to go by the server's clock; the browser's own clock would say it started two hours ago.
      expect(await page.getByTestId('countdown').textContent()).toContain('Sale starts in');
      expect(await countdownSeconds(page)).toBeGreaterThan(60);
      expect(await countdownSeconds(page)).toBeLessThanOrEqual(90);
      expect(await buyButton(page).isDisabled()).toBe(true);
      await screenshot(page, 'storefront-reserved-waiting');

      const bobReserves = await suite.server.app.request('POST', `/api/sales/${sale.id}/reservations`, { token: suite.server.app.token(bob) });
      expect(bobReserves.status).toBe(201);

      // Jump the server to 45 s before the start; the page learns it from its next read of the sale, at
      // most 36 s away (a server's clock does not jump, so the event stream says nothing of it: the slow
      // poll beside the stream does).
      const startsAt = Date.parse(sale.startsAt);
      clock.set(startsAt - 45_000);
      await markPage(page);
      await eventually(async () => ((await countdownSeconds(page)) <= 45 ? true : undefined), 40_000, 'the countdown to pick up the new server time');
      expect(await buyButton(page).isDisabled()).toBe(true);

      await waitUntilEnabled(page, 'buy', 50_000);
      // Not early (a few ms of response latency aside), and without a reload.
      expect(clock.now()).toBeGreaterThanOrEqual(startsAt - 250);
      expect(await pageStillMarked(page)).toBe(true);
      await screenshot(page, 'storefront-live');

      await buyButton(page).click();
      await page.waitForURL(/\/orders\/o_/);
      await page.getByTestId('order-status').getByText('Awaiting payment').waitFor();
      expect(await page.getByTestId('order-amount').textContent()).toContain('699.00');
      expect(await page.getByTestId('pay-countdown').textContent()).toContain('Pay within');
      await screenshot(page, 'storefront-order-pending');

      await page.getByTestId('pay').click();
      await page.getByTestId('paid').getByText('Paid ✓').waitFor();
      expect(await page.getByTestId('order-status').textContent()).toBe('Paid');
      await screenshot(page, 'storefront-order-paid');

      const orderId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() as string);
      const order = await suite.server.app.request('GET', `/api/orders/${orderId}`, { token: suite.server.app.token(alice) });
      expect(order.body).toMatchObject({ status: 'paid', userId: alice, saleId: sale.id, quantity: 1, amountCents: 69900 });

      const second = await openPage(suite.browser.context, `${suite.server.baseUrl}/sales/${sale.id}`);
      await signIn(second.page, bob);
      await second.page.getByTestId('sold-out').getByText('Sold out').waitFor();
      expect(await buyButton(second.page).isDisabled()).toBe(true);
      await screenshot(second.page, 'storefront-sold-out');

      const saleStats = await stats(sale.id);
      expect(saleStats.unitsSold).toBe(1);
      expect(saleStats.orders.paid).toBe(1);
      expectStockEquation(saleStats);
      expect([...errors, ...second.errors]).toEqual([]);
      await second.page.close();
      await page.close();
    });
  });

  describe('when Buy is double-clicked', () => {
    it('creates one order, although the limit would allow more', async () => {
      const sale = await createSale({ stock: 10, perUserLimit: 5, reservationRequired: false, startsAt: new Date(clock.now() + 1500).toISOString() });
      const carol = uniqueId('carol-');
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/sales/${sale.id}`);
      await signIn(page, carol);
      const purchases: string[] = [];
      page.on('request', (request) => {
        if (request.method() === 'POST' && request.url().endsWith('/purchase')) purchases.push(request.headers()['idempotency-key']);
      });
      await waitUntilEnabled(page, 'buy');

      await buyButton(page).dblclick();
      await page.waitForURL(/\/orders\/o_/);
      await page.getByTestId('order-status').waitFor();
      await screenshot(page, 'storefront-double-click');

      expect(new Set(purchases).size).toBe(1);
      expect(purchases[0]).toMatch(/^[0-9a-f]{32}$/);
      const saleStats = await stats(sale.id);
      expect(saleStats.unitsSold).toBe(1);
      expectStockEquation(saleStats);
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  describe('when the connection drops after the server took the order', () => {
    it('retries with the same Idempotency-Key and ends with the one order the server made', async () => {
      const sale = await createSale({ stock: 10, perUserLimit: 5, reservationRequired: false, startsAt: new Date(clock.now() + 1500).toISOString() });
      const dave = uniqueId('dave-');
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/sales/${sale.id}`);
      await signIn(page, dave);
      const keys: string[] = [];
      let firstOrderId: string | undefined;
      await page.route('**/purchase', async (route: Route) => {
        keys.push(route.request().headers()['idempotency-key']);
        if (keys.length === 1) {
          // The server sells, then the answer is lost on the way back.
          const response = await route.fetch();
          firstOrderId = (await response.json()).id;
          await route.abort('connectionreset');
        } else if (keys.length === 2) {
          await route.fulfill({ status: 503, contentType: 'application/json', headers: { 'retry-after': '1' }, body: JSON.stringify({ statusCode: 503, code: 'UNAVAILABLE', message: 'Redis down', details: [] }) });
        } else {
          await route.continue();
        }
      });
      await waitUntilEnabled(page, 'buy');

      await buyButton(page).click();
      await page.waitForURL(/\/orders\/o_/, { timeout: 20000 });

      expect(keys.length).toBe(3);
      expect(new Set(keys).size).toBe(1);
      expect(decodeURIComponent(new URL(page.url()).pathname.split('/').pop() as string)).toBe(firstOrderId);
      const saleStats = await stats(sale.id);
      expect(saleStats.unitsSold).toBe(1);
      expectStockEquation(saleStats);
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  describe('when the purchase is refused', () => {
    it('says why in plain words and what to do next', async () => {
      const sale = await createSale({ stock: 5, fcodeStock: 1, reservationRequired: true, fcodeOpensAt: new Date(clock.now() + 1000).toISOString(), startsAt: new Date(clock.now() + 1500).toISOString() });
      const erin = uniqueId('erin-');
      const { page } = await openPage(suite.browser.context, `${suite.server.baseUrl}/sales/${sale.id}`);
      await signIn(page, erin);
      await waitUntilEnabled(page, 'buy');

      // No reservation and no F-code.
      await buyButton(page).click();
      await page.getByTestId('error').getByText('This sale is for buyers who reserved a place').waitFor();
      expect(await page.getByTestId('error').textContent()).toContain('If you have an F-code, enter it');

      // A typo in an F-code is caught before any request.
      await page.getByLabel('F-code (optional)').fill('ABCD-EFGH-JKMN-P');
      expect(await page.getByText('An F-code has 13 letters and digits').count() + (await page.getByText('This F-code has a typo').count())).toBe(1);
      expect(await buyButton(page).isDisabled()).toBe(true);
      await page.getByLabel('F-code (optional)').fill('');

      // Paused by ops: the page notices on its next poll.
      expect((await suite.server.app.request('POST', `/api/admin/sales/${sale.id}/pause`, { token: suite.server.app.opsToken() })).status).toBe(200);
      await page.getByText('The sale is paused', { exact: true }).waitFor({ timeout: 10000 });
      expect(await buyButton(page).isDisabled()).toBe(true);
      await screenshot(page, 'storefront-paused');
      await page.close();
    });
  });

  describe('when the payment window passes', () => {
    it('tells the buyer the order expired and nothing was charged', async () => {
      const sale = await createSale({ stock: 3, reservationRequired: false, paymentWindowSeconds: 5, startsAt: new Date(clock.now() + 1000).toISOString() });
      const frank = uniqueId('frank-');
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/sales/${sale.id}`);
      await signIn(page, frank);
      await waitUntilEnabled(page, 'buy');
      await buyButton(page).click();
      await page.waitForURL(/\/orders\/o_/);
      await page.getByTestId('order-status').getByText('Expired').waitFor({ timeout: 20000 });
      await page.getByText('It was not paid in time. Nothing was charged').waitFor();
      expect(await page.getByTestId('pay').count()).toBe(0);
      await screenshot(page, 'storefront-order-expired');
      const saleStats = await stats(sale.id);
      expect(saleStats.unitsSold).toBe(0);
      expectStockEquation(saleStats);
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  describe('on a 375 px phone, with the keyboard', () => {
    it('fits the screen, labels every control and reserves with Enter', async () => {
      const sale = await createSale({ stock: 5, fcodeStock: 2, reservationRequired: true, fcodeOpensAt: new Date(clock.now() + 30_000).toISOString(), startsAt: new Date(clock.now() + 60_000).toISOString() });
      const grace = uniqueId('grace-');
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/sales/${sale.id}`, { width: 375, height: 812 });
      await signIn(page, grace);
      const reserve = page.getByRole('button', { name: 'Reserve a place' });
      await reserve.waitFor();
      await eventually(async () => ((await reserve.isEnabled()) ? true : undefined), 10000, 'the Reserve button to be enabled');

      // Tab until the Reserve button has focus, then press Enter.
      let focused = '';
      for (let presses = 0; presses < 30 && focused !== 'Reserve a place'; presses += 1) {
        await page.keyboard.press('Tab');
        focused = await focusedElementText(page);
      }
      expect(focused).toBe('Reserve a place');
      expect(await focusedOutlineStyle(page)).not.toBe('none');
      await page.keyboard.press('Enter');
      await page.getByTestId('reserved').waitFor();

      const layout = await layoutReport(page);
      expect(layout.scrollWidth).toBeLessThanOrEqual(375);
      expect(layout.unlabelled).toEqual([]);
      await screenshot(page, 'storefront-phone');
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  describe('the list of sales', () => {
    it('shows each sale with its phase and a countdown in server time', async () => {
      const sale = await createSale({ name: 'Mi 3 list check', stock: 7, startsAt: new Date(clock.now() + 3 * 60_000).toISOString() });
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/`);
      const card = page.getByTestId('sale-card').filter({ hasText: 'Mi 3 list check' });
      await card.waitFor();
      expect(await card.textContent()).toContain('Sale starts in');
      expect(await card.locator('.countdown-value').textContent()).toMatch(/^[23]:\d\d$/);
      await card.getByRole('link', { name: 'Mi 3 list check' }).click();
      await page.waitForURL(new RegExp(`/sales/${sale.id}$`));
      await page.getByRole('heading', { name: 'Mi 3 list check' }).waitFor();
      await screenshot(page, 'storefront-list-to-sale');
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  describe('when the sale admits through a waiting room or a lottery', () => {
    it('shows the place in the waiting room, then turns Buy on when the buyer is admitted', async () => {
      const sale = await createSale({ admission: 'queue', stock: 5, reservationRequired: false, admissionRatePerSecond: 1, queueOpensAt: new Date(clock.now()).toISOString() });
      for (const other of [uniqueId('x-'), uniqueId('y-')]) {
        expect((await suite.server.app.request('POST', `/api/sales/${sale.id}/queue`, { token: suite.server.app.token(other), body: {} })).status).toBe(201);
      }
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/sales/${sale.id}`);
      await signIn(page, uniqueId('alice-'));
      await page.getByTestId('join-queue').click();
      await page.getByTestId('queue-position').getByText('Your place in line').waitFor();
      expect(await page.getByTestId('buy').isDisabled()).toBe(true);
      await screenshot(page, 'storefront-waiting-room');

      // Three in line at one a second: everyone is in within three seconds of the start.
      clock.set(Date.parse(sale.startsAt));
      await page.getByTestId('queue-admitted').waitFor({ timeout: 15_000 });
      // The test's clock jumped to the start; beside an open event stream the page re-reads the server's
      // time only every 30 s, so it is reloaded to learn the jump (a real clock does not jump).
      await page.reload();
      await page.getByTestId('queue-admitted').waitFor({ timeout: 15_000 });
      await waitUntilEnabled(page, 'buy');
      await screenshot(page, 'storefront-waiting-room-admitted');
      await page.getByTestId('buy').click();
      await page.waitForURL(/\/orders\/o_/);
      expect(errors).toEqual([]);
      await page.close();
    });

    it('enters the lottery, shows "entered", then "won — buy by", and explains how to check the draw', async () => {
      const startsAt = clock.now() + 60_000;
      const sale = await createSale({ admission: 'lottery', stock: 1, reservationRequired: false, startsAt: new Date(startsAt).toISOString(), lotteryClosesAt: new Date(startsAt - 30_000).toISOString() });
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/sales/${sale.id}`);
      await signIn(page, uniqueId('alice-'));
      await page.getByTestId('enter-lottery').click();
      await page.getByTestId('lottery-entered').waitFor();
      expect(await page.getByTestId('buy').isDisabled()).toBe(true);

      expect((await suite.server.app.request('POST', `/api/admin/sales/${sale.id}/lottery/commit`, { token: suite.server.app.opsToken() })).status).toBe(200);
      clock.set(startsAt - 30_000);
      expect((await suite.server.app.request('POST', `/api/admin/sales/${sale.id}/lottery/draw`, { token: suite.server.app.opsToken() })).status).toBe(200);
      await page.reload();
      await page.getByTestId('lottery-won').getByText('Buy by').waitFor();
      expect(await page.getByText('How to check the draw').count()).toBe(1);
      await screenshot(page, 'storefront-lottery-won');

      clock.set(startsAt);
      await page.reload(); // the page learns the clock's jump to the start (see the waiting-room test)
      await waitUntilEnabled(page, 'buy');
      await page.getByTestId('buy').click();
      await page.waitForURL(/\/orders\/o_/);
      expect(errors).toEqual([]);
      await page.close();
    });
  });
});
