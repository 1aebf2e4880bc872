import { Inject, Injectable } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

export type WebPage = 'storefront' | 'ops';

const PAGE_FILES: Record<WebPage, string> = { storefront: 'index.html', ops: 'ops.html' };

/** Built asset names as Vite writes them (`index-B3x_9a.js`): no slashes, so no way out of the folder. */
export const ASSET_NAME = /^[\w-][\w.-]{0,199}$/;

/**
 * Where `vite build` put the storefront and the ops console. The compiled server runs from `dist/`, next
 * to the assets (`dist/web`); under ts-node or jest the sources run from `src/web`, so the repository's
 * `dist/web` is tried as well.
 */
export function locateBuiltAssets(): string | undefined {
  const candidates = [__dirname, resolve(__dirname, '..', '..', 'dist', 'web')];
  return candidates.find((directory) => existsSync(join(directory, PAGE_FILES.storefront)));
}

/**
 * Serves the two single-page apps. Each page is read once and given the server's settings through
 * `<meta>` tags (no inline script, so a strict Content-Security-Policy holds). When the assets were never
 * built, a built-in page says how to build them rather than failing.
 */
@Injectable()
export class WebAssetsService {
  private directory: string | undefined;
  private readonly pages = new Map<WebPage, string>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.directory = locateBuiltAssets();
  }

  /** Serves another build (the browser tests build the current sources into a folder of their own). */
  useDirectory(directory: string | undefined): void {
    this.directory = directory;
    this.pages.clear();
  }

  get assetsDirectory(): string | undefined {
    return this.directory === undefined ? undefined : join(this.directory, 'assets');
  }

  /** The page's HTML, or undefined when the assets are not built. */
  page(page: WebPage): string | undefined {
    const cached = this.pages.get(page);
    if (cached !== undefined) return cached;
    if (this.directory === undefined) return undefined;
    const file = join(this.directory, PAGE_FILES[page]);
    if (!existsSync(file)) return undefined;
    const html = readFileSync(file, 'utf8').replace(
      /<meta name="sellout-dev-tokens" content="[^"]*"/,
      `<meta name="sellout-dev-tokens" content="${this.config.authDevTokens ? 'true' : 'false'}"`,
    );
    this.pages.set(page, html);
    return html;
  }

  hasAsset(name: string): boolean {
    const assets = this.assetsDirectory;
    return assets !== undefined && ASSET_NAME.test(name) && existsSync(join(assets, name));
  }
}

export function notBuiltPage(page: WebPage): string {
  const title = page === 'ops' ? 'The ops console is not built' : 'The storefront is not built';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sellout</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a;">
<h1>${title}</h1>
<p>The API is running (see <a href="/docs">/docs</a>), but the browser assets have not been built yet.</p>
<p>Build them with <code>npm run build:web</code> (or <code>npm run build</code> for the whole service), then reload this page.</p>
</body>
</html>
`;
}
