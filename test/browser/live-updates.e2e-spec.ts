import { SaleEventsHub } from '../../src/live/sale-events.hub';
import { uniqueId } from '../support/test-app';
import { describeInBrowser, eventually, markPage, openPage, pageStillMarked, RunningClock, screenshot, useBrowserAndServer } from '../support/browser';

describeInBrowser('Live updates in the browser', () => {
  const clock = new RunningClock();
  const running = useBrowserAndServer({ clock });

  /** A sale on sale now with `stock` units, open to every signed-in buyer. */
  async function liveSale(stock: number): Promise<any> {
    const response = await running.server.app.request('POST', '/api/admin/sales', {
      token: running.server.app.opsToken(),
      body: { sku: uniqueId('sku-'), name: `Redmi ${uniqueId('')}`, priceCents: 69900, stock, reservationRequired: false, startsAt: new Date(clock.now() + 1000).toISOString() },
    });
    expect(response.status).toBe(201);
    clock.advance(1500);
    return response.body;
  }

  const buy = (saleId: string) => running.server.app.request('POST', `/api/sales/${saleId}/purchase`, { token: running.server.app.token(uniqueId('other-')), body: { quantity: 1 } });
  const openStreams = () => running.server.app.app.get(SaleEventsHub).size;

  it('shows a waiting buyer "Sold out" within a second of the last unit going, without a reload', async () => {
    const sale = await liveSale(3);
    const { page, errors } = await openPage(running.browser.context, `${running.server.baseUrl}/sales/${sale.id}`);
    await page.getByTestId('remaining').getByText('3').waitFor();
    await eventually(async () => (openStreams() >= 1 ? true : undefined), 10000, 'the page to open its event stream');
    await markPage(page);

    expect((await buy(sale.id)).status).toBe(201);
    await page.getByTestId('remaining').getByText('2').waitFor({ timeout: 2000 });
    expect((await buy(sale.id)).status).toBe(201);
    const lastUnitSent = Date.now();
    expect((await buy(sale.id)).status).toBe(201);
    await page.getByTestId('sold-out').waitFor({ timeout: Math.max(1, 1000 - (Date.now() - lastUnitSent)) });
    const shownAfterMs = Date.now() - lastUnitSent;
    expect(shownAfterMs).toBeLessThanOrEqual(1000);
    expect(await page.getByTestId('remaining').textContent()).toBe('0');
    expect(await pageStillMarked(page)).toBe(true);
    await screenshot(page, 'storefront-sold-out-live');
    expect(errors).toEqual([]);
    await page.close();
    await eventually(async () => (openStreams() === 0 ? true : undefined), 10000, 'the closed page to leave the streams');
  });

  it('falls back to polling when the event stream cannot be opened', async () => {
    const sale = await liveSale(1);
    const context = await running.browser.context.browser()!.newContext();
    await context.route('**/events', (route) => route.abort());
    const { page } = await openPage(context, `${running.server.baseUrl}/sales/${sale.id}`);
    await page.getByTestId('remaining').getByText('1').waitFor();
    await markPage(page);
    expect((await buy(sale.id)).status).toBe(201);
    await page.getByTestId('sold-out').waitFor({ timeout: 10000 });
    expect(openStreams()).toBe(0);
    expect(await pageStillMarked(page)).toBe(true);
    await context.close();
  });

  it('shows the ops console the sell-out curve and the outcome mix from the first attempt on, when opened after the sell-out', async () => {
    const sale = await liveSale(4);
    for (let index = 0; index < 4; index += 1) expect((await buy(sale.id)).status).toBe(201);
    expect((await buy(sale.id)).status).toBe(409);

    const { page, errors } = await openPage(running.browser.context, `${running.server.baseUrl}/ops/sales/${sale.id}`);
    await page.getByRole('textbox', { name: 'Sign in as ops' }).fill('ops-live');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const mix = page.getByTestId('outcome-mix');
    await mix.waitFor({ timeout: 10000 });
    await eventually(async () => ((await mix.locator('[data-outcome="CREATED"] td').first().textContent()) === '4' ? true : undefined), 10000, 'four orders in the outcome mix');
    expect(await mix.locator('[data-outcome="SOLD_OUT"] td').first().textContent()).toBe('1');
    const chart = page.getByTestId('units-chart');
    expect(Number(await chart.getAttribute('data-samples'))).toBeGreaterThanOrEqual(1);
    expect(await chart.getAttribute('data-last-units-sold')).toBe('4');
    await screenshot(page, 'ops-timeline');
    expect(errors).toEqual([]);
    await page.close();
  });
});
