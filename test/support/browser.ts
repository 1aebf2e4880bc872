import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { ManualClock } from '../../src/common/clock';
import { WebAssetsService } from '../../src/web/web-assets.service';
import { createTestApp, TestApp, TestAppOptions } from './test-app';

/** Debian's chromium (CI installs it: .ci/run); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const ROOT = join(__dirname, '..', '..');
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'browser');

export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/**
 * `describe` for tests that need Chromium. Without it they are skipped with a warning on a developer's
 * machine (so `npm test` passes with only Node and redis-server) but fail in CI, where a skipped browser
 * test would hide a broken storefront.
 */
export function describeInBrowser(name: string, body: () => void): void {
  if (chromiumInstalled() || process.env.CI) {
    describe(name, body);
    return;
  }
  console.warn(
    `Skipping the browser tests "${name}": Chromium was not found at ${CHROMIUM_PATH}. ` +
      'Install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH; in CI (CI=true) these tests fail instead.',
  );
  describe.skip(name, body);
}

/** A clock that runs in real time (the browser's countdowns need one) but can be moved by the test. */
export class RunningClock extends ManualClock {
  private shiftMs: number;

  constructor(startAt: number = Date.now()) {
    super(startAt);
    this.shiftMs = startAt - Date.now();
  }

  override now(): number {
    return Date.now() + this.shiftMs;
  }

  override set(epochMs: number): void {
    this.shiftMs = epochMs - Date.now();
  }

  override advance(milliseconds: number): void {
    this.shiftMs += milliseconds;
  }
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory)
    .filter((name) => name !== 'node_modules' && !name.startsWith('.'))
    .flatMap((name) => {
      const path = join(directory, name);
      return statSync(path).isDirectory() ? sourceFiles(path) : [path];
    })
    .sort();
}

/**
 * Builds the current web sources once per change: the build lands in a folder named after a hash of
 * `web/`, so every test file of a run (and later runs with unchanged sources) reuses it, and the tests
 * never serve a stale `dist/web`.
 */
export function buildWebAssets(): string {
  const web = join(ROOT, 'web');
  const hash = createHash('sha256');
  for (const file of sourceFiles(web)) hash.update(relative(web, file)).update('\0').update(readFileSync(file)).update('\0');
  const target = join(tmpdir(), `sellout-web-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(join(target, 'index.html')) && existsSync(join(target, 'ops.html'))) return target;
  const staging = `${target}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(web, 'vite.config.ts'), '--outDir', staging, '--logLevel', 'warn'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180000,
  });
  if (result.status !== 0) throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`);
  try {
    renameSync(staging, target);
  } catch (error) {
    // Another process finished the same build first; theirs is as good as ours.
    if (!existsSync(join(target, 'index.html'))) throw error;
    rmSync(staging, { recursive: true, force: true });
  }
  return target;
}

export interface WebTestServer {
  app: TestApp;
  baseUrl: string;
  close(): Promise<void>;
}

/** The whole service on a free port, serving a fresh build of the storefront and the ops console. */
export async function startWebServer(options: TestAppOptions = {}): Promise<WebTestServer> {
  const assets = buildWebAssets();
  const app = await createTestApp(options);
  app.app.get(WebAssetsService).useDirectory(assets);
  await app.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.app.getHttpServer().address() as AddressInfo;
  return { app, baseUrl: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/**
 * A browser and the web server for the tests of a describe block: started before them, closed after.
 * Read `server` and `browser` inside the tests (they exist once `beforeAll` ran).
 */
export function useBrowserAndServer(options: TestAppOptions = {}): { server: WebTestServer; browser: BrowserSession } {
  const handles = {} as { server: WebTestServer; browser: BrowserSession };
  beforeAll(async () => {
    handles.browser = await launchBrowser();
    handles.server = await startWebServer(options);
  });
  afterAll(async () => {
    await handles.browser?.close();
    await handles.server?.close();
  });
  return handles;
}

export interface BrowserSession {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile; fails with an install hint when Chromium is missing. */
export async function launchBrowser(): Promise<BrowserSession> {
  if (!chromiumInstalled()) {
    throw new Error(`The browser tests need Chromium at ${CHROMIUM_PATH}. Install it (Debian/Ubuntu: apt-get install chromium; .ci/run does this in CI) or set CHROMIUM_PATH.`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'sellout-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    timezoneId: 'UTC',
    locale: 'en-GB',
  });
  context.setDefaultTimeout(20000);
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface WatchedPage {
  page: Page;
  /** Uncaught exceptions and console errors of the page: a passing flow should leave none. */
  errors: string[];
}

/** A new tab (its own sessionStorage, so its own signed-in user) that records the page's errors. */
export async function openPage(context: BrowserContext, url: string, viewport?: { width: number; height: number }): Promise<WatchedPage> {
  const page = await context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // The API's 4xx answers are expected in several flows; Chromium logs each failed fetch as an error.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  await page.goto(url);
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Polls `check` until it returns a value other than undefined (or throws after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/*
 * Helpers that run inside the page. The test program is compiled without DOM types (it is Node code), so
 * the page-side functions reach the DOM through an untyped `globalThis`.
 */
type PageGlobal = any;

export async function waitUntilEnabled(page: Page, testId: string, timeoutMs = 15000): Promise<void> {
  await page.waitForFunction((id) => {
    const element = (globalThis as PageGlobal).document.querySelector(`[data-testid="${id}"]`);
    return element !== null && !element.disabled;
  }, testId, { timeout: timeoutMs });
}

export async function focusedElementText(page: Page): Promise<string> {
  return page.evaluate(() => ((globalThis as PageGlobal).document.activeElement?.textContent ?? '') as string);
}

export async function focusedOutlineStyle(page: Page): Promise<string> {
  return page.evaluate(() => {
    const page = globalThis as PageGlobal;
    return page.getComputedStyle(page.document.activeElement).outlineStyle as string;
  });
}

/** Set before something that must happen without a reload; still there afterwards if none happened. */
export async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => {
    (globalThis as PageGlobal).selloutTestMarker = true;
  });
}

export async function pageStillMarked(page: Page): Promise<boolean> {
  return page.evaluate(() => (globalThis as PageGlobal).selloutTestMarker === true);
}

export interface LayoutReport {
  viewportWidth: number;
  scrollWidth: number;
  /** Form controls and buttons without an accessible name (label, aria-label(ledby), or button text). */
  unlabelled: string[];
}

export async function layoutReport(page: Page): Promise<LayoutReport> {
  return page.evaluate(() => {
    const document = (globalThis as PageGlobal).document;
    const controls: PageGlobal[] = Array.from(document.querySelectorAll('input, select, textarea, button'));
    return {
      viewportWidth: (globalThis as PageGlobal).innerWidth as number,
      scrollWidth: document.documentElement.scrollWidth as number,
      unlabelled: controls
        .filter((control) => {
          const named =
            (control.labels?.length ?? 0) > 0 ||
            control.getAttribute('aria-label') ||
            control.getAttribute('aria-labelledby') ||
            (control.tagName === 'BUTTON' && control.textContent.trim() !== '');
          return !named;
        })
        .map((control) => String(control.outerHTML).slice(0, 100)),
    };
  });
}
