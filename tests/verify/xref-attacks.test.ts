/**
 * Attacks on the cross-reference structure itself (red-team findings): an update whose /Prev skips
 * the signed revision, hybrid-reference sections whose classic table and /XRefStm disagree, an
 * /XRefStm entry naming the wrong slot of an object stream, and object markers that make every
 * fallback parse run to the end of the file. Each is a hand-written incremental update appended to
 * a file Sidian signed; none may be reported `valid`, and none may take long to judge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDocument } from '../../packages/core/src/pdf/document';
import { PdfDict, PdfRef, latin1Bytes } from '../../packages/core/src/pdf/objects';
import { serialize } from '../../packages/core/src/pdf/writer';
import { listFields } from '../../packages/core/src/sign/fields';
import { signPdf } from '../../packages/core/src/sign/sign-pdf';
import { verifyPdf } from '../../packages/core/src/verify';
import type { VerificationReport } from '../../packages/core/src/verify/types';
import { makeTempDir, removeDir } from '../helpers/openssl-pki';
import { concat, createTestPki, loadInput, type InputName, type TestPki } from './generator';

let dir: string;
let pki: TestPki;
let anchors: string[];
const cache = new Map<string, Uint8Array>();

async function signedInput(name: InputName, opts: { certify?: 2; field?: string } = {}): Promise<Uint8Array> {
  const key = `${name}:${opts.certify ?? ''}:${opts.field ?? ''}`;
  let s = cache.get(key);
  if (!s) {
    s = await signPdf(loadInput(name), { signer: pki.signer, certify: opts.certify, field: opts.field });
    cache.set(key, s);
  }
  return s;
}

const verify = (pdf: Uint8Array): Promise<VerificationReport> => verifyPdf(pdf, { trustAnchors: anchors });

beforeAll(async () => {
  dir = makeTempDir('sidian-verify-xref-');
  pki = await createTestPki(dir);
  anchors = [pki.ca.certPem];
});

afterAll(() => {
  if (dir) removeDir(dir);
});

// ---------------------------------------------------------------------------------------------
// Hand-written updates
// ---------------------------------------------------------------------------------------------

type RawEntry =
  | { num: number; body: string } // an object written in this update
  | { num: number; free: true; gen?: number }
  | { num: number; offset: number; gen?: number }; // an entry pointing at an existing definition

/** Appends one update with a classic xref table listing `entries` (one subsection each). */
function rawUpdate(pdf: Uint8Array, entries: RawEntry[], opts: { prev?: number; trailerExtra?: string } = {}): Uint8Array {
  const doc = PdfDocument.load(pdf);
  let text = pdf[pdf.length - 1] === 0x0a ? '' : '\n';
  const rows: { num: number; line: string }[] = [];
  const row = (off: number, gen: number, kind: 'n' | 'f') => `${String(off).padStart(10, '0')} ${String(gen).padStart(5, '0')} ${kind}\r\n`;
  for (const e of entries) {
    if ('body' in e) {
      rows.push({ num: e.num, line: row(pdf.length + text.length, 0, 'n') });
      text += e.body;
    } else if ('free' in e) rows.push({ num: e.num, line: row(0, e.gen ?? 1, 'f') });
    else rows.push({ num: e.num, line: row(e.offset, e.gen ?? 0, 'n') });
  }
  rows.sort((a, b) => a.num - b.num);
  const xrefAt = pdf.length + text.length;
  const t = doc.latest.trailer;
  const root = t.get('Root') as PdfRef;
  const info = t.get('Info');
  const size = Math.max(doc.latest.size, ...entries.map((e) => e.num + 1));
  text += `xref\n${rows.map((r) => `${r.num} 1\n${r.line}`).join('')}`;
  text +=
    `trailer\n<< /Size ${size} /Root ${root.num} ${root.gen} R` +
    `${info instanceof PdfRef ? ` /Info ${info.num} ${info.gen} R` : ''} /Prev ${opts.prev ?? doc.startxref}${opts.trailerExtra ?? ''} >>\n` +
    `startxref\n${xrefAt}\n%%EOF\n`;
  return concat(pdf, latin1Bytes(text));
}

const obj = (num: number, body: string) => `${num} 0 obj\n${body}\nendobj\n`;

/**
 * Red team run4: the update's /Prev names the revision BEFORE the signature and its table lists
 * every object of the signature's revision again, except the signer's widget, which now draws a
 * large opaque appearance over the page. A verifier that cuts the final /Prev chain at the signed
 * bytes' end compares with the pre-signature revision, where the widget is simply "new".
 */
function prevSkipsSignatureRevision(signed: Uint8Array): Uint8Array {
  const doc = PdfDocument.load(signed);
  const sigSection = doc.sections[0]!;
  const before = sigSection.trailer.get('Prev') as number;
  const view = doc.latest;
  const widget = listFields(view).find((f) => f.type === 'Sig' && f.dict.has('V'))!.widgets[0]!;
  const apNum = view.size;
  const entries: RawEntry[] = [];
  for (const [num, e] of sigSection.entries) {
    if (e.type !== 1) continue;
    if (num === widget.ref!.num) {
      const d = widget.dict.clone();
      d.set('Rect', [60, 280, 560, 760]);
      d.set('F', 4);
      d.set('AP', new PdfDict([['N', new PdfRef(apNum, 0)]]));
      entries.push({ num, body: obj(num, serialize(d)) });
    } else entries.push({ num, offset: e.offset, gen: e.gen });
  }
  const content = '1 g 0 0 500 480 re f BT /Helv 30 Tf 0 0 1 rg 20 400 Td (CONTRACT VOID) Tj ET';
  entries.push({
    num: apNum,
    body: obj(
      apNum,
      `<< /Type /XObject /Subtype /Form /BBox [0 0 500 480] /Resources << /Font << /Helv << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> /Length ${content.length} >>\nstream\n${content}\nendstream`,
    ),
  });
  return rawUpdate(signed, entries, { prev: before });
}

function expectNotValid(r: VerificationReport, why: RegExp): void {
  expect(r.status).toBe('invalid');
  const sig = r.signatures[0]!;
  expect(sig.status).toBe('invalid');
  expect(sig.modificationsAfter).toBe('disallowed');
  expect(sig.reasons.join(' | ')).toMatch(why);
}

// ---------------------------------------------------------------------------------------------

describe('an update whose /Prev skips the signed revision', () => {
  const cases: { name: string; input: InputName; opts?: { certify?: 2; field?: string } }[] = [
    { name: 'approval signature, classic table', input: 'classic-1.3' },
    { name: 'approval signature in a prepared field', input: 'acroform', opts: { field: 'applicant-signature' } },
    { name: 'certification (P=2)', input: 'acroform', opts: { certify: 2, field: 'issuer-certification' } },
  ];
  for (const c of cases) {
    it(`is disallowed: the update does not build on what was signed (${c.name})`, async () => {
      const signed = await signedInput(c.input, c.opts);
      const attacked = prevSkipsSignatureRevision(signed);
      expect(Buffer.from(attacked.subarray(0, signed.length)).equals(Buffer.from(signed))).toBe(true);
      expectNotValid(await verify(attacked), /does not build on the signed revision/);
    });
  }

  for (const input of ['classic-1.3', 'objstm-1.5', 'hybrid', 'linearized', 'incremental-1.7'] as InputName[]) {
    it(`a second signature builds on the first one's revision: both valid (${input})`, async () => {
      const twice = await signPdf(await signedInput(input), { signer: pki.signer });
      const r = await verify(twice);
      expect(r.signatures.map((s) => s.status)).toEqual(['valid', 'valid']);
      expect(r.signatures[0]!.modificationsAfter).toBe('allowed');
    });
  }
});
