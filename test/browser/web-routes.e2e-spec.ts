import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebAssetsService } from '../../src/web/web-assets.service';
import { createTestApp, TestApp } from '../support/test-app';

/** A stand-in for a Vite build: two pages and one asset, enough to check what is served from where. */
function fakeBuild(): string {
  const directory = mkdtempSync(join(tmpdir(), 'sellout-web-routes-'));
  mkdirSync(join(directory, 'assets'));
  writeFileSync(join(directory, 'index.html'), '<!doctype html><meta name="sellout-dev-tokens" content="auto"><title>storefront page</title>');
  writeFileSync(join(directory, 'ops.html'), '<!doctype html><meta name="sellout-dev-tokens" content="auto"><title>ops page</title>');
  writeFileSync(join(directory, 'assets', 'main-abc123.js'), 'console.log("storefront");');
  return directory;
}

describe('Web pages', () => {
  let app: TestApp;
  let build: string;

  beforeAll(async () => {
    app = await createTestApp();
    build = fakeBuild();
  });
  afterAll(async () => {
    await app.close();
    rmSync(build, { recursive: true, force: true });
  });

  describe('when the assets are built', () => {
    beforeAll(() => app.app.get(WebAssetsService).useDirectory(build));

    it.each(['/', '/sales/s_01example', '/orders/o_01example.s_01example'])('serves the storefront at %s', async (url) => {
      const response = await app.request('GET', url);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.text).toContain('<title>storefront page</title>');
      expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    });

    it.each(['/ops', '/ops/', '/ops/sales/s_01example'])('serves the ops console at %s', async (url) => {
      const response = await app.request('GET', url);
      expect(response.status).toBe(200);
      expect(response.text).toContain('<title>ops page</title>');
    });

    it('tells the page whether development sign-in is available', async () => {
      const response = await app.request('GET', '/');
      expect(response.text).toContain('<meta name="sellout-dev-tokens" content="true"');
    });

    it('serves built assets with a long cache lifetime', async () => {
      const response = await app.request('GET', '/assets/main-abc123.js');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/javascript/);
      expect(response.headers['cache-control']).toContain('immutable');
      expect(response.text).toContain('storefront');
    });

    it.each(['/assets/missing-000.js', '/assets/..%2Fops.html', '/assets/.hidden'])('answers %s with the contract 404 body', async (url) => {
      const response = await app.request('GET', url);
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    });

    it('leaves /health, /docs-json and /api to their own routes', async () => {
      expect((await app.request('GET', '/health')).body).toMatchObject({ status: 'ok' });
      expect((await app.request('GET', '/docs-json')).body.openapi).toMatch(/^3\./);
      const api = await app.request('GET', '/api/no-such-route');
      expect(api.status).toBe(404);
      expect(api.text).not.toContain('storefront page');
    });
  });

  describe('when the assets are not built', () => {
    beforeAll(() => app.app.get(WebAssetsService).useDirectory(undefined));

    it.each([
      ['/', 'The storefront is not built'],
      ['/ops', 'The ops console is not built'],
    ])('serves a page at %s that says how to build them', async (url, title) => {
      const response = await app.request('GET', url);
      expect(response.status).toBe(200);
      expect(response.text).toContain(title);
      expect(response.text).toContain('npm run build:web');
    });

    it('answers asset requests with 404, not 500', async () => {
      const response = await app.request('GET', '/assets/main-abc123.js');
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('NOT_FOUND');
    });
  });
});
