#!/usr/bin/env node
// Builds the `sidian` command into server/dist/cli (ES modules, source maps): main.mjs with `sign`
// and `verify` (and @sidian/core) bundled, each subcommand in a chunk loaded only when it runs, so a
// one-shot `sidian verify` does not compile TypeScript or load the server. Run by `npm run build`,
// `npm ci`/`npm install` (prepare) and the test setup; about a second.
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
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const t0 = Date.now();
  await buildCli();
  console.log(`build: server/dist/cli in ${Date.now() - t0} ms`);
}
