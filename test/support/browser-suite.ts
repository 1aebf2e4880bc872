import type { Page } from 'playwright-core';
import { BrowserSession, launchBrowser, RunningClock, startWebServer, WebTestServer } from './browser';
import { uniqueId } from './test-app';

const MINUTE = 60_000;

export interface BrowserSuite {
  readonly browser: BrowserSession;
  readonly server: WebTestServer;
}

/**
 * One browser and one web server for the surrounding `describe`, on `clock`: started before its tests
 * (Chromium first: without it the suite fails fast with the install hint) and closed after them.
 */
export function browserSuite(clock: RunningClock): BrowserSuite {
  const suite = {} as { browser: BrowserSession; server: WebTestServer };
  beforeAll(async () => {
    suite.browser = await launchBrowser();
    suite.server = await startWebServer({ clock });
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.server?.close();
  });
  return suite;
}

/** Signs the page in as `userId` through the dev sign-in form, whose text box `label` names. */
export async function signIn(page: Page, userId: string, label = 'Sign in as'): Promise<void> {
  await page.getByRole('textbox', { name: label }).fill(userId);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByTestId('signed-in').getByText(userId).waitFor();
}

/** Signs the page in as the dev ops user `ops-anna`. */
export function signInAsOps(page: Page): Promise<void> {
  return signIn(page, 'ops-anna', 'Sign in as ops');
}

/** Creates a sale through the admin API, by default starting ten minutes from `clock`'s now. */
export async function createSaleAsOps(suite: BrowserSuite, clock: RunningClock, overrides: Record<string, unknown>): Promise<any> {
  const response = await suite.server.app.request('POST', '/api/admin/sales', {
    token: suite.server.app.opsToken(),
    body: { sku: uniqueId('sku-'), name: 'Mi 3', priceCents: 199900, stock: 10, startsAt: new Date(clock.now() + 10 * MINUTE).toISOString(), ...overrides },
  });
  expect(response.status).toBe(201);
  return response.body;
}

/** `GET /api/admin/sales/:saleId/stats` as ops. */
export async function statsAsOps(suite: BrowserSuite, saleId: string): Promise<any> {
  const response = await suite.server.app.request('GET', `/api/admin/sales/${saleId}/stats`, { token: suite.server.app.opsToken() });
  expect(response.status).toBe(200);
  return response.body;
}
