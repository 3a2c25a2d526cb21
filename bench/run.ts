/**
 * `npm run bench [-- cli|sign|verify|server|upload|viewer|bundle|batch|gm ...]`: runs the benchmarks (all when none is named), prints each
 * Markdown table to stdout and writes it to bench/results/<name>.md. Progress goes to stderr.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { benchBatch } from './batch/run';
import { benchBundle } from './bundle';
import { benchCli } from './cli';
import { benchSign } from './sign';
import { benchVerify } from './verify';
import { benchViewer } from './viewer/run';

/** The server benchmark runs the real server in its own process (autocannon against it). */
async function benchServer(): Promise<string> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/server/run.ts'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`bench/server/run.ts exited with ${r.status}`);
  return readFileSync('bench/server/results.md', 'utf8');
}

/**
 * The upload benchmark runs in Chromium through web-test-runner (bench/upload/wtr.config.mjs); sizes
 * from BENCH_UPLOAD_MB (default 16,64,1024), the table written to bench/results/upload.md.
 */
async function benchUpload(): Promise<string> {
  const out = 'bench/results/upload.md';
  const r = spawnSync('npx', ['wtr', '--config', 'bench/upload/wtr.config.mjs'], {
    stdio: ['ignore', process.stderr, 'inherit'],
    env: { ...process.env, BENCH_UPLOAD_OUT: out },
  });
  if (r.status !== 0) throw new Error(`bench/upload (wtr) exited with ${r.status}`);
  return readFileSync(out, 'utf8');
}

/** The 国密 benchmark is a script (Node and Chromium rows); it writes bench/results/gm.md. */
async function benchGm(): Promise<string> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/gm/gm.bench.ts'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`bench/gm/gm.bench.ts exited with ${r.status}`);
  return readFileSync('bench/results/gm.md', 'utf8');
}

const BENCHES: Record<string, () => Promise<string>> = {
  cli: benchCli,
  sign: benchSign,
  verify: benchVerify,
  server: benchServer,
  upload: benchUpload,
  viewer: benchViewer,
  bundle: benchBundle,
  batch: benchBatch,
  gm: benchGm,
};

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => a !== '--');
  const unknown = names.filter((n) => !(n in BENCHES));
  if (unknown.length) {
    process.stderr.write(
      `unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}\n`,
    );
    process.exit(2);
  }
  for (const name of names.length ? names : Object.keys(BENCHES)) {
    const md = await BENCHES[name]!();
    process.stdout.write(md + '\n');
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
