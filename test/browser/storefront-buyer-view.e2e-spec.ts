import { newOrderId, newSaleId } from '../../src/common/ids';
import { orderReference } from '../../web/src/shared/format';
import { uniqueId } from '../support/test-app';
import { describeInBrowser, layoutReport, openPage, RunningClock, screenshot } from '../support/browser';
import { browserSuite, createSaleAsOps, signIn } from '../support/browser-suite';

describeInBrowser('Storefront: what a buyer sees around an order', () => {
  const clock = new RunningClock();
  const suite = browserSuite(clock);

  /** A sale on sale now, open to every signed-in buyer. */
  async function liveSale(overrides: Record<string, unknown> = {}): Promise<any> {
    const sale = await createSaleAsOps(suite, clock, {
      name: `Mi Band ${uniqueId('')}`,
      description: 'Black strap.\nTwenty days on one charge.',
      priceCents: 14900,
      stock: 5,
      fcodeStock: 2,
      reservationRequired: false,
      startsAt: new Date(clock.now() + 1000).toISOString(),
      ...overrides,
    });
    clock.advance(1500);
    return sale;
  }

  describe('when a buyer has bought their limit', () => {
    it('shows a short order reference, then no Buy on the sale page: first "awaiting payment", then "bought your limit"', async () => {
      const sale = await liveSale();
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/sales/${sale.id}`);
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
      const bought = await suite.server.app.request('POST', `/api/sales/${sale.id}/purchase`, { token: suite.server.app.token(buyer), body: { quantity: 2 } });
      expect(bought.status).toBe(201);
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/sales/${sale.id}`);
      await signIn(page, buyer);
      await page.getByRole('link', { name: new RegExp(`^Order ${orderReference(bought.body.id)}: 2 ×`) }).waitFor();
      expect(await page.getByTestId('buy').isDisabled()).toBe(false);
      expect(await page.getByLabel('Quantity').locator('option').allTextContents()).toEqual(['1']);
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  describe('when a link points at a sale or an order that does not exist', () => {
    it('says so with the reason and a link back to the list of sales', async () => {
      const missingSale = newSaleId();
      const { page } = await openPage(suite.browser.context, `${suite.server.baseUrl}/sales/${missingSale}`);
      await page.getByRole('heading', { name: 'Sale not found' }).waitFor();
      expect(await page.getByTestId('error').textContent()).toContain('There is no such sale');
      await signIn(page, uniqueId('buyer-'));

      await page.goto(`${suite.server.baseUrl}/orders/${encodeURIComponent(newOrderId(missingSale))}`);
      await page.getByRole('heading', { name: 'Order not available' }).waitFor();
      expect(await page.getByTestId('error').textContent()).toContain('There is no such order');
      await page.getByRole('link', { name: 'Back to all sales' }).click();
      await page.waitForURL(`${suite.server.baseUrl}/`);
      await page.close();
    });
  });

  describe('when buyers browse sales', () => {
    it('shows the same remaining figures on the list as on the sale page, and the description in a balanced layout', async () => {
      const sale = await liveSale();
      const bought = await suite.server.app.request('POST', `/api/sales/${sale.id}/purchase`, { token: suite.server.app.token(uniqueId('buyer-')), body: {} });
      expect(bought.status).toBe(201);

      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/`);
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
