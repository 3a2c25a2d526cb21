/**
 * bench/batch (`npm run bench -- batch`, issue 18): 批量签署 in Debian's Chromium (playwright-core,
 * the flags of tests/e2e): one-page PDFs sealed with one non-extractable WebCrypto P-256 key by
 *   - core's `sealBatch` (documents made lazily in the page, signed files dropped after each),
 *     at 100, 500 and 1,000 documents: documents/s, the page's peak JS heap (sampled at every
 *     document in the page with precise performance.memory, and every 20 ms over CDP), and the heap
 *     left after the run and a forced collection, with the batch's result and without it;
 *   - `<seal-placer>`'s `sealBatch` (the placement shown, one confirmation) at 1,000;
 *   - one by one through `<seal-placer>` (load, place, seal(): what a clerk does without the batch)
 *     over ONE_BY_ONE documents, the rate extrapolated.
 * The first and last file of each run are verified in Node (verifyPdf and pdfsig). Target: ≥ 200
 * documents/s, memory flat in the number of documents.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { verifyPdf } from '@sidian/core';
import { createCa, issueCertificate, makeTempDir, removeDir } from '../../tests/helpers/openssl-pki';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS } from '../../tests/browser/chromium-flags.mjs';
import { GEN_DIR, REPO_ROOT, fmt, log, machineLine, writeResult } from '../common';
import { startServer } from '../viewer/run';

const SIZES = (process.env.BENCH_BATCH_SIZES ?? '100,500,1000').split(',').map(Number);
const ONE_BY_ONE = Number(process.env.BENCH_BATCH_ONE_BY_ONE ?? 30);
const CONCURRENCY = Number(process.env.BENCH_BATCH_CONCURRENCY ?? 4);

/** The page's heap (CDP Runtime.getHeapUsage, bytes) after a forced collection (HeapProfiler.collectGarbage). */
interface Heap {
  /** before the run */
  base: number;
  /** the highest sample every 20 ms during the run (garbage included) */
  cdpPeak: number;
  /** after the run, with the batch's result still referenced by the page */
  kept: number;
  /** after the run, the result dropped */
  dropped: number;
  /** entries in the result the page kept */
  keptResults: number;
}

interface RunResult {
  n: number;
  ms: number;
  sealed: number;
  failed: number;
  peakHeap: number;
  samples: string[];
}

async function buildPage(dir: string): Promise<void> {
  const { build } = await import('esbuild');
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [path.join(REPO_ROOT, 'bench/batch/page.ts')],
    outdir: dir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    conditions: ['browser'],
    tsconfig: path.join(REPO_ROOT, 'tsconfig.json'),
    logLevel: 'warning',
  });
  // the seal picture's glyph outlines, served beside the page (packages/elements/src/shared/glyphs.ts
  // fetches ./glyphs/<block>.json), as scripts/build.mjs serves them beside the elements
  // @ts-expect-error: a build script without types
  const { cachedGlyphBlocks } = (await import('../../scripts/glyph-outlines.mjs')) as {
    cachedGlyphBlocks(): Iterable<[string, string]>;
  };
  mkdirSync(path.join(dir, 'glyphs'), { recursive: true });
  for (const [block, json] of cachedGlyphBlocks())
    writeFileSync(path.join(dir, 'glyphs', `${block}.json`), json);
  writeFileSync(
    path.join(dir, 'index.html'),
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="sidian-pdfjs-base" content="/pdfjs/">' +
      '<title>bench/batch</title><script type="module" src="page.js"></script></head><body></body></html>',
  );
}

function pdfsigValid(file: string): boolean {
  const r = spawnSync('pdfsig', [file], { encoding: 'utf8' });
  return /Signature Validation: Signature is Valid\./.test(r.stdout);
}

export async function benchBatch(): Promise<string> {
  const t0 = Date.now();
  const dir = path.join(GEN_DIR, 'batch');
  await buildPage(dir);
  const pki = makeTempDir('sidian-bench-batch-');
  const ca = createCa(pki, { subject: '/C=CN/O=Sidian Bench/CN=Sidian Bench Batch Root' });
  const seal = issueCertificate(ca, {
    name: 'seal',
    subject: '/C=CN/O=四电市数据管理局/CN=四电市数据管理局公文专用章',
  });
  const server = await startServer({
    // the first prefix that matches serves: pdf.js's files before the page's folder
    '/pdfjs/': path.join(REPO_ROOT, 'node_modules/pdfjs-dist') + '/',
    '/': dir + '/',
  });
  // the flags of tests/e2e, and whole-byte performance.memory (Chromium otherwise rounds it)
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: false,
    args: [...CHROMIUM_FLAGS, '--enable-precise-memory-info'],
  });
  const rows: string[][] = [];
  const checks: string[] = [];
  const rates: Record<string, number> = {};
  const peaks: Record<number, number> = {};
  const retained: Record<string, Heap> = {};
  try {
    const verifySamples = async (label: string, r: RunResult) => {
      if (r.failed || r.sealed !== r.n) throw new Error(`${label}: ${r.failed} failed of ${r.n}`);
      for (const [i, b64] of r.samples.entries()) {
        const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
        const report = await verifyPdf(bytes, { trustAnchors: [ca.certPem] });
        const file = path.join(dir, `sample-${label.replace(/\W+/g, '_')}-${i}.pdf`);
        writeFileSync(file, bytes);
        const ok = report.status === 'valid' && pdfsigValid(file);
        if (!ok) throw new Error(`${label}: sample ${i} does not verify (${report.status})`);
      }
      checks.push(`${label}: ${r.samples.length} samples valid (verifyPdf, pdfsig)`);
    };
    /** A fresh page per run; the heap peak from CDP polling next to the page's own samples. */
    const run = async (label: string, call: string, arg: number): Promise<RunResult & Heap> => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('crash', () => errors.push('the page crashed'));
      page.on(
        'console',
        (m) =>
          m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text()),
      );
      page.on(
        'response',
        (res) =>
          res.status() >= 400 &&
          !res.url().endsWith('/favicon.ico') &&
          errors.push(`${res.status()} ${res.url()}`),
      );
      await page.goto(`${server.url}/index.html`, { waitUntil: 'load' });
      await page.waitForFunction(() => 'benchBatch' in window);
      await page.evaluate(
        ([k, c]) =>
          (
            window as unknown as { benchBatch: { setup(a: string, b: string): Promise<void> } }
          ).benchBatch.setup(k!, c!),
        [Buffer.from(seal.keyPkcs8).toString('base64'), Buffer.from(seal.certDer).toString('base64')],
      );
      const cdp = await context.newCDPSession(page);
      await cdp.send('HeapProfiler.collectGarbage');
      const base = ((await cdp.send('Runtime.getHeapUsage')) as { usedSize: number }).usedSize;
      let cdpPeak = base;
      let polling = true;
      const poll = (async () => {
        while (polling) {
          const u = await cdp
            .send('Runtime.getHeapUsage')
            .then((h) => (h as { usedSize: number }).usedSize)
            .catch(() => 0);
          cdpPeak = Math.max(cdpPeak, u);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      log(`batch: ${label}`);
      const r = (await page
        .evaluate(
          ([fn, n, c]) =>
            (
              window as unknown as {
                benchBatch: Record<string, (n: number, c: number) => Promise<RunResult>>;
              }
            ).benchBatch[fn as string]!(n as number, c as number),
          [call, arg, CONCURRENCY] as const,
        )
        .catch((e: Error) => {
          throw new Error(`${label}: ${e.message} ${errors.join('; ')}`);
        })
        .finally(() => (polling = false))) as RunResult;
      await poll;
      // what the batch leaves behind: the heap after a forced collection, with the result the page
      // keeps (its list of names and digests), then without it
      const usedAfterGc = async () => {
        await cdp.send('HeapProfiler.collectGarbage');
        await cdp.send('HeapProfiler.collectGarbage');
        return ((await cdp.send('Runtime.getHeapUsage')) as { usedSize: number }).usedSize;
      };
      type Page = { benchBatch: { keptResults(): number; dropResult(): void } };
      const keptResults = await page.evaluate(() => (window as unknown as Page).benchBatch.keptResults());
      const kept = await usedAfterGc();
      await page.evaluate(() => (window as unknown as Page).benchBatch.dropResult());
      const dropped = await usedAfterGc();
      await context.close();
      if (errors.length) throw new Error(`${label}: ${errors.join('; ')}`);
      await verifySamples(label, r);
      return { ...r, cdpPeak, base, kept, dropped, keptResults };
    };
    const MB = 2 ** 20;
    const add = (label: string, r: RunResult & Heap) => {
      const rate = (r.n / r.ms) * 1000;
      rates[label] = rate;
      rows.push([
        label,
        String(r.n),
        fmt(r.ms / 1000, 2),
        fmt(rate, 1),
        fmt(r.base / MB, 1),
        fmt(r.peakHeap / MB, 1),
        fmt(r.cdpPeak / MB, 1),
        fmt(r.kept / MB, 2),
        fmt(r.dropped / MB, 2),
        r.keptResults ? fmt((r.kept - r.dropped) / r.keptResults, 0) : '–',
      ]);
      retained[label] = r;
    };
    for (const n of SIZES) {
      const r = await run(`core sealBatch ×${n}`, 'core', n);
      peaks[n] = Math.max(r.peakHeap, r.cdpPeak) - r.base;
      add(`core sealBatch ×${n}`, r);
    }
    const biggest = Math.max(...SIZES);
    add(
      `<seal-placer> sealBatch ×${biggest}`,
      await run(`<seal-placer> sealBatch ×${biggest}`, 'element', biggest),
    );
    add(
      `<seal-placer> one by one ×${ONE_BY_ONE}`,
      await run(`<seal-placer> one by one ×${ONE_BY_ONE}`, 'oneByOne', ONE_BY_ONE),
    );
  } finally {
    await browser.close();
    await server.close();
    removeDir(pki);
  }
  const biggest = Math.max(...SIZES);
  const smallest = Math.min(...SIZES);
  const coreRate = rates[`core sealBatch ×${biggest}`]!;
  const core = (n: number) => retained[`core sealBatch ×${n}`]!;
  const leftAbove = (n: number) => core(n).dropped - core(n).base;
  const keptAbove = (n: number) => core(n).kept - core(n).base;
  const leftGrowth = leftAbove(biggest) - leftAbove(smallest);
  const perResult = (core(biggest).kept - core(biggest).dropped) / core(biggest).keptResults;
  const mark = (ok: boolean) => (ok ? '✅' : '❌');
  const md = [
    '# bench/batch — 批量签署: one-page PDFs sealed with one WebCrypto P-256 key in Chromium',
    '',
    `${machineLine()}. Chromium ${spawnSync(process.env.CHROMIUM ?? '/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).stdout.trim()} (${CHROMIUM_FLAGS.includes('--headless=new') ? 'headless' : 'headed'}); concurrency ${CONCURRENCY}. ` +
      `Generated by \`npm run bench -- batch\` in ${Math.round((Date.now() - t0) / 1000)} s; one run per row, a fresh page each. ` +
      'Documents are made in the page when their turn comes and each signed file is dropped after `onSealed` (a department would upload it), ' +
      'so the heap holds only what is in flight. Heap: used JS heap after a forced GC before the run (base), and the peak during it from ' +
      "the page's `performance.memory` (sampled at each document) and from CDP `Runtime.getHeapUsage` (every 20 ms), " +
      "and after the run, after a forced GC, once with the result the page keeps (`sealBatch`'s list) and once with it dropped.",
    '',
    '## Targets',
    `- ≥ 200 documents/s (core sealBatch ×${biggest}): **${fmt(coreRate, 1)}/s** ${mark(coreRate >= 200)}`,
    `- memory flat in the number of documents, judged on what stays after a forced collection (HeapProfiler.collectGarbage, then Runtime.getHeapUsage): ` +
      `above base ${SIZES.map((n) => `${fmt(leftAbove(n) / 2 ** 10, 0)} KiB at ${n}`).join(', ')} once the page drops the result ` +
      `(${Math.abs(leftGrowth) <= 2 ** 20 ? 'flat: within 1 MiB' : 'grows'}) ${mark(Math.abs(leftGrowth) <= 2 ** 20)}; ` +
      `with the result still held ${SIZES.map((n) => `${fmt(keptAbove(n) / 2 ** 10, 0)} KiB at ${n}`).join(', ')}: ` +
      `the result list itself, ${fmt(perResult, 0)} bytes a document (a name, a digest, a field name), is all that grows`,
    `- the peak during a run is garbage not yet collected, not kept memory: above base ${SIZES.map((n) => `${fmt(peaks[n]! / 2 ** 20, 1)} MiB at ${n}`).join(', ')} ` +
      `(the larger of the page's performance.memory and CDP samples); V8 collects later, the more it allocates`,
    '',
    '| run | documents | s | documents/s | heap base MiB | peak (page) MiB | peak (CDP) MiB | after GC, result kept MiB | after GC, result dropped MiB | result bytes/document |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    ...checks.map((c) => `- ${c}`),
    '',
  ].join('\n');
  writeResult('batch.md', md);
  return md;
}
