#!/usr/bin/env node
// `npm run build:packages` (also run by `npm run build`): the publishable forms of @sidian/core and
// @sidian/elements in packages/*/dist:
//
// - JavaScript: ES modules with source maps. Core is one bundle (esbuild), elements one module per
//   entry point (Vite library mode: index.js and one per element, sharing chunks; the hashing and
//   verification workers as self-contained files next to them). Dependencies stay imports, so a
//   consumer's bundler deduplicates lit, pkijs... and @sidian/core itself.
// - Types: `tsc --emitDeclarationOnly`, then every relative specifier in the .d.ts files is given its
//   `.js` (or `/index.js`) ending, which `moduleResolution: node16` requires of an ES module package.
//
// Inside the monorepo the workspaces' package.json point at the TypeScript sources (tests, tsx, Vite
// and web-test-runner read them as they are). `npm pack`/`npm publish` run `prepack`, which calls this
// script with `--prepack <name>`: it builds that package and rewrites that package.json to the published form (the
// `publishConfig` entries `exports`, `types`, `main` replace the source ones) and keeps the original
// beside it; `postpack` (`--restore`) puts the original back.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SAVED = 'package.source.json';

/** Published form of one package.json: the `publishConfig` fields replace the source ones. */
function manifest(dir) {
  const file = path.join(dir, 'package.json');
  const saved = path.join(dir, SAVED);
  if (existsSync(saved))
    throw new Error(`${saved} exists: a previous pack did not finish (npm run postpack there)`);
  const pkg = JSON.parse(readFileSync(file, 'utf8'));
  const { publishConfig = {}, ...rest } = pkg;
  const out = { ...rest };
  for (const key of ['exports', 'types', 'main', 'module'])
    if (key in publishConfig) out[key] = publishConfig[key];
  const npmConfig = Object.fromEntries(
    Object.entries(publishConfig).filter(([k]) => !['exports', 'types', 'main', 'module'].includes(k)),
  );
  if (Object.keys(npmConfig).length) out.publishConfig = npmConfig;
  copyFileSync(file, saved);
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
}

function restore(dir) {
  const saved = path.join(dir, SAVED);
  if (existsSync(saved)) renameSync(saved, path.join(dir, 'package.json'));
}

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** `from './x'` -> `from './x.js'` or `'./x/index.js'`, as node16 resolution needs in an ES module package. */
function fixDeclarationSpecifiers(typesDir) {
  const re = /((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]*)(['"])/g;
  for (const file of walk(typesDir).filter((f) => f.endsWith('.d.ts'))) {
    const text = readFileSync(file, 'utf8');
    const fixed = text.replace(re, (m, pre, spec, post) => {
      if (/\.(js|mjs|cjs|json)$/.test(spec)) return m;
      const base = path.resolve(path.dirname(file), spec);
      if (existsSync(base + '.d.ts')) return `${pre}${spec}.js${post}`;
      if (existsSync(path.join(base, 'index.d.ts'))) return `${pre}${spec}/index.js${post}`;
      throw new Error(`${path.relative(root, file)}: cannot resolve ${spec}`);
    });
    if (fixed !== text) writeFileSync(file, fixed);
  }
}

function declarations(pkgDir) {
  const r = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(pkgDir, 'tsconfig.build.json')],
    { cwd: root, stdio: 'inherit' },
  );
  if (r.status !== 0) throw new Error(`tsc (declarations of ${path.relative(root, pkgDir)}) failed`);
  fixDeclarationSpecifiers(path.join(pkgDir, 'dist/types'));
}

/** Bare imports stay imports: the package's dependencies are the consumer's to install and dedupe. */
const isBare = (id) => !id.startsWith('.') && !path.isAbsolute(id) && !id.startsWith('\0');

export async function buildCore() {
  const dir = path.join(root, 'packages/core');
  rmSync(path.join(dir, 'dist'), { recursive: true, force: true });
  const { build } = await import('esbuild');
  await build({
    entryPoints: [path.join(dir, 'src/index.ts')],
    outfile: path.join(dir, 'dist/index.js'),
    bundle: true,
    packages: 'external',
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    sourcemap: true,
    // keep class names (errors, signers) as they are in the sources
    keepNames: true,
    logLevel: 'warning',
  });
  declarations(dir);
}

export async function buildElements() {
  const dir = path.join(root, 'packages/elements');
  rmSync(path.join(dir, 'dist'), { recursive: true, force: true });
  const src = (p) => path.join(dir, 'src', p);
  const { build } = await import('vite');
  await build({
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    // worker URLs relative to the module that starts them (new URL('./x.js', import.meta.url))
    base: './',
    build: {
      outDir: path.join(dir, 'dist'),
      emptyOutDir: false,
      target: 'es2022',
      sourcemap: true,
      minify: false,
      assetsDir: '',
      reportCompressedSize: false,
      lib: {
        entry: {
          index: src('index.ts'),
          'seal-placer': src('seal-placer/define.ts'),
          'signature-pad': src('signature-pad/define.ts'),
          'licence-viewer': src('licence-viewer/define.ts'),
          'material-uploader': src('material-uploader/define.ts'),
          prefill: src('prefill/define.ts'),
          shared: src('shared/index.ts'),
          'seal-image': src('seal-placer/seal-image.ts'),
        },
        formats: ['es'],
        fileName: (_format, name) => `${name}.js`,
      },
      rollupOptions: {
        external: isBare,
        output: { chunkFileNames: 'chunks/[name]-[hash].js', assetFileNames: '[name]-[hash][extname]' },
      },
    },
    // workers are loaded by URL, never resolved by the consumer's bundler: they carry what they import
    worker: { format: 'es', rollupOptions: { output: { entryFileNames: '[name]-[hash].js' } } },
  });
  // the glyph outlines the seal and the typed name are drawn from (scripts/glyph-outlines.mjs); a site
  // serves dist/glyphs/ and points the elements at it (configureGlyphs or <meta name="sidian-glyphs-base">)
  const { cachedGlyphBlocks, glyphLicence } = await import('./glyph-outlines.mjs');
  mkdirSync(path.join(dir, 'dist/glyphs'), { recursive: true });
  for (const [block, json] of cachedGlyphBlocks())
    writeFileSync(path.join(dir, 'dist/glyphs', `${block}.json`), json);
  writeFileSync(path.join(dir, 'dist/glyphs/OFL.txt'), glyphLicence());
  declarations(dir);
}

/** The Custom Elements Manifest, editor data and React/Vue typings that @sidian/elements ships. */
function editorData() {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  for (const [cmd, argv] of [
    [npm, ['run', '--silent', 'manifest']],
    [process.execPath, [path.join(root, 'scripts/editor-data.mjs')]],
  ]) {
    const r = spawnSync(cmd, argv, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`${[cmd, ...argv].join(' ')} failed`);
  }
}

const BUILDERS = { core: buildCore, elements: buildElements };
const args = process.argv.slice(2);
if (args[0] === '--prepack') {
  // npm pack/publish in packages/<name>: build it, then the published package.json
  await BUILDERS[args[1]]();
  if (args[1] === 'elements') editorData();
  manifest(path.join(root, 'packages', args[1]));
} else if (args[0] === '--restore') restore(path.join(root, 'packages', args[1]));
else if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = Date.now();
  const which = args.length ? args : ['core', 'elements'];
  if (which.includes('core')) await buildCore();
  if (which.includes('elements')) await buildElements();
  console.log(
    `build:packages: ${which.map((w) => `packages/${w}/dist`).join(', ')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
}
