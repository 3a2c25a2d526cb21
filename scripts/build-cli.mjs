#!/usr/bin/env node
// Builds the `sidian` command into server/dist/cli (ES modules, source maps): main.mjs with `sign`
// and `verify` (and @sidian/core) bundled, each subcommand in a chunk loaded only when it runs, so a
// one-shot `sidian verify` does not compile TypeScript or load the server. `sign`, `verify` and
// `extend` are also written as one CommonJS file each with V8's code cache beside it (NAME.cjs,
// NAME.cjs.cache), which main.mjs loads instead of the chunks (server/src/cli/cached-module.ts).
// Run by `npm run build`, `npm ci`/`npm install` (prepare) and the test setup; a few seconds.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_OUT = path.join(root, 'server/dist/cli');

export async function buildCli() {
  const { build } = await import('esbuild');
  rmSync(CLI_OUT, { recursive: true, force: true });
  await build({
    entryPoints: { main: path.join(root, 'server/src/cli/main.ts') },
    outdir: CLI_OUT,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    minify: true,
    // tsx loads the server's TypeScript sources for serve, dev-pki and audit (see main.ts)
    // pkcs11js is a native addon (sign --pkcs11-label), loaded from node_modules when used
    external: ['tsx', 'tsx/*', 'pkcs11js'],
    // CommonJS dependencies bundled into ES modules still call require() for Node's built-ins
    banner: {
      js: "import { createRequire as __sidianRequire } from 'node:module'; const require = __sidianRequire(import.meta.url);",
    },
    tsconfig: path.join(root, 'tsconfig.json'),
    logLevel: 'warning',
    legalComments: 'none',
  });
  // One file per command, each wrapped in the function Node wraps CommonJS modules in, so that the
  // loader compiles it with vm.Script and its cached data (Node 20 has no code cache for ES modules).
  const commands = ['sign', 'verify', 'extend'];
  await build({
    entryPoints: Object.fromEntries(commands.map((c) => [c, path.join(root, `server/src/cli/${c}.ts`)])),
    outdir: CLI_OUT,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    minify: true,
    external: ['tsx', 'tsx/*'],
    // V8 drops a script's dynamic-import callback when it is compiled from cached data (Node 20), so
    // no import() may remain in these files: pkcs11js (a CommonJS native addon) is required instead
    plugins: [requireInstead('pkcs11js'), await lazyFflate()],
    banner: { js: '(function (exports, require, module, __filename, __dirname) {' },
    footer: { js: '\n})' },
    tsconfig: path.join(root, 'tsconfig.json'),
    logLevel: 'warning',
    legalComments: 'none',
  });
  // The code cache, made by this Node (V8 rejects it under another version and the command then
  // compiles as before). Made after the module's top level has run, so that the functions it
  // called are in the cache compiled, not only pre-parsed.
  const made = spawnSync(process.execPath, ['-e', CACHE_SOURCE, CLI_OUT, ...commands], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`code cache: ${made.stderr}`);
}

/** An esbuild plugin: `import(name)` becomes a require() of the installed package, left outside the bundle. */
function requireInstead(name) {
  return {
    name: `require-${name}`,
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${name}$`) }, (args) =>
        args.namespace === 'require-instead'
          ? { path: name, external: true }
          : { path: name, namespace: 'require-instead' },
      );
      b.onLoad({ filter: /.*/, namespace: 'require-instead' }, () => ({
        contents: `module.exports = require(${JSON.stringify(name)});`,
        loader: 'js',
      }));
    },
  };
}

/**
 * An esbuild plugin: every `import { … } from 'fflate'` (core's PDF filters and fonts, fast-png,
 * fontkit) goes through a module that requires fflate at its first use. fflate builds its Huffman
 * tables when its module runs (5-10 ms of a cold start), and in Node core inflates and deflates
 * with node:zlib, so a command that meets no PNG and no stream zlib refuses never runs it. Each
 * function and class of fflate is stood in for by a function that calls or constructs the real
 * one. Its other export, a table of error codes, is left out: an import of it fails the build.
 */
async function lazyFflate() {
  const real = await import('fflate');
  const stand = Object.keys(real)
    .filter((name) => typeof real[name] === 'function')
    .map(
      (name) =>
        `export function ${name}(...args) {\n` +
        `  return new.target ? new (fflate().${name})(...args) : fflate().${name}(...args);\n}`,
    )
    .join('\n');
  return {
    name: 'lazy-fflate',
    setup(b) {
      b.onResolve({ filter: /^fflate$/ }, (args) =>
        args.namespace === 'lazy-fflate' ? undefined : { path: 'fflate', namespace: 'lazy-fflate' },
      );
      b.onLoad({ filter: /.*/, namespace: 'lazy-fflate' }, () => ({
        contents: `let real;\nconst fflate = () => (real ??= require('fflate'));\n${stand}\n`,
        loader: 'js',
        resolveDir: root,
      }));
    },
  };
}

const CACHE_SOURCE = `
const { readFileSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const path = require('node:path');
const { Script } = require('node:vm');
const [dir, ...names] = process.argv.slice(1);
for (const name of names) {
  const file = path.join(dir, name + '.cjs');
  const script = new Script(readFileSync(file, 'utf8'), { filename: file });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dir);
  writeFileSync(file + '.cache', script.createCachedData());
}
`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const t0 = Date.now();
  await buildCli();
  console.log(`build: server/dist/cli in ${Date.now() - t0} ms`);
}
