/**
 * Where the time to page 1 goes in bench/viewer, for one viewer in one fresh context:
 *
 *   node --import tsx bench/viewer/trace.ts [element|pdfjs] [RUNS]
 *
 * Prints, per run, the first-page time, the resource timings (start and end of each request, from
 * `src` being set) and any `performance.mark`s, and writes a Chromium performance trace of the last
 * run to bench/.generated/viewer/<kind>.trace.json (open it in Chrome DevTools' Performance panel).
 * TRACE_CATEGORIES (comma-separated) replaces Playwright's default trace categories, e.g.
 * `devtools.timeline,blink.user_timing,disabled-by-default-v8.cpu_profiler` for JavaScript samples.
 * Run it under `flock /tmp/sidian-bench.lock` like the benches.
 * Uses the same server, pages and bundle as bench/viewer/run.ts (build first: `npm run build`).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { launchChromium } from '../../tests/e2e/harness';
import { GEN_DIR, REPO_ROOT } from '../common';
import { viewerInput } from './licence';
import { startServer } from './run';

const kind = process.argv[2] === 'pdfjs' ? 'pdfjs' : 'element';
const runs = Number(process.argv[3] ?? 3);
const input = await viewerInput(200);
const server = await startServer({
  '/licence.pdf': input.file,
  '/trust.pem': input.caPemFile,
  '/elements/': (process.env.SIDIAN_BENCH_ELEMENTS ?? path.join(REPO_ROOT, 'dist/elements')) + '/',
  '/pdfjs-dist/': path.join(REPO_ROOT, 'node_modules/pdfjs-dist/'),
  '/bench/': path.join(REPO_ROOT, 'bench/viewer/pages') + '/',
});
const browser = await launchChromium();
const out = path.join(GEN_DIR, 'viewer');
mkdirSync(out, { recursive: true });
try {
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.on('console', (m) => process.stderr.write(`console ${m.type()}: ${m.text()}\n`));
    page.on('pageerror', (e) => process.stderr.write(`pageerror: ${e.message}\n`));
    await page.goto(`${server.url}/bench/${kind}.html`, { waitUntil: 'load' });
    await page.waitForFunction(() => 'benchRun' in window);
    const last = i === runs - 1;
    if (last) await browser.startTracing(page, { path: path.join(out, `${kind}.trace.json`), screenshots: false, categories: process.env.TRACE_CATEGORIES?.split(',') });
    const result = await page.evaluate(async (url) => {
      const t0 = performance.now();
      performance.clearResourceTimings();
      const r = await (window as unknown as { benchRun(u: string): Promise<Record<string, unknown>> }).benchRun(url);
      const res = performance
        .getEntriesByType('resource')
        .map((e) => e as PerformanceResourceTiming)
        .map((e) => `${(e.startTime - t0).toFixed(0)}-${(e.responseEnd - t0).toFixed(0)} ${e.name.replace(/^https?:\/\/[^/]+/, '')}`);
      return { ...r, resources: res };
    }, `${server.url}/licence.pdf`);
    if (last) await browser.stopTracing();
    process.stdout.write(`run ${i + 1}: ${JSON.stringify(result, null, 1)}\n`);
    await context.close();
  }
} finally {
  await browser.close();
  await server.close();
}
