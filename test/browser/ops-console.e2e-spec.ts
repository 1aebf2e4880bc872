import { readFileSync } from 'node:fs';
import { newSaleId } from '../../src/common/ids';
import { uniqueId } from '../support/test-app';
import { describeInBrowser, eventually, layoutReport, openPage, RunningClock, screenshot } from '../support/browser';
import { browserSuite, createSaleAsOps, signInAsOps, statsAsOps } from '../support/browser-suite';

const MINUTE = 60_000;

/** `datetime-local` text for an instant; the browser runs in UTC (see launchBrowser). */
/**
 * A time as a datetime-local field holds it (the browser runs in UTC here): the browser leaves out
 * seconds that are zero, so a field set to 15:31:00 reads back as 15:31.
 */
function localInput(epochMs: number): string {
  const text = new Date(epochMs).toISOString().slice(0, 19);
  return text.endsWith(':00') ? text.slice(0, 16) : text;
}

describeInBrowser('Ops console in a browser', () => {
  const clock = new RunningClock();
  const suite = browserSuite(clock);

  const createSale = (overrides: Record<string, unknown>) => createSaleAsOps(suite, clock, overrides);
  const stats = (saleId: string) => statsAsOps(suite, saleId);

  describe('when ops create a sale and issue F-codes', () => {
    it('checks the form as the API does, shows the server’s refusals by field, and downloads the codes as CSV', async () => {
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/ops`);
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
      const created = await suite.server.app.request('GET', `/api/admin/sales/${saleId}`, { token: suite.server.app.opsToken() });
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
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/ops/sales/${sale.id}`);
      await signInAsOps(page);
      await page.getByRole('heading', { name: 'Mi 3 manage' }).waitFor();

      const edit = page.getByTestId('edit-sale-form');
      await edit.getByLabel('Name').fill('Mi 3 manage (grey)');
      await edit.getByLabel('Limit per buyer').fill('2');
      await edit.getByRole('button', { name: 'Save changes' }).click();
      await page.getByRole('heading', { name: 'Mi 3 manage (grey)' }).waitFor();
      const edited = await suite.server.app.request('GET', `/api/admin/sales/${sale.id}`, { token: suite.server.app.opsToken() });
      expect(edited.body).toMatchObject({ name: 'Mi 3 manage (grey)', perUserLimit: 2 });

      await page.getByLabel('Units to add or remove').fill('5');
      await page.getByLabel('Pool', { exact: true }).selectOption('fcode');
      await page.getByRole('button', { name: 'Change stock' }).click();
      await page.getByText('Added 5 units to the F-code pool.').waitFor();
      expect((await stats(sale.id)).stock.fcode).toBe(5);

      await page.getByTestId('pause-toggle').click();
      await page.getByTestId('phase').getByText('Paused').waitFor();
      expect((await suite.server.app.request('GET', `/api/sales/${sale.id}`)).body.paused).toBe(true);
      await page.getByRole('button', { name: 'Resume the sale' }).click();
      await page.getByRole('button', { name: 'Pause the sale' }).waitFor();
      expect((await suite.server.app.request('GET', `/api/sales/${sale.id}`)).body.paused).toBe(false);

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
      const late = await suite.server.app.request('PATCH', `/api/admin/sales/${sale.id}`, { token: suite.server.app.opsToken(), body: { name: 'too late' } });
      expect(late.body.code).toBe('SALE_LOCKED');
      await screenshot(page, 'ops-locked');
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  describe('when ops set when the waiting room opens and when lottery entries close', () => {
    it('shows each time with its admission mode and saves it', async () => {
      // A whole minute, every run: the form's time inputs then read back without seconds (see localInput),
      // which once failed only in the runs that happened to start on one.
      const startsAt = Math.floor(clock.now() / MINUTE) * MINUTE + 60 * MINUTE;
      const sale = await createSale({ name: 'Mi 3 draw', admission: 'lottery', startsAt: new Date(startsAt).toISOString() });
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/ops/sales/${sale.id}`);
      await signInAsOps(page);
      await page.getByRole('heading', { name: 'Mi 3 draw' }).waitFor();
      const edit = page.getByTestId('edit-sale-form');
      const closes = edit.getByLabel('Lottery entries close (optional, your local time)');
      // Unset, entries close at the start, and the form shows that.
      expect(await closes.inputValue()).toBe(localInput(startsAt));
      expect(await edit.getByLabel('Waiting room opens (optional, your local time)').count()).toBe(0);

      await closes.fill(localInput(startsAt + 10 * MINUTE));
      await edit.getByRole('button', { name: 'Save changes' }).click();
      await edit.getByTestId('error-lotteryClosesAt').getByText('Lottery entries must close at or before the start.').waitFor();
      await closes.fill(localInput(startsAt - 10 * MINUTE));
      await edit.getByRole('button', { name: 'Save changes' }).click();
      const view = async () => (await suite.server.app.request('GET', `/api/admin/sales/${sale.id}`, { token: suite.server.app.opsToken() })).body;
      await eventually(async () => ((await view()).lotteryClosesAt === new Date(startsAt - 10 * MINUTE).toISOString() ? true : undefined), 15000, 'the new close');
      // The form comes back with the saved sale.
      await eventually(async () => ((await closes.inputValue()) === localInput(startsAt - 10 * MINUTE) ? true : undefined), 15000, 'the form to show the saved close');

      await edit.getByLabel('How buyers get in').selectOption('queue');
      await edit.getByLabel('Waiting room opens (optional, your local time)').fill(localInput(startsAt - 5 * MINUTE));
      await edit.getByRole('button', { name: 'Save changes' }).click();
      const saved = await eventually(async () => {
        const current = await view();
        return current.admission === 'queue' ? current : undefined;
      });
      expect(saved.queueOpensAt).toBe(new Date(startsAt - 5 * MINUTE).toISOString());
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  describe('when a sale runs', () => {
    it('draws units sold over time as a burst of purchases comes in, with the stock equation holding', async () => {
      const sale = await createSale({ name: 'Mi 3 live', stock: 60, fcodeStock: 0, reservationRequired: false, startsAt: new Date(clock.now() + 1000).toISOString() });
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/ops/sales/${sale.id}`);
      await signInAsOps(page);
      const chart = page.getByTestId('units-chart');
      await chart.waitFor();
      await eventually(async () => ((await chart.getAttribute('data-samples')) !== '0' ? true : undefined), 5000, 'a first sample');
      await eventually(async () => ((await page.getByTestId('phase').textContent()) === 'On sale now' ? true : undefined), 10000, 'the sale to start');

      const lastUnitsSold = async () => (await chart.getAttribute('data-last-units-sold')) ?? '';

      const buyBurst = (count: number) =>
        Promise.all(
          Array.from({ length: count }, () =>
            suite.server.app.request('POST', `/api/sales/${sale.id}/purchase`, { token: suite.server.app.token(uniqueId('burst-')), body: { quantity: 1 }, headers: { 'idempotency-key': uniqueId('k') } }),
          ),
        );
      const outcomes = [];
      // Three waves, each given time to show up in the one-second polling of the chart before the next: the
      // chart shows 15, 30 and 45 on its way to 60.
      for (let wave = 0; wave < 3; wave += 1) {
        outcomes.push(...(await buyBurst(15)));
        const expected = String(15 * (wave + 1));
        await eventually(async () => ((await lastUnitsSold()) === expected ? true : undefined), 10000, `the chart to reach ${expected}`);
      }
      // A last wave that sells the rest out: 15 get a unit, 5 are told SOLD_OUT.
      outcomes.push(...(await buyBurst(20)));
      await eventually(async () => ((await lastUnitsSold()) === '60' ? true : undefined), 10000, 'the chart to reach 60');

      expect(outcomes.filter((response) => response.status === 201)).toHaveLength(60);
      expect(outcomes.filter((response) => response.status === 409).map((response) => response.body.code)).toEqual(Array(5).fill('SOLD_OUT'));
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

  describe('when a link points at a sale that does not exist', () => {
    it('says so with the reason and a link back to the console', async () => {
      const { page } = await openPage(suite.browser.context, `${suite.server.baseUrl}/ops`);
      await signInAsOps(page);
      await page.goto(`${suite.server.baseUrl}/ops/sales/${newSaleId()}`);
      await page.getByRole('heading', { name: 'Sale not found' }).waitFor();
      expect(await page.getByTestId('error').textContent()).toContain('There is no such sale');
      await page.getByRole('link', { name: 'Back to the console' }).click();
      await page.waitForURL(`${suite.server.baseUrl}/ops`);
      await page.close();
    });
  });
});
