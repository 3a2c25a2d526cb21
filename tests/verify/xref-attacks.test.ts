/**
 * Attacks on the cross-reference structure itself (red-team findings): an update whose /Prev skips
 * the signed revision, hybrid-reference sections whose classic table and /XRefStm disagree, an
 * /XRefStm entry naming the wrong slot of an object stream, and object markers that make every
 * fallback parse run to the end of the file. Each is a hand-written incremental update appended to
 * a file Sidian signed; none may be reported `valid`, and none may take long to judge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSidianError } from '../../packages/core/src/errors';
import { PdfDocument } from '../../packages/core/src/pdf/document';
import { PdfDict, PdfRef } from '../../packages/core/src/pdf/objects';
import { serialize } from '../../packages/core/src/pdf/writer';
import { listFields } from '../../packages/core/src/sign/fields';
import { signPdf } from '../../packages/core/src/sign/sign-pdf';
import { verifyPdf } from '../../packages/core/src/verify';
import type { VerificationReport } from '../../packages/core/src/verify/types';
import { makeTempDir, removeDir } from '../helpers/openssl-pki';
import { createTestPki, loadInput, rawUpdate, type InputName, type RawEntry, type TestPki } from './generator';

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

/**
 * Red team run2: a hybrid-reference update. Its /XRefStm puts the signed field `fieldName` (its
 * own bytes, unchanged) into a new object stream. In 'free-in-table' the classic table marks the
 * field free (MuPDF honours the table: the field disappears); in 'wrong-index' the stream entry
 * names slot 1 of the object stream, which holds another object (poppler requires the slot to
 * match: the field is unreadable there).
 */
function hybridAttack(signed: Uint8Array, fieldName: string, mode: 'free-in-table' | 'wrong-index'): Uint8Array {
  const view = PdfDocument.load(signed).latest;
  const W = listFields(view).find((f) => f.fullName === fieldName)!.ref!.num;
  const S = view.size; // the object stream
  const X = S + 1; // the xref stream
  const D = S + 2; // a dummy object in slot 1 ('wrong-index')
  const wBody = serialize(view.get(W)!);
  const header = mode === 'wrong-index' ? `${W} 0 ${D} ${wBody.length + 1} ` : `${W} 0 `;
  const data = header + wBody + (mode === 'wrong-index' ? ' << /Dummy true >>' : '');
  const objstm = obj(S, `<< /Type /ObjStm /N ${mode === 'wrong-index' ? 2 : 1} /First ${header.length} /Length ${data.length} >>\nstream\n${data}\nendstream`);
  const row = String.fromCharCode(2, (S >> 8) & 255, S & 255, 0, mode === 'wrong-index' ? 1 : 0);
  const xstm = obj(X, `<< /Type /XRef /Size ${D + 1} /W [1 2 2] /Index [${W} 1] /Length ${row.length} >>\nstream\n${row}\nendstream`);
  const lead = signed[signed.length - 1] === 0x0a ? '' : '\n';
  const xstmAt = signed.length + lead.length + objstm.length;
  const entries: RawEntry[] = [
    { num: S, body: objstm },
    { num: X, body: xstm },
  ];
  if (mode === 'free-in-table') entries.push({ num: W, free: true, gen: 1 });
  return rawUpdate(signed, entries, { trailerExtra: ` /XRefStm ${xstmAt}` });
}

/**
 * Red team dos2/dos3: object `num` re-declared at a marker whose body does not parse, followed by
 * `k` more markers `num 0 obj (` — each an unterminated string that a parse follows to the end of
 * the file.
 */
function markerFlood(signed: Uint8Array, num: number, k: number): Uint8Array {
  return rawUpdate(signed, [{ num, body: `${num} 0 obj (\n`.repeat(k) }]);
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

describe('hybrid-reference updates', () => {
  for (const [name, opts] of [
    ['approval', {}],
    ['certification (P=2)', { certify: 2 as const, field: 'issuer-certification' }],
  ] as const) {
    it(`a signed object freed in the table but re-declared by /XRefStm is a conflict (${name})`, async () => {
      const r = await verify(hybridAttack(await signedInput('acroform', opts), 'applicant-name', 'free-in-table'));
      expectNotValid(r, /object \d+ is free in the cross-reference table .* but its \/XRefStm declares it/);
    });

    it(`an /XRefStm entry naming the wrong slot of an object stream: the signature is still reported, invalid (${name})`, async () => {
      // the form of the final revision cannot be read; the signed revision before it can
      const r = await verify(hybridAttack(await signedInput('acroform', opts), 'applicant-name', 'wrong-index'));
      expectNotValid(r, /the update written after byte \d+ cannot be read \(object \d+ is not at index 1 of object stream \d+\)/);
      expect(r.signatures[0]!.integrity).toBe('ok');
    });
  }
});

describe('an update whose form cannot be read', () => {
  it('on an unsigned file: unreadable, as a typed error that names the broken object', async () => {
    const unsigned = hybridAttack(loadInput('acroform'), 'applicant-name', 'wrong-index');
    const error = await verify(unsigned).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSidianError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('VERIFY_UNREADABLE');
    expect((error as Error).message).toMatch(/cannot be read in full: the update written after byte \d+ cannot be read \(object \d+ is not at index 1/);
  });

  it('after two signatures: both are still reported, each invalid, and why', async () => {
    const twice = await signPdf(await signedInput('acroform'), { signer: pki.signer, field: 'applicant-signature' });
    const r = await verify(hybridAttack(twice, 'applicant-name', 'wrong-index'));
    expect(r.signatures.map((x) => [x.integrity, x.status, x.modificationsAfter])).toEqual([
      ['ok', 'invalid', 'disallowed'],
      ['ok', 'invalid', 'disallowed'],
    ]);
    for (const x of r.signatures) expect(x.reasons.join(' | ')).toMatch(/cannot be read/);
  });
});

describe('object markers that make fallback parses run to the end of the file', () => {
  const timed = async (pdf: Uint8Array) => {
    const t0 = Date.now();
    let report: VerificationReport | undefined;
    let error: unknown;
    try {
      report = await verify(pdf);
    } catch (e) {
      error = e;
    }
    return { report, error, ms: Date.now() - t0 };
  };

  it('20 000 markers of a re-declared /Info: judged quickly and not valid', async () => {
    const signed = await signedInput('classic-1.3');
    const info = (PdfDocument.load(signed).latest.trailer.get('Info') as PdfRef).num;
    const { report, error, ms } = await timed(markerFlood(signed, info, 20_000));
    expect(error, String(error)).toBeUndefined();
    expectNotValid(report!, /object \d+/);
    expect(ms).toBeLessThan(5_000);
  }, 30_000);

  it('10 000 markers of a re-declared catalog: unreadable quickly, as a typed error', async () => {
    const signed = await signedInput('classic-1.3');
    const root = (PdfDocument.load(signed).latest.trailer.get('Root') as PdfRef).num;
    const { report, error, ms } = await timed(markerFlood(signed, root, 10_000));
    if (error) {
      expect(isSidianError(error)).toBe(true);
      expect((error as { code: string }).code).not.toBe('LIMIT_EXCEEDED');
    } else expect(report!.status).not.toBe('valid');
    expect(ms).toBeLessThan(5_000);
  }, 30_000);
});
