#!/usr/bin/env node
// The `sidian` command. Runs the built JavaScript (server/dist/cli, made by `npm ci`, `npm run build`
// and the tests) when it is there; otherwise compiles the TypeScript sources through tsx, slower to
// start (about half a second).
import { existsSync } from 'node:fs';

const argv = process.argv.slice(2);
// `sidian sign BIG.pdf --key SM2.pem`: the input's SM3, most of signing's work, starts on a thread
// now, beside the loading of the command and the key (server/src/hash-thread.mjs)
const early =
  argv[0] === 'sign' && argv.some((a) => a === '--key' || a.startsWith('--key='))
    ? (await import('../src/hash-thread.mjs')).startSignInputHash(argv)
    : undefined;
const built = new URL('../dist/cli/main.mjs', import.meta.url);
let main;
if (existsSync(built) && process.env.SIDIAN_CLI_FROM_SOURCE !== '1') {
  ({ main } = await import(built.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
try {
  process.exitCode = await main(argv, early);
} finally {
  early?.release();
}
