/**
 * Test helpers shared by core and server tests: small hostile PDFs whose declarations ask for far
 * more memory than the file holds (issue 14, "bounded work everywhere"). Written by hand, offsets
 * computed, so everything but the declared sizes is well-formed.
 */
import { deflateRawSync, deflateSync } from 'node:zlib';

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Big-endian field of `width` bytes. */
function put(row: Uint8Array, at: number, width: number, v: number): void {
  for (let k = width - 1; k >= 0; k--) row[at + width - 1 - k] = Math.floor(v / 2 ** (8 * k)) & 255;
}

/**
 * An update appended to `base` (a signed PDF, say) whose cross-reference stream declares new
 * objects up to `/Size entries` (`/Index [size entries - size]`, `/W [1 3 1]`), every one in use at
 * the base catalog's offset (or free, with `free`); deflated ~1000:1 like `xrefSizeBomb`.
 */
export function xrefSizeBombUpdate(
  base: Uint8Array,
  entries = 9_500_000,
  o: { free?: boolean } = {},
): Uint8Array {
  const text = Buffer.from(base).toString('latin1');
  const startxref = Number(/startxref\s+(\d+)\s+%%EOF\s*$/.exec(text)![1]);
  const sizes = [...text.matchAll(/\/Size (\d+)/g)].map((m) => Number(m[1]));
  const size = Math.max(...sizes) + 1;
  const root = /\/Root (\d+) 0 R/.exec(text.slice(startxref))![1]!;
  const catalog = text.lastIndexOf(`\n${root} 0 obj`) + 1;
  const at = base.length + 1;
  const self = size - 1;
  const count = entries - size;
  const rowLen = 5;
  const data = new Uint8Array(count * rowLen);
  const filler = new Uint8Array(rowLen);
  put(filler, 0, 1, o.free ? 0 : 1);
  put(filler, 1, 3, o.free ? 0 : catalog);
  for (let p = 0; p < data.length; p += rowLen) data.set(filler, p);
  const z = new Uint8Array(deflateSync(data, { level: 9 }));
  const head = latin1(
    `\n${self} 0 obj\n<< /Type /XRef /Size ${entries} /W [1 3 1] /Index [${size} ${count}] /Root ${root} 0 R /Prev ${startxref} /Filter /FlateDecode /Length ${z.length} >>\nstream\n`,
  );
  return concat([base, head, z, latin1(`\nendstream\nendobj\nstartxref\n${at}\n%%EOF\n`)]);
}

/**
 * A one-page PDF whose only cross-reference section is a stream declaring `entries` rows
 * (`/Size`, `/Index [0 entries]`, `/W [1 3 1]`): the first rows are the real objects, every further
 * row an in-use object at the catalog's offset (or free, with `free`). The rows are really there,
 * deflated ~1000:1: 9.5 million rows (47.5 MB) take ~50 KB.
 */
export function xrefSizeBomb(entries = 9_500_000, o: { free?: boolean } = {}): Uint8Array {
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>',
  ];
  let s = '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objs.forEach((body, i) => {
    offsets.push(s.length);
    s += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const self = objs.length + 1;
  const at = s.length;
  const W = [1, 3, 1];
  const rowLen = 5;
  const data = new Uint8Array(entries * rowLen);
  const row = (n: number, type: number, f2: number, f3: number) => {
    const r = data.subarray(n * rowLen, (n + 1) * rowLen);
    put(r, 0, 1, type);
    put(r, 1, 3, f2);
    put(r, 4, 1, f3);
  };
  row(0, 0, 0, 255);
  offsets.forEach((off, i) => row(i + 1, 1, off, 0));
  row(self, 1, at, 0);
  // the rest: one repeated row, which deflate folds into a few bytes per 258
  const filler = data.subarray((self + 1) * rowLen, (self + 2) * rowLen);
  put(filler, 0, 1, o.free ? 0 : 1);
  put(filler, 1, 3, o.free ? 0 : offsets[0]!);
  put(filler, 4, 1, 0);
  for (let p = (self + 2) * rowLen; p < data.length; p += rowLen) data.set(filler, p);
  const z = new Uint8Array(deflateSync(data, { level: 9 }));
  const head = latin1(
    s +
      `${self} 0 obj\n<< /Type /XRef /Size ${entries} /W [${W.join(' ')}] /Index [0 ${entries}] /Root 1 0 R /Filter /FlateDecode /Length ${z.length} >>\nstream\n`,
  );
  return concat([head, z, latin1(`\nendstream\nendobj\nstartxref\n${at}\n%%EOF\n`)]);
}

/**
 * A one-page PDF with an AcroForm of `streams` text fields, each the only object of its own object
 * stream, and each object stream padded with blanks to inflate to `inflatesTo` bytes (deflated
 * ~1000:1): listing the form's fields decodes every one of them.
 */
export function objectStreamBomb(streams = 6, inflatesTo = 64 * 1024 * 1024): Uint8Array {
  const parts: Uint8Array[] = [];
  let len = 0;
  const push = (b: string | Uint8Array) => {
    const x = typeof b === 'string' ? latin1(b) : b;
    parts.push(x);
    len += x.length;
  };
  push('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n');
  const fieldNum = (i: number) => 100 + i;
  const streamNum = (i: number) => 10 + i;
  const fields = Array.from({ length: streams }, (_, i) => `${fieldNum(i)} 0 R`).join(' ');
  const direct: [number, string][] = [
    [1, `<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [${fields}] >> >>`],
    [2, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>'],
    [3, '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>'],
  ];
  const offsets = new Map<number, number>();
  for (const [num, body] of direct) {
    offsets.set(num, len);
    push(`${num} 0 obj\n${body}\nendobj\n`);
  }
  for (let i = 0; i < streams; i++) {
    const z = paddedZlib(latin1(`${fieldNum(i)} 0 << /FT /Tx /T (f${i}) /V (x) >>`), inflatesTo);
    offsets.set(streamNum(i), len);
    push(
      `${streamNum(i)} 0 obj\n<< /Type /ObjStm /N 1 /First ${`${fieldNum(i)} 0 `.length} /Filter /FlateDecode /Length ${z.length} >>\nstream\n`,
    );
    push(z);
    push('\nendstream\nendobj\n');
  }
  const self = fieldNum(streams);
  const at = len;
  const rows: [number, number, number, number][] = [[0, 0, 0, 255]];
  for (const [num, off] of offsets) rows.push([num, 1, off, 0]);
  for (let i = 0; i < streams; i++) rows.push([fieldNum(i), 2, streamNum(i), 0]);
  rows.push([self, 1, at, 0]);
  rows.sort((a, b) => a[0] - b[0]);
  const data = new Uint8Array(rows.length * 6);
  rows.forEach(([, type, f2, f3], k) => {
    const r = data.subarray(k * 6, k * 6 + 6);
    put(r, 0, 1, type);
    put(r, 1, 4, f2);
    put(r, 5, 1, f3);
  });
  const index = rows.map(([num]) => `${num} 1`).join(' ');
  push(
    `${self} 0 obj\n<< /Type /XRef /Size ${self + 1} /W [1 4 1] /Index [${index}] /Root 1 0 R /Length ${data.length} >>\nstream\n`,
  );
  push(data);
  push(`\nendstream\nendobj\nstartxref\n${at}\n%%EOF\n`);
  return concat(parts);
}

const blankRuns = new Map<number, Uint8Array>();

/**
 * zlib data (RFC 1950) of `head` followed by blanks up to `total` bytes: a stored block with the
 * head, then one raw deflate of the blanks computed once per length (deflating hundreds of MB per
 * file would make the tests slow), then the Adler-32 worked out for the run arithmetically.
 */
function paddedZlib(head: Uint8Array, total: number): Uint8Array {
  const blanks = total - head.length;
  let run = blankRuns.get(blanks);
  if (!run) {
    run = new Uint8Array(deflateRawSync(new Uint8Array(blanks).fill(0x20), { level: 9 }));
    blankRuns.set(blanks, run);
  }
  const stored = new Uint8Array(5 + head.length);
  stored[0] = 0; // BFINAL 0, BTYPE 00 (stored), padded to the byte
  stored[1] = head.length & 255;
  stored[2] = head.length >> 8;
  stored[3] = ~head.length & 255;
  stored[4] = (~head.length >> 8) & 255;
  stored.set(head, 5);
  // Adler-32 (RFC 1950 §8.2): A = 1 + sum of bytes, B = sum of the A's, both mod 65521
  const M = 65521n;
  let a = 1n;
  let b = 0n;
  for (const x of head) {
    a = (a + BigInt(x)) % M;
    b = (b + a) % M;
  }
  const n = BigInt(blanks);
  b = (b + n * a + (32n * n * (n + 1n)) / 2n) % M;
  a = (a + 32n * n) % M;
  const adler = Number((b << 16n) | a);
  const tail = new Uint8Array([adler >>> 24, (adler >>> 16) & 255, (adler >>> 8) & 255, adler & 255]);
  return concat([new Uint8Array([0x78, 0xda]), stored, run, tail]);
}

/**
 * A one-page PDF whose catalog carries an array of `elements` numbers (2 bytes each in the file):
 * an honest-looking structure that a reader must hold on its heap whole — 4 million make ~8 MB of
 * file and ~100 MB of heap, more than a small worker heap allows (a real out-of-memory, no budget
 * of decoded bytes involved).
 */
export function heapHogPdf(elements = 4_000_000): Uint8Array {
  const objs = [
    `<< /Type /Catalog /Pages 2 0 R /Junk [${'0 '.repeat(elements)}] >>`,
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>',
  ];
  let s = '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objs.forEach((body, i) => {
    offsets.push(s.length);
    s += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const x = s.length;
  s += `xref\n0 ${objs.length + 1}\n0000000000 65535 f\r\n`;
  for (const o of offsets) s += `${String(o).padStart(10, '0')} 00000 n\r\n`;
  s += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${x}\n%%EOF\n`;
  return latin1(s);
}
