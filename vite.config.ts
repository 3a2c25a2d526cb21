/**
 * Two builds (scripts/build.mjs runs both; `npm run build`):
 *
 * - `vite build --mode elements` -> dist/elements/sidian.js: one ES module that defines the four
 *   elements and re-exports the core API (packages/elements/src/sidian.ts); beside it one entry per
 *   element (licence-viewer.js, seal-placer.js, signature-pad.js, material-uploader.js) sharing chunks
 *   with it. pdf.js is a separate
 *   chunk imported on first use, the hashing worker a separate file; pdf.js's own worker and data
 *   files are copied to dist/elements/pdfjs/ by scripts/build.mjs, where the elements look for them.
 * - `vite build --mode demo` -> dist/demo: the demo portal. It does not bundle the engine or the
 *   elements again: every import of them becomes an import of `/elements/sidian.js`, the same file a
 *   department's site loads, so the demo exercises exactly what embedders get.
 *
 * Both are served by `sidian serve` (server/src/routes/static-files.ts).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin, type UserConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));
const r = (p: string) => path.resolve(root, p);

/** Modules of ours that the bundle provides: imported from `/elements/sidian.js` at run time. */
const PROVIDED_BY_BUNDLE = new Set(
  ['packages/elements/src/sidian.ts', 'packages/elements/src/index.ts', 'packages/core/src/index.ts'].map(r),
);

export const BUNDLE_URL = '/elements/sidian.js';

function useElementsBundle(): Plugin {
  return {
    name: 'sidian-use-elements-bundle',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (source === BUNDLE_URL) return { id: BUNDLE_URL, external: 'absolute' };
      if (!importer || !source.startsWith('.')) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      if (resolved && PROVIDED_BY_BUNDLE.has(resolved.id.split('?')[0]!))
        return { id: BUNDLE_URL, external: 'absolute' };
      return null;
    },
  };
}

function elementsConfig(): UserConfig {
  return {
    publicDir: false,
    // URLs of the worker and chunks relative to the module (import.meta.url), wherever it is served
    base: './',
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: {
      outDir: r('dist/elements'),
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: true,
      minify: 'esbuild',
      assetsDir: '',
      reportCompressedSize: false,
      lib: {
        // sidian.js (everything) and one entry per element: a page that uses one element loads only
        // that element's code and the chunks it shares with the others (the same modules, so a page
        // may load both sidian.js and an element's file without defining anything twice)
        entry: {
          sidian: r('packages/elements/src/sidian.ts'),
          'seal-placer': r('packages/elements/src/seal-placer/define.ts'),
          'signature-pad': r('packages/elements/src/signature-pad/define.ts'),
          'licence-viewer': r('packages/elements/src/licence-viewer/define.ts'),
          'material-uploader': r('packages/elements/src/material-uploader/define.ts'),
        },
        formats: ['es'],
        fileName: (_format, name) => `${name}.js`,
      },
      rollupOptions: {
        output: {
          // flat names: /elements/<file> (pdf.js becomes pdf-<hash>.js, loaded on first use)
          chunkFileNames: '[name]-[hash].js',
          assetFileNames: '[name]-[hash][extname]',
        },
      },
    },
    worker: {
      format: 'es',
      rollupOptions: { output: { entryFileNames: '[name]-[hash].js' } },
    },
  };
}

function demoConfig(): UserConfig {
  return {
    root: r('demo'),
    base: '/',
    publicDir: r('demo/public'),
    plugins: [useElementsBundle()],
    build: {
      outDir: r('dist/demo'),
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: true,
      reportCompressedSize: false,
      // no inline module-preload polyfill script (the demo runs under `script-src 'self'`)
      modulePreload: { polyfill: false },
      rollupOptions: { input: { index: r('demo/index.html') } },
    },
  };
}

export default defineConfig(({ mode }) => (mode === 'elements' ? elementsConfig() : demoConfig()));
