/**
 * bench/viewer (`npm run bench -- viewer`): a 200-page sealed licence opened in Debian's Chromium
 * (playwright-core, the flags of tests/e2e) by
 *   - <licence-viewer> from the bundle a department ships (dist/elements/sidian.js with its lazy
 *     pdf.js chunk and worker, built by `npm run build`): time from setting `src` to page 1 painted
 *     on its canvas, and to the `verified` event (trust anchors fetched from a URL, as from /api/trust);
 *   - pdf.js's own viewer components (pdfjs-dist/web/pdf_viewer.mjs, same pdfjs-dist version) opening
 *     the same URL: time to `pagerendered` for page 1;
 *   - SHA-256 of the file's bytes with `crypto.subtle.digest` in the same browser.
 * One local HTTP server (with Range support, which pdf.js uses) serves everything; every run is a fresh
 * browser context (cold cache) and page; the three are interleaved; medians of RUNS (default 7,
 * `SIDIAN_BENCH_VIEWER_RUNS`). Targets (issue 6): first page no later than pdf.js's; verdict no later
 * than first page + hashing time.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { launchChromium } from '../../tests/e2e/harness';
import { log, machineLine, median, REPO_ROOT, table, writeResult } from '../common';
import { viewerInput } from './licence';

const PAGES_DIR = path.join(REPO_ROOT, 'bench/viewer/pages');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.pdf': 'application/pdf',
  '.pem': 'application/x-pem-file',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** Static files under a few prefixes; `Range: bytes=a-b` answered with 206 as any web server does. */
export function startServer(
  routes: Record<string, string>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const prefix = Object.keys(routes).find(
      (p) => u.pathname === p || (p.endsWith('/') && u.pathname.startsWith(p)),
    );
    const file = prefix
      ? path.join(routes[prefix]!, decodeURIComponent(u.pathname.slice(prefix.length)))
      : '';
    if (!prefix || !file.startsWith(routes[prefix]!) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    const size = statSync(file).size;
    const headers: http.OutgoingHttpHeaders = {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'accept-ranges': 'bytes',
      'cache-control': 'no-cache',
    };
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = range[1] ? Number(range[1]) : size - Number(range[2]);
      const end = range[1] && range[2] ? Math.min(size - 1, Number(range[2])) : size - 1;
      res.writeHead(206, {
        ...headers,
        'content-length': end - start + 1,
        'content-range': `bytes ${start}-${end}/${size}`,
      });
      createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': size });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((r) => server.close(() => r())),
      }),
    ),
  );
}

interface Sample {
  firstPageMs?: number;
  verdictMs?: number;
  verdict?: string;
  canvas?: string;
  hashMs?: number;
}

const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(0) : '—');

export async function benchViewer(): Promise<string> {
  const runs = Number(process.env.SIDIAN_BENCH_VIEWER_RUNS ?? 7);
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (build.status !== 0) throw new Error('npm run build failed');
  const input = await viewerInput(200);
  log(`viewer: ${input.pages} pages, ${(input.bytes / 2 ** 20).toFixed(1)} MiB: ${input.file}`);
  const server = await startServer({
    '/licence.pdf': input.file,
    '/trust.pem': input.caPemFile,
    '/elements/': (process.env.SIDIAN_BENCH_ELEMENTS ?? path.join(REPO_ROOT, 'dist/elements')) + '/',
    '/pdfjs-dist/': path.join(REPO_ROOT, 'node_modules/pdfjs-dist/'),
    '/bench/': PAGES_DIR + '/',
  });
  const browser = await launchChromium();
  const samples: Record<'element' | 'pdfjs' | 'hash', Sample[]> = { element: [], pdfjs: [], hash: [] };
  try {
    const once = async (kind: keyof typeof samples): Promise<Sample> => {
      const context = await browser.newContext({
        viewport: { width: 1600, height: 1000 },
        deviceScaleFactor: 1,
      });
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        page.on(
          'console',
          (m) =>
            m.type() === 'error' &&
            !/favicon/.test(m.location().url ?? '') &&
            errors.push(`${m.text()} (${m.location().url})`),
        );
        await page.goto(`${server.url}/bench/${kind}.html`, { waitUntil: 'load' });
        await page.waitForFunction(() => 'benchRun' in window);
        const s = await page.evaluate(
          (url) => (window as unknown as { benchRun(u: string): Promise<Sample> }).benchRun(url),
          `${server.url}/licence.pdf`,
        );
        if (errors.length) throw new Error(`${kind}: ${errors.join('; ')}`);
        return s;
      } finally {
        await context.close();
      }
    };
    // one warm-up round (the OS file cache, Chromium's own start-up work), not counted
    for (const kind of ['element', 'pdfjs', 'hash'] as const) await once(kind);
    for (let i = 0; i < runs; i++) {
      const order = (['element', 'pdfjs', 'hash'] as const).map((_, k, a) => a[(i + k) % a.length]!);
      for (const kind of order) {
        const s = await once(kind);
        samples[kind].push(s);
        log(`viewer: run ${i + 1} ${kind} ${JSON.stringify(s)}`);
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  const med = (kind: keyof typeof samples, key: 'firstPageMs' | 'verdictMs' | 'hashMs') =>
    median(samples[kind].map((s) => s[key] ?? NaN));
  const el = { first: med('element', 'firstPageMs'), verdict: med('element', 'verdictMs') };
  const pdfjs = med('pdfjs', 'firstPageMs');
  const hash = med('hash', 'hashMs');
  const verdicts = [...new Set(samples.element.map((s) => s.verdict))].join(', ');
  const chromium = spawnSync(process.env.CHROMIUM ?? '/usr/bin/chromium', ['--version'], {
    encoding: 'utf8',
  }).stdout.trim();
  const pdfjsVersion = (
    JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules/pdfjs-dist/package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  const ok = (b: boolean) => (b ? 'met' : '**missed**');
  const md = [
    `# bench/viewer`,
    '',
    `${machineLine()}; ${chromium} (headless, DevTools via playwright-core); pdfjs-dist ${pdfjsVersion}.`,
    `Input: a ${input.pages}-page sealed licence (${(input.bytes / 2 ** 20).toFixed(1)} MiB; demo licence face, 199 annex pages with`,
    'Chinese text, a table and a JPEG scan each; licence.json embedded; certified with a PNG seal, RSA-2048),',
    'served with the viewers from a local HTTP server (Range supported). Median of',
    `${runs} interleaved runs, each in a fresh browser context (cold cache); 1600x1000 window, device pixel ratio 1;`,
    'page 1 drawn at about the same size in both (see the canvas column: the element is 1300 px wide so that its',
    "page column beside the side panel matches pdf.js's 900 px box). Times from setting `src` (element) or",
    'calling `getDocument` (pdf.js).',
    '',
    table(
      ['viewer', 'first page painted (ms)', 'verdict (ms)', 'page 1 canvas'],
      [
        [
          '`<licence-viewer>` (dist/elements/sidian.js)',
          fmt(el.first),
          `${fmt(el.verdict)} (${verdicts})`,
          samples.element[0]?.canvas ?? '—',
        ],
        ['pdf.js PDFViewer (web/pdf_viewer.mjs)', fmt(pdfjs), '—', samples.pdfjs[0]?.canvas ?? '—'],
        ['SHA-256 of the file (`crypto.subtle.digest`)', '—', `${fmt(hash)} (hash only)`, '—'],
      ],
    ),
    '',
    table(
      ['target', 'measured', 'result'],
      [
        ['first page no later than pdf.js', `${fmt(el.first)} ms vs ${fmt(pdfjs)} ms`, ok(el.first <= pdfjs)],
        [
          'verdict no later than first page + hashing',
          `${fmt(el.verdict)} ms vs ${fmt(el.first)} + ${fmt(hash)} = ${fmt(el.first + hash)} ms`,
          ok(el.verdict <= el.first + hash),
        ],
      ],
    ),
    '',
    'Per run (ms): ' +
      (['element', 'pdfjs', 'hash'] as const)
        .map(
          (k) =>
            `${k} ${samples[k].map((s) => (k === 'hash' ? fmt(s.hashMs!) : k === 'element' ? `${fmt(s.firstPageMs!)}/${fmt(s.verdictMs!)}` : fmt(s.firstPageMs!))).join(' ')}`,
        )
        .join('; ') +
      ' (element: first page/verdict).',
  ].join('\n');
  writeResult('viewer.md', md);
  return md;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchViewer().then(
    (md) => process.stdout.write(md + '\n'),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
