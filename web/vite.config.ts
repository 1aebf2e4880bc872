import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const webRoot = fileURLToPath(new URL('.', import.meta.url));

/**
 * `dist/web` is shared with the compiled Nest module that serves it (`nest build` writes
 * `dist/web/*.js` there first), so the folder is not emptied; only the previous build's hashed assets go.
 */
function removePreviousAssets(): Plugin {
  let outDir = '';
  return {
    name: 'sellout-remove-previous-assets',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    buildStart() {
      rmSync(join(outDir, 'assets'), { recursive: true, force: true });
    },
  };
}

export default defineConfig({
  root: webRoot,
  base: '/',
  publicDir: false,
  plugins: [removePreviousAssets()],
  resolve: { alias: { '@sellout/contract': join(webRoot, '..', 'src', 'contract', 'index.ts') } },
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: join(webRoot, '..', 'dist', 'web'),
    emptyOutDir: false,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: true,
    // Module preloading is native in every browser that runs the storefront's ES2022.
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: { storefront: join(webRoot, 'index.html'), ops: join(webRoot, 'ops.html') },
      output: {
        // One chunk for what both pages share, named for what it is.
        manualChunks: (id) => (id.includes('/node_modules/preact/') || id.includes('/web/src/shared/') || id.includes('/src/contract/') ? 'shared' : undefined),
      },
    },
  },
  // `npx vite --config web/vite.config.ts` serves the sources with live reload against a running service.
  server: {
    proxy: { '/api': 'http://127.0.0.1:3000', '/health': 'http://127.0.0.1:3000' },
  },
});
