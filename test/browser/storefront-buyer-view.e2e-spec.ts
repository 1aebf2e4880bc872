import type { Page } from 'playwright-core';
import { orderReference } from '../../web/src/shared/format';
import { uniqueId } from '../support/test-app';
import { BrowserSession, describeInBrowser, launchBrowser, layoutReport, openPage, RunningClock, screenshot, startWebServer, WebTestServer } from '../support/browser';

describeInBrowser('Storefront: what a buyer sees around an order', () => {
  const clock = new RunningClock();
  let server: WebTestServer;
  let browser: BrowserSession;

  beforeAll(async () => {
    browser = await launchBrowser();
    server = await startWebServer({ clock });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A sale on sale now, open to every signed-in buyer. */
  async function liveSale(overrides: Record<string, unknown> = {}): Promise<any> {
    const response = await server.app.request('POST', '/api/admin/sales', {
      token: server.app.opsToken(),
      body: {
        sku: uniqueId('sku-'),
        name: `Mi Band ${uniqueId('')}`,
        description: 'Black strap.\nTwenty days on one charge.',
        priceCents: 14900,
        stock: 5,
        fcodeStock: 2,
        reservationRequired: false,
        startsAt: new Date(clock.now() + 1000).toISOString(),
        ...overrides,
      },
    });
    expect(response.status).toBe(201);
    clock.advance(1500);
    return response.body;
  }

  async function signIn(page: Page, userId: string): Promise<void> {
    await page.getByRole('textbox', { name: 'Sign in as' }).fill(userId);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('signed-in').getByText(userId).waitFor();
  }

  describe('when a buyer has bought their limit', () => {
    it('shows a short order reference, then no Buy on the sale page: first "awaiting payment", then "bought your limit"', async () => {
      const sale = await liveSale();
      const { page, errors } = await openPage(browser.context, `${server.baseUrl}/sales/${sale.id}`);
      await signIn(page, uniqueId('buyer-'));
      await page.getByTestId('buy').click();
      await page.waitForURL(/\/orders\/o_/);
      const orderId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() as string);
      const reference = await page.getByTestId('order-reference').textContent();
      expect(reference).toBe(orderReference(orderId));
      expect(reference).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
      expect(await page.getByTestId('order-id').isVisible()).toBe(false);
      await screenshot(page, 'storefront-order-reference');

      await page.getByRole('link', { name: '← Back to the sale' }).click();
      await page.getByTestId('limit-reached').getByText('Your order awaits payment').waitFor();
      expect(await page.getByTestId('buy').count()).toBe(0);
      expect(await page.getByRole('link', { name: new RegExp(`^Order ${reference}: 1 ×`) }).count()).toBe(1);

      await page.getByTestId('limit-reached').getByRole('link', { name: `Pay for order ${reference}` }).click();
      await page.getByTestId('pay').click();
      await page.getByTestId('paid').waitFor();
      await page.getByRole('link', { name: '← Back to the sale' }).click();
      await page.getByTestId('limit-reached').getByText('You have bought your limit').waitFor();
      expect(await page.getByTestId('buy').count()).toBe(0);
      await screenshot(page, 'storefront-limit-reached');
      expect(errors).toEqual([]);
      await page.close();
    });

    it('still offers Buy for what is left of a limit above one', async () => {
      const sale = await liveSale({ perUserLimit: 3 });
      const buyer = uniqueId('buyer-');
      const bought = await server.app.request('POST', `/api/sales/${sale.id}/purchase`, { token: server.app.token(buyer), body: { quantity: 2 } });
      expect(bought.status).toBe(201);
      const { page, errors } = await openPage(browser.context, `${server.baseUrl}/sales/${sale.id}`);
      await signIn(page, buyer);
      await page.getByRole('link', { name: new RegExp(`^Order ${orderReference(bought.body.id)}: 2 ×`) }).waitFor();
      expect(await page.getByTestId('buy').isDisabled()).toBe(false);
      expect(await page.getByLabel('Quantity').locator('option').allTextContents()).toEqual(['1']);
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  describe('when buyers browse sales', () => {
    it('shows the same remaining figures on the list as on the sale page, and the description in a balanced layout', async () => {
      const sale = await liveSale();
      const bought = await server.app.request('POST', `/api/sales/${sale.id}/purchase`, { token: server.app.token(uniqueId('buyer-')), body: {} });
      expect(bought.status).toBe(201);

      const { page, errors } = await openPage(browser.context, `${server.baseUrl}/`);
      const card = page.getByTestId('sale-card').filter({ hasText: sale.name });
      expect(await card.getByTestId('card-remaining').textContent()).toBe('4 left · 2 for F-code holders');
      await screenshot(page, 'storefront-list-remaining');

      await card.getByRole('link', { name: sale.name }).click();
      await page.getByRole('heading', { name: sale.name }).waitFor();
      expect(await page.getByTestId('remaining').textContent()).toBe('4');
      expect(await page.getByText('Left for F-code holders').count()).toBe(1);
      expect(await page.locator('.description').innerText()).toBe('Black strap.\nTwenty days on one charge.');

      // No card stretches far below its content to match its neighbour.
      const slack = await page.evaluate(() =>
        Array.from((globalThis as any).document.querySelectorAll('.sale-layout > .card')).map((card: any) => {
          const last = card.lastElementChild.getBoundingClientRect().bottom;
          return card.getBoundingClientRect().bottom - last;
        }),
      );
      for (const gap of slack) expect(gap).toBeLessThan(40);
      await screenshot(page, 'storefront-sale-description');

      await page.setViewportSize({ width: 375, height: 812 });
      const layout = await layoutReport(page);
      expect(layout.scrollWidth).toBeLessThanOrEqual(375);
      expect(layout.unlabelled).toEqual([]);
      await screenshot(page, 'storefront-sale-description-phone');
      expect(errors).toEqual([]);
      await page.close();
    });
  });
});
