/**
 * bench/batch's page (bundled by bench/batch/run.ts with esbuild, run in Chromium): batch sealing
 * with core's sealBatch, with <seal-placer>'s sealBatch, and one document at a time through
 * <seal-placer>'s seal() as a clerk without the batch would do it.
 */
import { sealBatch, signerFromCryptoKey, type BatchDocument, type Signer } from '@sidian/core';
import '@sidian/elements/seal-placer.js';
import { sealPng } from '@sidian/elements/seal-image.js';
import type { SealPlacer } from '../../packages/elements/src/seal-placer/seal-placer';

const fromB64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const toB64 = (b: Uint8Array) => {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
};

/** A distinct one-page PDF (a notice with its number), made when its turn comes. */
function onePage(i: number): Uint8Array {
  const text = `BT /F1 14 Tf 72 760 Td (Notice No. ${String(i).padStart(6, '0')}) Tj ET`;
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
    `<< /Length ${text.length} >>\nstream\n${text}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let s = '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objs.forEach((o, k) => {
    offsets.push(s.length);
    s += `${k + 1} 0 obj\n${o}\nendobj\n`;
  });
  const x = s.length;
  s += `xref\n0 ${objs.length + 1}\n0000000000 65535 f\r\n`;
  for (const o of offsets) s += `${String(o).padStart(10, '0')} 00000 n\r\n`;
  s += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${x}\n%%EOF\n`;
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

const lazyDocs = (n: number): BatchDocument[] =>
  Array.from({ length: n }, (_, i) => ({ name: `notice-${i}.pdf`, pdf: async () => onePage(i) }));

let signer: Signer;
let image: Uint8Array;
const RECT = { x: 440, y: 40, width: 119, height: 119 };
const mem = () => (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize;

interface RunResult {
  n: number;
  ms: number;
  sealed: number;
  failed: number;
  peakHeap: number;
  /** base64 of the first and last sealed files, for verification in Node */
  samples: string[];
}

/**
 * The batch's result, kept as an application keeps it (to show or upload the list) until run.ts has
 * measured the heap after a forced collection, then dropped (`dropResult`) for a second measure.
 */
let kept: unknown;
const keep = (r: unknown) => {
  kept = r;
};

async function placedElement(): Promise<SealPlacer> {
  document.body.innerHTML = '<seal-placer style="width:640px"></seal-placer>';
  const el = document.querySelector('seal-placer') as SealPlacer;
  el.sealImage = image;
  el.signer = signer;
  el.confirmBatch = () => true;
  el.document = onePage(0);
  while (el.state !== 'loaded') await new Promise((r) => setTimeout(r, 10));
  el.place();
  return el;
}

Object.assign(window, {
  benchBatch: {
    /** Documents in the kept result (0 once dropped): the result is what it is measured with. */
    keptResults: () => (kept as { results: unknown[] } | undefined)?.results.length ?? 0,
    dropResult() {
      kept = undefined;
    },
    async setup(keyPkcs8: string, certificate: string) {
      const key = await crypto.subtle.importKey(
        'pkcs8',
        fromB64(keyPkcs8),
        { name: 'ECDSA', namedCurve: 'P-256' },
        false,
        ['sign'],
      );
      signer = signerFromCryptoKey(key, fromB64(certificate));
      image = await sealPng({ name: '四电市数据管理局', purpose: '公文专用章', code: '3301000012345' }, 400);
    },
    /** core's sealBatch over n lazily made documents; signed files dropped after the sample is kept. */
    async core(n: number, concurrency: number): Promise<RunResult> {
      let peakHeap = mem();
      const samples: string[] = [];
      const t0 = performance.now();
      const r = await sealBatch(lazyDocs(n), {
        signer,
        concurrency,
        rule: { image, mode: 'single', page: 1, rect: RECT, reason: '批量签署' },
        onSealed: (d) => {
          if (d.index === 0 || d.index === n - 1) samples.push(toB64(d.pdf));
        },
        onProgress: () => {
          peakHeap = Math.max(peakHeap, mem());
        },
      });
      keep(r);
      return { n, ms: performance.now() - t0, sealed: r.sealed, failed: r.failed, peakHeap, samples };
    },
    /** <seal-placer>'s sealBatch (the placement shown, one confirmation). */
    async element(n: number): Promise<RunResult> {
      const el = await placedElement();
      let peakHeap = mem();
      const samples: string[] = [];
      el.addEventListener('batch-progress', () => {
        peakHeap = Math.max(peakHeap, mem());
      });
      const t0 = performance.now();
      const r = await el.sealBatch(lazyDocs(n), {
        onSealed: (d) => {
          if (d.index === 0 || d.index === n - 1) samples.push(toB64(d.pdf));
        },
      });
      keep(r);
      return { n, ms: performance.now() - t0, sealed: r.sealed, failed: r.failed, peakHeap, samples };
    },
    /** One by one through the element: load the document, place the seal, seal() — n times. */
    async oneByOne(n: number): Promise<RunResult> {
      const el = await placedElement();
      let peakHeap = mem();
      const samples: string[] = [];
      let sealed = 0;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        el.document = onePage(i);
        // 'placed' when a placement is kept from the document before
        while (el.state !== 'loaded' && el.state !== 'placed') await new Promise((r) => setTimeout(r, 1));
        el.place();
        const pdf = await el.seal();
        sealed++;
        if (i === 0 || i === n - 1) samples.push(toB64(pdf));
        peakHeap = Math.max(peakHeap, mem());
      }
      return { n, ms: performance.now() - t0, sealed, failed: n - sealed, peakHeap, samples };
    },
  },
});
