import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { PdfDocument } from './document';
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
  });
});
