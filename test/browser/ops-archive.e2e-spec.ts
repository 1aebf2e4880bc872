import type { Page } from 'playwright-core';
import { uniqueId } from '../support/test-app';
import { BrowserSession, describeInBrowser, launchBrowser, layoutReport, openPage, RunningClock, screenshot, startWebServer, WebTestServer } from '../support/browser';

const MINUTE = 60_000;

describeInBrowser('Ops console: the sales archive, F-code batches and the end-of-sale report', () => {
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

  async function signInAsOps(page: Page): Promise<void> {
    await page.getByRole('textbox', { name: 'Sign in as ops' }).fill('ops-anna');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('signed-in').getByText('ops-anna').waitFor();
  }

  async function createSale(overrides: Record<string, unknown>): Promise<any> {
    const response = await server.app.request('POST', '/api/admin/sales', {
      token: server.app.opsToken(),
      body: { sku: uniqueId('sku-'), name: 'Mi 3', priceCents: 199900, stock: 10, startsAt: new Date(clock.now() + 10 * MINUTE).toISOString(), ...overrides },
    });
    expect(response.status).toBe(201);
    return response.body;
  }

  const rowNames = (page: Page) => page.getByTestId('sale-archive').locator('tbody tr td:first-child').allTextContents();

  describe('when ops look for a sale on the home page', () => {
    it('lists every sale, ended ones too, with a filter and a search that survive a reload, pages, and opens any of them', async () => {
      const tag = uniqueId('arc');
      const ended = await createSale({ name: `Ended ${tag}`, sku: `${tag}-ended`, startsAt: new Date(clock.now() + MINUTE).toISOString(), endsAt: new Date(clock.now() + 2 * MINUTE).toISOString() });
      for (let index = 0; index < 21; index += 1) {
        await createSale({ name: `Batch ${tag} ${String(index).padStart(2, '0')}`, startsAt: new Date(clock.now() + (30 + index) * MINUTE).toISOString() });
      }
      clock.advance(3 * MINUTE);

      const { page, errors } = await openPage(browser.context, `${server.baseUrl}/ops`);
      await signInAsOps(page);
      await page.getByLabel('Search SKU or name').fill(tag.toUpperCase());
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByText('Page 1').waitFor();
      const first = await rowNames(page);
      expect(first).toHaveLength(20);
      // Newest start first.
      expect(first[0]).toBe(`Batch ${tag} 20`);
      await screenshot(page, 'ops-archive');

      await page.getByRole('button', { name: 'Older →' }).click();
      await page.getByText('Page 2').waitFor();
      expect(await rowNames(page)).toEqual([`Batch ${tag} 00`, `Ended ${tag}`]);
      expect(await page.getByRole('button', { name: 'Older →' }).isDisabled()).toBe(true);
      await page.getByRole('button', { name: '← Newer' }).click();
      await page.getByText('Page 1').waitFor();
      expect((await rowNames(page))[0]).toBe(`Batch ${tag} 20`);

      await page.getByLabel('Show').selectOption({ label: 'Ended' });
      await page.getByTestId('sale-archive').getByText(`Ended ${tag}`).waitFor();
      expect(await rowNames(page)).toEqual([`Ended ${tag}`]);
      expect(new URL(page.url()).searchParams.get('phase')).toBe('ended');

      await page.reload();
      await page.getByTestId('sale-archive').getByText(`Ended ${tag}`).waitFor();
      expect(await rowNames(page)).toEqual([`Ended ${tag}`]);
      expect(await page.getByLabel('Search SKU or name').inputValue()).toBe(tag.toUpperCase());
      expect(await page.getByTestId('sale-archive').getByText('Ended', { exact: true }).count()).toBe(1);
      await screenshot(page, 'ops-archive-ended');

      await page.setViewportSize({ width: 375, height: 812 });
      const layout = await layoutReport(page);
      expect(layout.unlabelled).toEqual([]);
      await screenshot(page, 'ops-archive-phone');
      await page.setViewportSize({ width: 1280, height: 900 });

      await page.getByRole('link', { name: `Ended ${tag}` }).click();
      await page.getByRole('heading', { name: `Ended ${tag}` }).waitFor();
      expect(new URL(page.url()).pathname).toBe(`/ops/sales/${ended.id}`);

      expect(errors).toEqual([]);
      await page.close();
    });
  });
});
