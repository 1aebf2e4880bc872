import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { uniqueId } from '../support/test-app';
import { BrowserSession, describeInBrowser, eventually, launchBrowser, layoutReport, openPage, RunningClock, screenshot, startWebServer, WebTestServer } from '../support/browser';

const MINUTE = 60_000;

/** `datetime-local` text for an instant; the browser runs in UTC (see launchBrowser). */
function localInput(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 19);
}

describeInBrowser('Ops console in a browser', () => {
  const clock = new RunningClock();
  let server: WebTestServer;
  let browser: BrowserSession;

  beforeAll(async () => {
    // Chromium first: without it the suite fails fast with the install hint.
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

  async function stats(saleId: string): Promise<any> {
    return (await server.app.request('GET', `/api/admin/sales/${saleId}/stats`, { token: server.app.opsToken() })).body;
  }

  describe('when ops create a sale and issue F-codes', () => {
    it('checks the form as the API does, shows the server’s refusals by field, and downloads the codes as CSV', async () => {
      const { page, errors } = await openPage(browser.context, `${server.baseUrl}/ops`);
      await signInAsOps(page);
      const form = page.getByTestId('create-sale-form');
      const creates: string[] = [];
      page.on('request', (request) => {
        if (request.method() === 'POST' && request.url().endsWith('/api/admin/sales')) creates.push(request.postData() ?? '');
      });

      const sku = uniqueId('mi3-');
      await form.getByLabel('SKU').fill(sku);
      await form.getByLabel('Name').fill('Mi 3 (browser)');
      await form.getByLabel('Price (minor units)').fill('199900');
      await form.getByLabel('Stock (general pool)').fill('0');
      await form.getByRole('button', { name: 'Create sale' }).click();
      // Caught in the page: no start, and no stock in either pool.
      await page.getByTestId('error-startsAt').getByText('Required.').waitFor();
      expect(await page.getByTestId('error-stock').textContent()).toContain('at least 1');
      expect(await form.getByLabel('Sale starts').getAttribute('aria-invalid')).toBe('true');
      expect(creates).toEqual([]);
      await screenshot(page, 'ops-create-client-errors');

      // A price beyond what the server stores is caught in the page too: it checks the server's own limits.
      const startsAt = clock.now() + 10 * MINUTE;
      await form.getByLabel('Stock (general pool)').fill('100');
      await form.getByLabel('F-code stock').fill('5');
      await form.getByLabel('Sale starts').fill(localInput(startsAt));
      await form.getByLabel('Price (minor units)').fill('99999999999');
      await form.getByRole('button', { name: 'Create sale' }).click();
      await page.getByTestId('error-priceCents').getByText('From 0 to').waitFor();
      expect(creates).toEqual([]);

      // What only the server can refuse is shown next to its field: one create is answered with a
      // contract error body, as the service would answer a rule the page does not know.
      await page.route(
        '**/api/admin/sales',
        (route) =>
          route.request().method() === 'POST'
            ? route.fulfill({
                status: 400,
                contentType: 'application/json',
                body: JSON.stringify({ statusCode: 400, code: 'VALIDATION_FAILED', message: 'Request validation failed', details: [{ field: 'sku', message: 'sku is reserved' }] }),
              })
            : route.continue(),
        { times: 1 },
      );
      await form.getByLabel('Price (minor units)').fill('199900');
      await form.getByRole('button', { name: 'Create sale' }).click();
      await page.getByTestId('error-sku').getByText('sku is reserved').waitFor();
      expect(creates).toHaveLength(1);
      await screenshot(page, 'ops-create-server-errors');

      await form.getByLabel('Price (minor units)').fill('199900');
      await form.getByRole('button', { name: 'Create sale' }).click();
      await page.waitForURL(/\/ops\/sales\/s_/);
      await page.getByRole('heading', { name: 'Mi 3 (browser)' }).waitFor();
      const saleId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() as string);
      const created = await server.app.request('GET', `/api/admin/sales/${saleId}`, { token: server.app.opsToken() });
      expect(created.body).toMatchObject({ sku, name: 'Mi 3 (browser)', priceCents: 199900, stock: 100, fcodeStock: 5, startsAt: new Date(startsAt).toISOString().replace(/\.\d{3}Z$/, '.000Z') });

      await page.getByLabel('How many codes').fill('5');
      await page.getByRole('button', { name: 'Issue codes' }).click();
      const batch = page.getByTestId('fcode-batch');
      await batch.getByText('Issued 5 codes').waitFor();
      await batch.getByText('Show the first 5 codes').click();
      const shown = (await batch.locator('ol.codes li').allTextContents()).map((code) => code.replace(/-/g, ''));
      expect(shown).toHaveLength(5);

      const [download] = await Promise.all([page.waitForEvent('download'), batch.getByRole('button', { name: 'Download CSV' }).click()]);
      expect(download.suggestedFilename()).toMatch(new RegExp(`^fcodes-${saleId}-.+\\.csv$`));
      const csv = readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/);
      expect(csv[0]).toBe('code,userId,status,expiresAt');
      expect(csv).toHaveLength(6);
      expect(csv.slice(1).map((line) => line.split(',')[0].replace(/-/g, '')).sort()).toEqual([...shown].sort());

      await page.getByLabel('Bind to user ids (optional)').fill('buyer-one\nbuyer-two');
      expect(await page.getByLabel('How many codes').inputValue()).toBe('2');
      await page.getByRole('button', { name: 'Issue codes' }).click();
      await page.getByTestId('fcode-batch').getByText('Issued 2 codes').waitFor();
      expect((await stats(saleId)).fcodes.issued).toBe(7);
      await screenshot(page, 'ops-fcodes-issued');
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  describe('when ops manage a sale before and after it locks', () => {
    it('edits, changes stock, pauses and resumes, imports reservations, then locks the details at the F-code window', async () => {
      const sale = await createSale({ name: 'Mi 3 manage', fcodeOpensAt: new Date(clock.now() + 5 * MINUTE).toISOString() });
      const { page, errors } = await openPage(browser.context, `${server.baseUrl}/ops/sales/${sale.id}`);
      await signInAsOps(page);
      await page.getByRole('heading', { name: 'Mi 3 manage' }).waitFor();

      const edit = page.getByTestId('edit-sale-form');
      await edit.getByLabel('Name').fill('Mi 3 manage (grey)');
      await edit.getByLabel('Limit per buyer').fill('2');
      await edit.getByRole('button', { name: 'Save changes' }).click();
      await page.getByRole('heading', { name: 'Mi 3 manage (grey)' }).waitFor();
      const edited = await server.app.request('GET', `/api/admin/sales/${sale.id}`, { token: server.app.opsToken() });
      expect(edited.body).toMatchObject({ name: 'Mi 3 manage (grey)', perUserLimit: 2 });

      await page.getByLabel('Units to add or remove').fill('5');
      await page.getByLabel('Pool', { exact: true }).selectOption('fcode');
      await page.getByRole('button', { name: 'Change stock' }).click();
      await page.getByText('Added 5 units to the F-code pool.').waitFor();
      expect((await stats(sale.id)).stock.fcode).toBe(5);

      await page.getByTestId('pause-toggle').click();
      await page.getByTestId('phase').getByText('Paused').waitFor();
      expect((await server.app.request('GET', `/api/sales/${sale.id}`)).body.paused).toBe(true);
      await page.getByRole('button', { name: 'Resume the sale' }).click();
      await page.getByRole('button', { name: 'Pause the sale' }).waitFor();
      expect((await server.app.request('GET', `/api/sales/${sale.id}`)).body.paused).toBe(false);

      const file = { name: 'reservations.csv', mimeType: 'text/csv', buffer: Buffer.from('ana\nbo\ncy\n') };
      await page.getByLabel('CSV file (one user id per line)').setInputFiles(file);
      await page.getByRole('button', { name: 'Import' }).click();
      await page.getByTestId('import-result').getByText('Imported 3 reservations; 0 already existed.').waitFor();
      await page.getByLabel('CSV file (one user id per line)').setInputFiles({ ...file, buffer: Buffer.from('ana\nbo\ndee\n') });
      await page.getByRole('button', { name: 'Import' }).click();
      await page.getByTestId('import-result').getByText('Imported 1 reservation; 2 already existed.').waitFor();
      await screenshot(page, 'ops-manage');

      // The F-code window opens: the page locks the details by itself and the server agrees.
      clock.advance(5 * MINUTE);
      await page.getByTestId('locked').waitFor({ timeout: 10000 });
      expect(await page.getByTestId('edit-sale-form').getByLabel('Name').isDisabled()).toBe(true);
      const late = await server.app.request('PATCH', `/api/admin/sales/${sale.id}`, { token: server.app.opsToken(), body: { name: 'too late' } });
      expect(late.body.code).toBe('SALE_LOCKED');
      await screenshot(page, 'ops-locked');
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  describe('when a sale runs', () => {
    it('draws units sold over time as a burst of purchases comes in, with the stock equation holding', async () => {
      const sale = await createSale({ name: 'Mi 3 live', stock: 60, fcodeStock: 0, reservationRequired: false, startsAt: new Date(clock.now() + 1000).toISOString() });
      const { page, errors } = await openPage(browser.context, `${server.baseUrl}/ops/sales/${sale.id}`);
      await signInAsOps(page);
      const chart = page.getByTestId('units-chart');
      await chart.waitFor();
      await eventually(async () => ((await chart.getAttribute('data-samples')) !== '0' ? true : undefined), 5000, 'a first sample');
      await eventually(async () => ((await page.getByTestId('phase').textContent()) === 'On sale now' ? true : undefined), 10000, 'the sale to start');

      const seen = new Set<string>();
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          seen.add((await chart.getAttribute('data-last-units-sold')) ?? '');
          await page.waitForTimeout(200);
        }
      })();

      const buyBurst = (count: number) =>
        Promise.all(
          Array.from({ length: count }, () =>
            server.app.request('POST', `/api/sales/${sale.id}/purchase`, { token: server.app.token(uniqueId('burst-')), body: { quantity: 1 }, headers: { 'idempotency-key': uniqueId('k') } }),
          ),
        );
      const outcomes = [];
      // Three waves, each given time to show up in the one-second polling of the chart.
      for (let wave = 0; wave < 3; wave += 1) {
        outcomes.push(...(await buyBurst(15)));
        const expected = String(15 * (wave + 1));
        await eventually(async () => ((await chart.getAttribute('data-last-units-sold')) === expected ? true : undefined), 10000, `the chart to reach ${expected}`);
      }
      // A last wave that sells the rest out: 15 get a unit, 5 are told SOLD_OUT.
      outcomes.push(...(await buyBurst(20)));
      await eventually(async () => ((await chart.getAttribute('data-last-units-sold')) === '60' ? true : undefined), 10000, 'the chart to reach 60');
      watching = false;
      await watcher;
      seen.add((await chart.getAttribute('data-last-units-sold')) ?? '');

      expect(outcomes.filter((response) => response.status === 201)).toHaveLength(60);
      expect(outcomes.filter((response) => response.status === 409).map((response) => response.body.code)).toEqual(Array(5).fill('SOLD_OUT'));
      const values = [...seen].filter(Boolean).map(Number);
      expect(values).toEqual(expect.arrayContaining([15, 30, 45, 60]));
      expect(await page.getByTestId('units-sold').textContent()).toBe('60');
      expect(await page.getByTestId('general-remaining').textContent()).toContain('0 of 60 left');
      expect(await page.getByTestId('orders-pending').textContent()).toBe('60');
      expect(await page.getByTestId('stock-equation').getAttribute('data-holds')).toBe('true');
      expect(await page.getByTestId('stock-equation').textContent()).toContain('✓ holds');
      const line = await page.getByTestId('units-line').getAttribute('d');
      expect(line?.split(' L').length).toBeGreaterThanOrEqual(4);

      const saleStats = await stats(sale.id);
      expect(saleStats.stock.general + saleStats.stock.fcode - saleStats.stock.generalRemaining - saleStats.stock.fcodeRemaining).toBe(saleStats.unitsSold);
      await screenshot(page, 'ops-live-chart');

      await page.setViewportSize({ width: 375, height: 812 });
      const layout = await layoutReport(page);
      expect(layout.scrollWidth).toBeLessThanOrEqual(375);
      expect(layout.unlabelled).toEqual([]);
      await screenshot(page, 'ops-live-chart-phone');
      expect(errors).toEqual([]);
      await page.close();
    });
  });
});
