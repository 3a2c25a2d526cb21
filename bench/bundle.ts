/**
 * `npm run bench -- bundle`: bytes the real server sends for the elements bundle (dist/elements, from
 * `npm run build`), over HTTP: a page that uses only <licence-viewer> (licence-viewer.js and the chunks
 * it imports statically, before pdf.js or a worker loads) beside a page that loads the whole bundle
 * (sidian.js and its static imports), uncompressed, gzip and brotli as browsers ask.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startTestServer } from '../server/src/test/harness';
import { log, machineLine, REPO_ROOT, table, writeResult } from './common';

const ELEMENTS = path.join(REPO_ROOT, 'dist/elements');

function get(base: string, file: string, acceptEncoding?: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = acceptEncoding ? { 'accept-encoding': acceptEncoding } : {};
    http
      .get(`${base}/elements/${file}`, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

/** The entry and every module it imports statically (what the browser fetches before any import()). */
async function staticGraph(base: string, entry: string): Promise<string[]> {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const { status, body } = await get(base, file);
    if (status !== 200) throw new Error(`${file}: HTTP ${status}`);
    const code = body.toString();
    // minified static imports: import{a as b}from"./x.js" / import"./x.js" / export*from"./x.js"
    for (const m of code.matchAll(
      /(?:^|[;\s}])(?:import|export)\s*(?:[\w*{}\s,$]*?from\s*)?["'](\.\/[^"']+)["']/g,
    ))
      queue.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]!)));
  }
  return [...seen];
}

export async function benchBundle(): Promise<string> {
  if (!existsSync(path.join(ELEMENTS, 'licence-viewer.js')))
    throw new Error('dist/elements/licence-viewer.js is missing: run `npm run build` first');
  const s = await startTestServer({ elementsDir: ELEMENTS });
  try {
    const rows: (string | number)[][] = [];
    for (const [page, entry] of [
      ['only <licence-viewer>', 'licence-viewer.js'],
      ['whole bundle (sidian.js)', 'sidian.js'],
    ] as const) {
      const files = await staticGraph(s.url, entry);
      const sizes: number[] = [];
      for (const ae of [undefined, 'gzip, deflate', 'gzip, deflate, br, zstd']) {
        let total = 0;
        for (const f of files) total += (await get(s.url, f, ae)).body.length;
        sizes.push(total);
      }
      log(`bundle: ${page}: ${files.join(', ')}`);
      rows.push([page, files.length, ...sizes.map((b) => (b / 1024).toFixed(1))]);
    }
    const md = [
      '## Elements bundle: bytes sent',
      '',
      'Bodies of the real server (`/elements/*`, dist/elements from `npm run build`), summed over the entry and',
      'the modules it imports statically, before pdf.js or a worker loads. KB = 1024 bytes.',
      '',
      table(['page', 'files', 'uncompressed KB', 'gzip KB', 'brotli KB'], rows),
      '',
      machineLine(),
      '',
    ].join('\n');
    writeResult('bundle.md', md);
    return md;
  } finally {
    await s.close();
  }
}
