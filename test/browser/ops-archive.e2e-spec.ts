import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { OrderEntity } from '../../src/orders/order.entity';
import { waitForOrderWriter } from '../support/invariants';
import { uniqueId } from '../support/test-app';
import { describeInBrowser, eventually, layoutReport, openPage, RunningClock, screenshot } from '../support/browser';
import { browserSuite, createSaleAsOps, signInAsOps } from '../support/browser-suite';

const MINUTE = 60_000;

describeInBrowser('Ops console: the sales archive, F-code batches, the end-of-sale report, the details form and big imports', () => {
  const clock = new RunningClock();
  const suite = browserSuite(clock);

  const createSale = (overrides: Record<string, unknown>) => createSaleAsOps(suite, clock, overrides);

  const rowNames = (page: Page) => page.getByTestId('sale-archive').locator('tbody tr td:first-child').allTextContents();

  describe('when ops look for a sale on the home page', () => {
    it('lists every sale, ended ones too, with a filter and a search that survive a reload, pages, and opens any of them', async () => {
      const tag = uniqueId('arc');
      const ended = await createSale({ name: `Ended ${tag}`, sku: `${tag}-ended`, startsAt: new Date(clock.now() + MINUTE).toISOString(), endsAt: new Date(clock.now() + 2 * MINUTE).toISOString() });
      for (let index = 0; index < 21; index += 1) {
        await createSale({ name: `Batch ${tag} ${String(index).padStart(2, '0')}`, startsAt: new Date(clock.now() + (30 + index) * MINUTE).toISOString() });
      }
      clock.advance(3 * MINUTE);

      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/ops`);
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

  describe('when ops work with F-codes of a sale', () => {
    it('lists the batches after a reload with redeemed, void and expired counts, downloads one batch or every code, and voids a code', async () => {
      const sale = await createSale({ name: `Codes ${uniqueId('fc')}`, fcodeStock: 5 });
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/ops/sales/${sale.id}`);
      await signInAsOps(page);
      await page.getByRole('heading', { name: sale.name }).waitFor();
      await page.getByText('No F-codes issued for this sale yet.').waitFor();

      await page.getByLabel('How many codes').fill('3');
      await page.getByRole('button', { name: 'Issue codes' }).click();
      await page.getByTestId('fcode-batch').getByText('Issued 3 codes').waitFor();
      await page.getByTestId('fcode-batches').locator('tbody tr').first().waitFor();
      const issued = await suite.server.app.request('POST', `/api/admin/sales/${sale.id}/fcodes`, { token: suite.server.app.opsToken(), body: { userIds: ['fc-anna', 'fc-ben'] } });
      expect(issued.status).toBe(201);

      await page.reload();
      const rows = page.getByTestId('fcode-batches').locator('tbody tr');
      await eventually(async () => ((await rows.count()) === 2 ? true : undefined), 10000, 'both batches');
      expect(await rows.first().getAttribute('data-batch-id')).toBe(issued.body.batchId);
      expect(await rows.first().textContent()).toContain('2 bound');

      // One code redeemed, one voided from the console.
      clock.advance(10 * MINUTE);
      const bought = await suite.server.app.request('POST', `/api/sales/${sale.id}/purchase`, { token: suite.server.app.token('fc-anna'), body: { fcode: issued.body.codes[0] } });
      expect(bought.status).toBe(201);
      await page.getByLabel('F-code', { exact: true }).fill(issued.body.codes[1].toLowerCase());
      await page.getByRole('button', { name: 'Void code' }).click();
      await page.getByRole('button', { name: 'Yes, void it for good' }).click();
      await page.getByTestId('void-result').getByText(issued.body.codes[1]).waitFor();
      await eventually(async () => ((await rows.first().getByTestId('batch-void').textContent()) === '1' ? true : undefined), 10000, 'the void count');
      expect(await rows.first().getByTestId('batch-redeemed').textContent()).toBe('1');
      const voided = await suite.server.app.request('POST', `/api/sales/${sale.id}/purchase`, { token: suite.server.app.token('fc-ben'), body: { fcode: issued.body.codes[1] } });
      expect(voided.body.code).toBe('FCODE_INVALID');

      // A typo is told apart from an unknown code.
      await page.getByLabel('F-code', { exact: true }).fill('AAAA-AAAA-AAAA-A');
      await page.getByRole('button', { name: 'Void code' }).click();
      await page.getByRole('button', { name: 'Yes, void it for good' }).click();
      await page.locator('.void-form .field-error').waitFor();
      await screenshot(page, 'ops-fcode-batches');

      const [one] = await Promise.all([page.waitForEvent('download'), rows.first().getByRole('button', { name: /Download the CSV of batch/ }).click()]);
      expect(one.suggestedFilename()).toBe(`fcodes-${sale.id}-${issued.body.batchId}.csv`);
      const oneCsv = readFileSync(await one.path(), 'utf8').trim().split(/\r?\n/);
      expect(oneCsv.slice(1).map((line) => line.split(',').slice(1, 3).join(',')).sort()).toEqual(['fc-anna,redeemed', 'fc-ben,void']);
      const [all] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-all-fcodes').click()]);
      expect(all.suggestedFilename()).toBe(`fcodes-${sale.id}.csv`);
      expect(readFileSync(await all.path(), 'utf8').trim().split(/\r?\n/)).toHaveLength(6);

      await page.setViewportSize({ width: 375, height: 812 });
      const layout = await layoutReport(page);
      await screenshot(page, 'ops-fcode-batches-phone');
      expect(layout.unlabelled).toEqual([]);
      expect(layout.scrollWidth).toBeLessThanOrEqual(375);
      await page.setViewportSize({ width: 1280, height: 900 });
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  describe('when ops open the end-of-sale report', () => {
    it('shows the reconciliation of any sale, printable, and names a difference after an order row goes missing', async () => {
      const sale = await createSale({ name: `Report ${uniqueId('rp')}`, stock: 3, reservationRequired: false, startsAt: new Date(clock.now() + 1000).toISOString() });
      clock.advance(2000);
      const orderIds: string[] = [];
      for (const buyer of ['rp-anna', 'rp-ben', 'rp-cleo']) {
        const bought = await suite.server.app.request('POST', `/api/sales/${sale.id}/purchase`, { token: suite.server.app.token(buyer), body: {} });
        expect(bought.status).toBe(201);
        orderIds.push(bought.body.id);
      }
      await waitForOrderWriter(suite.server.app, sale.id);
      expect((await suite.server.app.request('POST', `/api/orders/${orderIds[0]}/pay`, { token: suite.server.app.token('rp-anna'), body: { method: 'test-card' } })).status).toBe(200);
      expect((await suite.server.app.request('POST', `/api/orders/${orderIds[1]}/cancel`, { token: suite.server.app.token('rp-ben') })).status).toBe(200);
      await waitForOrderWriter(suite.server.app, sale.id);

      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/ops/sales/${sale.id}`);
      await signInAsOps(page);
      await page.getByRole('link', { name: 'End-of-sale report' }).click();
      await page.getByRole('heading', { name: `End-of-sale report: ${sale.name}` }).waitFor();
      await page.getByTestId('report-verdict').getByText('Consistent').waitFor();
      expect(await page.getByTestId('report-loaded').textContent()).toBe('3 (3 + 0)');
      expect(await page.getByTestId('report-sold').textContent()).toBe('2');
      expect(await page.getByTestId('report-charges').textContent()).toContain('1 ·');
      expect(await page.getByTestId('report-buyers').textContent()).toBe('3');
      await screenshot(page, 'ops-report');
      await page.emulateMedia({ media: 'print' });
      await screenshot(page, 'ops-report-print');
      expect(await page.getByRole('button', { name: 'Print' }).isVisible()).toBe(false);
      await page.emulateMedia({ media: 'screen' });

      await suite.server.app.database.manager.delete(OrderEntity, { id: orderIds[2] });
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.getByTestId('report-verdict').getByText(/differences? found/).waitFor();
      const differences = await page.getByTestId('report-differences').textContent();
      expect(differences).toContain('orders.pending_payment');
      expect(differences).toContain('Redis counts 1 order(s) pending_payment, the database 0');
      expect(await page.getByTestId('report-orders').locator('tr.mismatch').count()).toBeGreaterThanOrEqual(2);
      await screenshot(page, 'ops-report-differences');

      await page.setViewportSize({ width: 375, height: 812 });
      const layout = await layoutReport(page);
      expect(layout.unlabelled).toEqual([]);
      expect(layout.scrollWidth).toBeLessThanOrEqual(375);
      await screenshot(page, 'ops-report-phone');
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  describe('when ops change the stock of a sale', () => {
    it('shows the new totals in the details form at once, without a reload', async () => {
      const sale = await createSale({ name: `Stock ${uniqueId('st')}`, stock: 10 });
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/ops/sales/${sale.id}`);
      await signInAsOps(page);
      const details = page.getByTestId('edit-sale-form');
      await details.getByLabel('Name').fill('Edited but not saved');
      expect(await details.getByLabel('Stock (general pool)').inputValue()).toBe('10');

      await page.getByLabel('Units to add or remove').fill('5');
      await page.getByRole('button', { name: 'Change stock' }).click();
      await page.getByText('Added 5 units to the general pool.').waitFor();
      expect(await details.getByLabel('Stock (general pool)').inputValue()).toBe('15');
      await page.getByLabel('Units to add or remove').fill('3');
      await page.getByLabel('Pool', { exact: true }).selectOption('fcode');
      await page.getByRole('button', { name: 'Change stock' }).click();
      await page.getByText('Added 3 units to the F-code pool.').waitFor();
      expect(await details.getByLabel('F-code stock').inputValue()).toBe('3');
      // What ops were typing stays.
      expect(await details.getByLabel('Name').inputValue()).toBe('Edited but not saved');
      await screenshot(page, 'ops-details-after-stock');
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  describe('when ops import a big CSV of reservations', () => {
    const IDS = 250_001;

    it('sends it in parts with a progress bar, retries a failed part and carries on, and counts duplicates', async () => {
      const sale = await createSale({ name: `Import ${uniqueId('im')}` });
      const prefix = uniqueId('imp');
      // One id of the last part is already reserved: it must come back as a duplicate.
      expect((await suite.server.app.request('POST', `/api/admin/sales/${sale.id}/reservations/import`, { token: suite.server.app.opsToken(), body: { userIds: [`${prefix}-${IDS - 1}`] } })).status).toBe(200);
      const csv = ['userId', ...Array.from({ length: IDS }, (_, index) => `${prefix}-${index}`)].join('\n');
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/ops/sales/${sale.id}`);
      await signInAsOps(page);

      // The second part fails once, as a dropped connection would.
      let calls = 0;
      await page.route('**/reservations/import', async (route) => {
        calls += 1;
        if (calls === 2) await route.abort('connectionreset');
        else await route.continue();
      });
      await page.getByLabel('CSV file (one user id per line)').setInputFiles({ name: 'big.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await page.getByRole('button', { name: 'Import' }).click();
      await page.getByRole('button', { name: 'Retry from part 2 of 3' }).waitFor();
      expect(await page.getByTestId('import-progress').textContent()).toContain('100,000 of 250,001 ids sent');
      expect((await suite.server.app.request('GET', `/api/sales/${sale.id}`)).body.reservations).toBe(100_001);
      await screenshot(page, 'ops-import-failed-part');

      await page.getByRole('button', { name: 'Retry from part 2 of 3' }).click();
      const result = page.getByTestId('import-result');
      await result.waitFor({ timeout: 60000 });
      expect(await result.textContent()).toContain('Imported 250,000 reservations; 1 already existed.');
      expect(calls).toBe(4);
      expect(await page.getByTestId('import-progress').locator('progress').getAttribute('value')).toBe(String(IDS));
      expect((await suite.server.app.request('GET', `/api/sales/${sale.id}`)).body.reservations).toBe(IDS);
      await screenshot(page, 'ops-import-done');
      expect(errors).toEqual([]);
      await page.close();
    });

    it('cancels after the part in flight and resumes where it stopped', async () => {
      const sale = await createSale({ name: `Import ${uniqueId('im')}` });
      const prefix = uniqueId('imc');
      const csv = Array.from({ length: IDS }, (_, index) => `${prefix}-${index}`).join('\n');
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/ops/sales/${sale.id}`);
      await signInAsOps(page);
      let releaseFirst: () => void = () => undefined;
      const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
      let calls = 0;
      await page.route('**/reservations/import', async (route) => {
        calls += 1;
        if (calls === 1) await firstHeld;
        await route.continue();
      });
      await page.getByLabel('CSV file (one user id per line)').setInputFiles({ name: 'big.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await page.getByRole('button', { name: 'Import' }).click();
      await page.getByRole('button', { name: 'Cancel' }).click();
      releaseFirst();
      await page.getByTestId('import-stopped').getByText('Cancelled before part 2 of 3').waitFor();
      expect(calls).toBe(1);
      expect((await suite.server.app.request('GET', `/api/sales/${sale.id}`)).body.reservations).toBe(100_000);
      await screenshot(page, 'ops-import-cancelled');

      await page.getByRole('button', { name: 'Resume' }).click();
      await page.getByTestId('import-result').getByText('Imported 250,001 reservations; 0 already existed.').waitFor({ timeout: 60000 });
      expect(calls).toBe(3);
      expect(errors).toEqual([]);
      await page.close();
    });

    it('names bad lines by their line number and sends nothing', async () => {
      const sale = await createSale({ name: `Import ${uniqueId('im')}` });
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/ops/sales/${sale.id}`);
      await signInAsOps(page);
      let calls = 0;
      await page.route('**/reservations/import', async (route) => {
        calls += 1;
        await route.continue();
      });
      await page.getByLabel('CSV file (one user id per line)').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('ana\nbo bo\ncy\n') });
      await page.getByRole('button', { name: 'Import' }).click();
      await page.getByTestId('import-problems').getByText('Line 2: "bo bo" is not a user id').waitFor();
      expect(calls).toBe(0);
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  describe('when ops issue more F-codes than one call may', () => {
    it('issues them as several batches with a progress bar, and a failed batch can be retried', async () => {
      const sale = await createSale({ name: `Many codes ${uniqueId('mc')}`, fcodeStock: 5 });
      const { page, errors } = await openPage(suite.browser.context, `${suite.server.baseUrl}/ops/sales/${sale.id}`);
      await signInAsOps(page);
      let calls = 0;
      await page.route('**/fcodes', async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        calls += 1;
        // The second batch is refused once, as a busy server would (nothing was issued).
        if (calls === 2) {
          return route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ statusCode: 503, code: 'UNAVAILABLE', message: 'busy', details: [] }) });
        }
        return route.continue();
      });
      await page.getByLabel('How many codes').fill('100002');
      await page.getByRole('button', { name: 'Issue codes' }).click();
      await page.getByRole('button', { name: 'Retry from batch 2 of 2' }).waitFor({ timeout: 60000 });
      expect(await page.getByTestId('issue-progress').textContent()).toContain('100,000 of 100,002 codes sent');
      await screenshot(page, 'ops-issue-failed-batch');
      await page.getByRole('button', { name: 'Retry from batch 2 of 2' }).click();
      await page.getByTestId('issue-result').getByText('Issued 100,002 codes in 2 batches.').waitFor({ timeout: 60000 });
      const rows = page.getByTestId('fcode-batches').locator('tbody tr');
      await eventually(async () => ((await rows.count()) === 2 ? true : undefined), 15000, 'both batches listed');
      const summary = await suite.server.app.request('GET', `/api/admin/sales/${sale.id}/fcodes/summary`, { token: suite.server.app.opsToken() });
      expect(summary.body.issued).toBe(100_002);
      expect(calls).toBe(3);
      await screenshot(page, 'ops-issue-many');
      expect(errors).toEqual([]);
      await page.close();
    });
  });
});
