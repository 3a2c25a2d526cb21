import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SidianError } from '../errors';
import { describe, expect, inject, it } from 'vitest';
import { LazyTableEntries, PdfDocument } from './document';
import { PdfName, PdfRef } from './objects';
import { IncrementalWriter } from './writer';

const inputs = inject('inputPdfs').filter((v) => !v.invalid);

describe('page lookup by /Count', () => {
  for (const v of inputs) {
    it(`${v.name}: pageAt(i) is the i-th page of the full walk, pageCount() the page count`, () => {
      const doc = PdfDocument.load(new Uint8Array(readFileSync(v.file)), { recover: true });
      const lazy = PdfDocument.load(new Uint8Array(readFileSync(v.file)), { recover: true });
      const all = doc.latest.pages();
      expect(lazy.latest.pageCount()).toBe(all.length);
      for (let i = 0; i < all.length; i++) {
        const p = lazy.latest.pageAt(i)!;
        expect(p.ref.num).toBe(all[i]!.ref.num);
        expect(p.mediaBox).toEqual(all[i]!.mediaBox);
        expect(p.cropBox).toEqual(all[i]!.cropBox);
        expect(p.rotate).toBe(all[i]!.rotate);
      }
      expect(lazy.latest.pageAt(all.length)).toBeUndefined();
    });

    it(`${v.name}: pageIndexOf(page) is its index in the full walk, -1 for an object that is no page`, () => {
      const pdf = new Uint8Array(readFileSync(v.file));
      const all = PdfDocument.load(pdf, { recover: true }).latest.pages();
      for (let i = 0; i < all.length; i++) {
        const view = PdfDocument.load(pdf, { recover: true }).latest; // fresh: no page list cached
        expect(view.pageIndexOf(all[i]!.ref)).toBe(i);
        // found by climbing /Parent, without walking the whole tree
        expect((view as unknown as { pageList?: unknown }).pageList).toBeUndefined();
      }
      const view = PdfDocument.load(pdf, { recover: true }).latest;
      expect(view.pageIndexOf(view.catalog().get('Pages') as PdfRef)).toBe(-1);
      expect(view.pageIndexOf(new PdfRef(view.size + 5, 0))).toBe(-1);
    });
  }

  it('a lying /Count falls back to the full walk', () => {
    const v = inputs.find((x) => x.name === 'nested-pages')!;
    const pdf = new Uint8Array(readFileSync(v.file));
    const doc = PdfDocument.load(pdf);
    const rootRef = doc.latest.catalog().get('Pages') as PdfRef;
    const root = doc.latest.dict(rootRef)!.clone();
    root.set('Count', 1000);
    const w = new IncrementalWriter(doc);
    w.set(rootRef, root);
    const update = w.build().bytes;
    const bad = new Uint8Array(pdf.length + update.length);
    bad.set(pdf);
    bad.set(update, pdf.length);
    const view = PdfDocument.load(bad).latest;
    const truth = PdfDocument.load(bad).latest.pages();
    expect(view.pageAt(2)?.ref.num).toBe(truth[2]!.ref.num);
    expect(view.pageAt(2)?.dict.get('Type')).toBe(PdfName.of('Page'));
    for (let i = 0; i < truth.length; i++) expect(PdfDocument.load(bad).latest.pageIndexOf(truth[i]!.ref)).toBe(i);
  });
});

describe('classic xref tables decoded on demand (lazyTables, as signing loads files)', () => {
  const corpusDir = path.resolve(__dirname, '../../../../tests/corpus');
  const corpus = (JSON.parse(readFileSync(path.join(corpusDir, 'manifest.json'), 'utf8')) as { files: { file: string }[] }).files;
  const cases = [
    ...inputs.map((v) => ({ name: v.name, bytes: () => new Uint8Array(readFileSync(v.file)) })),
    ...corpus.map((c) => ({ name: `corpus ${c.file}`, bytes: () => new Uint8Array(readFileSync(path.join(corpusDir, c.file))) })),
  ];
  const load = (pdf: Uint8Array, lazyTables: boolean) => {
    try {
      return PdfDocument.load(pdf, { lazyTables });
    } catch (e) {
      return (e as SidianError).code;
    }
  };

  for (const c of cases) {
    it(`${c.name}: every entry, the next free number and the objects are those of the whole parse`, () => {
      const pdf = c.bytes();
      const eager = load(pdf, false);
      const lazy = load(pdf, true);
      if (typeof eager === 'string') return expect(lazy).toBe(eager);
      if (typeof lazy === 'string') throw new Error(`lazy load failed: ${lazy}`);
      // a regular classic table (every generated input without xref streams) is held lazily
      if (!c.name.startsWith('corpus') && eager.sections.every((s) => s.kind === 'table')) {
        expect(lazy.sections[0]!.entries).toBeInstanceOf(LazyTableEntries);
      }
      for (let i = 0; i < eager.sections.length; i++) {
        const want = eager.sections[i]!.entries;
        const got = lazy.sections[i]!.entries;
        const max = Math.max(-1, ...want.keys());
        // decoded one by one (the lazy path), including numbers beyond the table
        for (let n = 0; n <= max + 2; n++) expect(got.get(n), `section ${i} object ${n}`).toEqual(want.get(n));
      }
      expect(lazy.latest.size).toBe(eager.latest.size);
      expect(lazy.latest.pageCount()).toBe(eager.latest.pageCount());
      expect(lazy.latest.catalog().get('Pages')).toEqual(eager.latest.catalog().get('Pages'));
      // iteration (here after the lookups) answers with the whole table (in no particular order:
      // the eager parse keeps its entries sorted by number)
      const byNumber = (m: Map<number, unknown>) => [...m].sort((a, b) => a[0] - b[0]);
      expect(byNumber(lazy.latest.entries)).toEqual(byNumber(eager.latest.entries));
    });
  }

  /** A one-section file with a classic table of `n` objects written by hand (20-byte entries ending `eol`). */
  function handMade(eol: string, corrupt?: (table: string[]) => void): Uint8Array {
    const objs = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>'];
    let body = '%PDF-1.4\n';
    const table = ['0000000000 65535 f' + eol];
    objs.forEach((o, i) => {
      table.push(String(body.length).padStart(10, '0') + ' 00000 n' + eol);
      body += `${i + 1} 0 obj\n${o}\nendobj\n`;
    });
    corrupt?.(table);
    const xref = body.length;
    body += `xref\n0 ${table.length}\n${table.join('')}trailer\n<< /Size ${table.length} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
    return new TextEncoder().encode(body);
  }

  it("tables whose entries are not 20 bytes apart, or have a bad entry inside, give the whole parse's answers", () => {
    const variants = {
      '19-byte entries': handMade('\n'),
      'CR LF entries': handMade('\r\n'),
      'bad middle entry': handMade(' \n', (t) => (t[2] = '00000000x9 00000 n \n')),
      'short middle entry': handMade(' \n', (t) => (t[2] = t[2]!.replace('00000 n', '0 n    '))),
      'unknown type': handMade(' \n', (t) => (t[2] = t[2]!.replace(' n ', ' x '))),
    };
    for (const [name, pdf] of Object.entries(variants)) {
      const eager = load(pdf, false);
      const lazy = load(pdf, true);
      if (typeof eager === 'string') {
        // the error surfaces when the irregular entry is first needed, with the same code
        const code = typeof lazy === 'string' ? lazy : (() => {
          try {
            for (let n = 0; n < 5; n++) lazy.latest.entries.get(n);
            lazy.latest.pageCount();
            return 'no error';
          } catch (e) {
            return (e as SidianError).code;
          }
        })();
        expect(code, name).toBe(eager);
        continue;
      }
      if (typeof lazy === 'string') throw new Error(`${name}: lazy load failed: ${lazy}`);
      for (let n = 0; n < 6; n++) expect(lazy.latest.entries.get(n), `${name} object ${n}`).toEqual(eager.latest.entries.get(n));
      expect(lazy.latest.size, name).toBe(eager.latest.size);
      if (name === 'CR LF entries') expect(lazy.sections[0]!.entries).toBeInstanceOf(LazyTableEntries);
      if (name === '19-byte entries') expect(lazy.sections[0]!.entries).not.toBeInstanceOf(LazyTableEntries);
      expect(lazy.latest.pageCount(), name).toBe(1);
    }
  });
});
