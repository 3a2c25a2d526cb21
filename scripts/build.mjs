#!/usr/bin/env node
// `npm run build`: the `sidian` command (server/dist/cli), the publishable packages (packages/*/dist), the elements bundle (dist/elements: sidian.js, one file per element, their shared and lazy chunks, .br/.gz copies, pdf.js's worker
// and data files under pdfjs/), the demo portal (dist/demo), the Custom Elements Manifest and the
// editor data and framework typings made from it (packages/elements/). `--if-stale` (used by
// `npm start`) skips the work when nothing it reads changed since the last build.
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist', '.build-stamp');
const INPUTS = [
  'packages/core/src',
  'packages/elements/src',
  'demo',
  'vite.config.ts',
  'package-lock.json',
  'scripts/build.mjs',
  'scripts/build-packages.mjs',
  'scripts/editor-data.mjs',
  'scripts/glyph-outlines.mjs',
];

function newestMtime(p) {
  const full = path.join(root, p);
  if (!existsSync(full)) return 0;
  const st = statSync(full);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(full)) newest = Math.max(newest, newestMtime(path.join(p, name)));
  return newest;
}

// the `sidian` command (server/dist/cli): cheap, so always
const { buildCli } = await import('./build-cli.mjs');
await buildCli();

if (process.argv.includes('--if-stale') && existsSync(stamp)) {
  const built = statSync(stamp).mtimeMs;
  if (INPUTS.every((p) => newestMtime(p) < built)) {
    console.log('build: dist/ is up to date');
    process.exit(0);
  }
}

const t0 = Date.now();
const { build } = await import('vite');
const configFile = path.join(root, 'vite.config.ts');
rmSync(stamp, { force: true });

await build({ configFile, mode: 'elements', logLevel: 'warn' });
// Library mode keeps whitespace and comments in ES output (for bundlers downstream); the files served
// at /elements/ go to browsers as they are, so they are minified fully, source maps chained.
const { build: esbuild } = await import('esbuild');
const elementsOut = path.join(root, 'dist/elements');
for (const f of readdirSync(elementsOut).filter((n) => n.endsWith('.js'))) {
  const file = path.join(elementsOut, f);
  await esbuild({
    entryPoints: [file],
    outfile: file,
    allowOverwrite: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    target: 'es2022',
    legalComments: 'eof',
    logLevel: 'warning',
  });
}
// pdf.js's worker, CMaps, standard fonts, wasm decoders and ICC profiles, where the elements look
// for them by default (./pdfjs/ next to sidian.js)
const pdfjs = path.join(root, 'node_modules/pdfjs-dist');
const pdfjsOut = path.join(root, 'dist/elements/pdfjs');
mkdirSync(path.join(pdfjsOut, 'build'), { recursive: true });
cpSync(path.join(pdfjs, 'build/pdf.worker.min.mjs'), path.join(pdfjsOut, 'build/pdf.worker.min.mjs'));
for (const dir of ['cmaps', 'standard_fonts', 'wasm', 'iccs'])
  cpSync(path.join(pdfjs, dir), path.join(pdfjsOut, dir), { recursive: true });
cpSync(path.join(pdfjs, 'LICENSE'), path.join(pdfjsOut, 'LICENSE'));
// outlines of the bundled font (Noto Serif SC Bold, OFL) for the text the elements draw: the seal's
// characters and the typed name (packages/elements/src/shared/glyphs.ts fetches ./glyphs/<block>.json)
const { cachedGlyphBlocks, glyphLicence } = await import('./glyph-outlines.mjs');
const glyphsOut = path.join(elementsOut, 'glyphs');
mkdirSync(glyphsOut, { recursive: true });
for (const [block, json] of cachedGlyphBlocks()) writeFileSync(path.join(glyphsOut, `${block}.json`), json);
writeFileSync(path.join(glyphsOut, 'OFL.txt'), glyphLicence());
// precompressed copies (file.br, file.gz) that the server sends by Accept-Encoding
// (server/src/routes/static-files.ts); source maps are compressed there on demand
const { brotliCompressSync, gzipSync, constants: z } = await import('node:zlib');
// (the glyph outlines, ~20 MB of JSON, at brotli 4: nearly as small (gzip -9 size), and minutes faster to build)
const precompress = (dir, quality = 11) => {
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) precompress(file, file === glyphsOut ? 4 : quality);
    else if (/\.(m?js|css|json|wasm)$/.test(name)) {
      const data = readFileSync(file);
      writeFileSync(`${file}.br`, brotliCompressSync(data, { params: { [z.BROTLI_PARAM_QUALITY]: quality } }));
      writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
    }
  }
};
precompress(elementsOut);

await build({ configFile, mode: 'demo', logLevel: 'warn' });

// the publishable packages (packages/core/dist, packages/elements/dist): `npm run build:packages`
const { buildCore, buildElements } = await import('./build-packages.mjs');
await buildCore();
await buildElements();

// Custom Elements Manifest (the analyzer reads the elements' JSDoc), then editor data and typings
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const cem = spawnSync(npm, ['run', '--silent', 'manifest'], { cwd: root, stdio: 'inherit' });
if (cem.status !== 0) process.exit(cem.status ?? 1);
const editor = spawnSync(process.execPath, [path.join(root, 'scripts/editor-data.mjs')], {
  cwd: root,
  stdio: 'inherit',
});
if (editor.status !== 0) process.exit(editor.status ?? 1);

writeFileSync(stamp, new Date().toISOString() + '\n');
const size = (f) => (statSync(path.join(root, 'dist/elements', f)).size / 1024).toFixed(0);
console.log(
  `build: dist/elements/sidian.js (${size('sidian.js')} KB), dist/demo, custom-elements.json and editor data in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
);
