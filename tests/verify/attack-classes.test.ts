/**
 * The attack classes of issue 14's second red team, each rebuilt by the generator in variants:
 * both kinds of cross-reference (classic table, cross-reference stream), approval and certified
 * (DocMDP P=2, and P=1 where it matters) bases, Sidian-signed and pyHanko-signed bases (the
 * pyHanko files of tests/corpus). Every one of them got `valid`, `trusted` (or `none`) before.
 * Where a viewer shows the difference, poppler (pdftotext) or MuPDF (mutool draw) is asked, so
 * that the test's claim about what a reader sees is concrete.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestChunks } from '../../packages/core/src/digest';
import { signPdf } from '../../packages/core/src/sign/sign-pdf';
import { verifyPdf } from '../../packages/core/src/verify';
import { verifySignedData } from '../../packages/core/src/verify/cms-verify';
import { verifyDetachedSignature } from '../../packages/core/src/verify/detached';
import type { SignatureReport, VerificationReport } from '../../packages/core/src/verify/types';
import { CORPUS_DIR } from '../fixtures/paths';
import { makeTempDir, removeDir } from '../helpers/openssl-pki';
import { startOpensslTsa, type OpensslTsa } from '../helpers/tsa-shim';
import {
  ACTION_KINDS,
  DISGUISED_TEXT,
  LINEARIZED_HONEST_TEXT,
  XREF_DAMAGES,
  actionSignatureField,
  addDocumentTimestamp,
  addDss,
  contentDisguisedAs,
  createTestPki,
  damagedWidgetUpdate,
  delimiterRedefinition,
  duplicateInObjectStream,
  fillChoiceField,
  fillTextField,
  linearizedPaddingAttack,
  findObjectNum,
  linearizedWithStreams,
  loadInput,
  pdfjsText,
  rawStreamUpdate,
  removeNewestSignatureFreed,
  rewriteDisguisedContent,
  rewriteStructuralObject,
  shareAppearanceDict,
  signRewritingSharedAppearance,
  signedPartOf,
  transplantSignature,
  viewerText,
  withChoiceField,
  withEncapsulatedContent,
  withUsageRights,
  type TestPki,
} from './generator';

let dir: string;
let pki: TestPki;
let tsa: OpensslTsa;
let anchors: string[];
/** The acroform input, as written (classic table) and rewritten with object streams (qpdf). */
const inputs: Record<Xref, Uint8Array> = {} as Record<Xref, Uint8Array>;

type Xref = 'table' | 'stream';
type Kind = 'approval' | 'certified P=2' | 'certified P=1';

const verify = (pdf: Uint8Array): Promise<VerificationReport> => verifyPdf(pdf, { trustAnchors: anchors });

/** Signs `pdf` as the base of an attack: an approval signature, or a certification. */
function signAs(pdf: Uint8Array, kind: Kind): Promise<Uint8Array> {
  if (kind === 'approval') return signPdf(pdf, { signer: pki.signer });
  return signPdf(pdf, {
    signer: pki.signer,
    certify: kind === 'certified P=2' ? 2 : 1,
    field: 'issuer-certification',
  });
}

const cache = new Map<string, Uint8Array>();
async function sidianBase(xref: Xref, kind: Kind): Promise<Uint8Array> {
  const key = `${xref}:${kind}`;
  if (!cache.has(key)) cache.set(key, await signAs(inputs[xref], kind));
  return cache.get(key)!;
}

/** pyHanko-signed files of the corpus: their newest signature is the base signature. */
const PYHANKO = {
  'pyHanko, xref streams': 'pyhanko/minimal-two-fields-signed-twice.pdf',
  'pyHanko, classic table': 'pyhanko/form-update-override-appearance-stream.pdf',
} as const;
type PyHanko = keyof typeof PYHANKO;
const pyhanko = (name: PyHanko) => new Uint8Array(readFileSync(path.join(CORPUS_DIR, PYHANKO[name])));

/** A base to attack and which of the final report's signatures is the base signature. */
interface Base {
  name: string;
  pdf: () => Promise<Uint8Array>;
  /** Index of the base signature in the report (signatures are ordered by where they end). */
  at: number;
}

const SIDIAN_BASES = (kinds: Kind[] = ['approval', 'certified P=2']): Base[] =>
  (['table', 'stream'] as Xref[]).flatMap((xref) =>
    kinds.map((kind) => ({
      name: `Sidian, ${kind}, ${xref === 'table' ? 'classic table' : 'xref stream'}`,
      pdf: () => sidianBase(xref, kind),
      at: 0,
    })),
  );
const PYHANKO_BASES: Base[] = (Object.keys(PYHANKO) as PyHanko[]).map((name) => ({
  name,
  pdf: async () => pyhanko(name),
  at: 1,
}));

/** The base signature's verdict must be `disallowed`, with `why` among its reasons. */
function expectDisallowed(r: VerificationReport, at: number, why: RegExp): SignatureReport {
  const sig = r.signatures[at]!;
  expect(sig.integrity).toBe('ok');
  expect(sig.modificationsAfter, sig.reasons.join(' | ')).toBe('disallowed');
  expect(sig.status).toBe('invalid');
  expect(sig.reasons.join(' | ')).toMatch(why);
  expect(r.status).toBe('invalid');
  return sig;
}

beforeAll(async () => {
  dir = makeTempDir('sidian-attack-classes-');
  pki = await createTestPki(dir);
  tsa = await startOpensslTsa(dir);
  anchors = [pki.ca.certPem, tsa.caPem];
  inputs.table = loadInput('acroform');
  const src = path.join(dir, 'acroform.pdf');
  const out = path.join(dir, 'acroform-objstm.pdf');
  writeFileSync(src, inputs.table);
  execFileSync('qpdf', ['--object-streams=generate', '--deterministic-id', src, out]);
  inputs.stream = new Uint8Array(readFileSync(out));
});

afterAll(async () => {
  await tsa?.close();
  if (dir) removeDir(dir);
});

it('the bases verify as they were signed', async () => {
  for (const base of SIDIAN_BASES(['approval', 'certified P=2', 'certified P=1'])) {
    const r = await verify(await base.pdf());
    expect(r.status, base.name).toBe('valid');
  }
  for (const base of PYHANKO_BASES) {
    const r = await verify(await base.pdf());
    expect(r.signatures[base.at]!.modificationsAfter, base.name).toBe('none');
    expect(r.signatures[base.at]!.integrity, base.name).toBe('ok');
  }
  expect(PdfKind(inputs.stream)).toBe('stream');
  expect(PdfKind(inputs.table)).toBe('table');
});

function PdfKind(pdf: Uint8Array): Xref {
  return Buffer.from(pdf).toString('latin1').includes('/Type /XRef') ? 'stream' : 'table';
}

// ---------------------------------------------------------------------------------------------

describe('1. signature transplant: a detached signature whose CMS carries the content', () => {
  const donors: Base[] = [
    { name: 'Sidian approval, classic table', pdf: () => sidianBase('table', 'approval'), at: 0 },
    {
      name: 'Sidian certification P=2, xref stream',
      pdf: () => sidianBase('stream', 'certified P=2'),
      at: 0,
    },
    ...PYHANKO_BASES,
  ];
  for (const donor of donors) {
    it(`the forged CMS (${donor.name}) verifies against its own eContent, and nowhere else`, async () => {
      const { signedBytes, cms } = signedPartOf(await donor.pdf());
      const forged = withEncapsulatedContent(cms, signedBytes);
      // cryptographically sound: checked against the content it carries, it is intact
      expect((await verifySignedData(forged, undefined)).integrity).toBe('ok');
      // as a detached signature over the same bytes it is malformed: detached means detached
      const detached = await verifySignedData(forged, (h) => digestChunks(h, [signedBytes]));
      expect(detached.integrity).toBe('malformed');
      const material = await verifyDetachedSignature(
        forged,
        { sha256: await digestChunks('SHA-256', [signedBytes]) },
        { trustAnchors: anchors },
      );
      expect(material.integrity).toBe('malformed');
      expect(material.reasons.join(' ')).toMatch(/encapsulated content/);
    });
    for (const target of ['classic-1.3', 'objstm-1.5'] as const) {
      for (const subFilter of ['ETSI.CAdES.detached', 'adbe.pkcs7.detached'] as const) {
        it(`from ${donor.name} onto ${target} as ${subFilter}: malformed, invalid`, async () => {
          const r = await verify(await transplantSignature(await donor.pdf(), loadInput(target), subFilter));
          const sig = r.signatures[r.signatures.length - 1]!;
          expect(sig.subFilter).toBe(subFilter);
          expect(sig.integrity).toBe('malformed');
          expect(sig.status).toBe('invalid');
          expect(sig.reasons.join(' ')).toMatch(/detached signature carries encapsulated content/);
          expect(r.status).toBe('invalid');
        });
      }
    }
  }
});

describe('2. object and cross-reference streams are judged like any object', () => {
  for (const type of ['ObjStm', 'XRef'] as const) {
    for (const xref of ['table', 'stream'] as Xref[]) {
      for (const kind of ['approval', 'certified P=2'] as Kind[]) {
        it(`page content that says /Type /${type}, rewritten after a ${kind} signature (${xref}): disallowed, and viewers show the new text`, async () => {
          const signed = await signAs(contentDisguisedAs(inputs[xref], type), kind);
          expect((await verify(signed)).status).toBe('valid');
          const attacked = rewriteDisguisedContent(signed);
          expectDisallowed(
            await verify(attacked),
            0,
            new RegExp(`object \\d+ \\(/${type}\\) of the signed revision was changed`),
          );
          expect(viewerText(signed, dir, 'poppler')).not.toContain(DISGUISED_TEXT);
          expect(viewerText(attacked, dir, 'poppler')).toContain(DISGUISED_TEXT);
          expect(await pdfjsText(attacked)).toContain(DISGUISED_TEXT);
        });
      }
    }
  }
  for (const base of [...SIDIAN_BASES().filter((b) => b.name.includes('stream')), PYHANKO_BASES[0]!]) {
    it(`the signed revision's own cross-reference stream object rewritten (${base.name}): disallowed`, async () => {
      const r = await verify(rewriteStructuralObject(await base.pdf(), 'XRef'));
      expectDisallowed(r, base.at, /\(\/XRef\) of the signed revision was changed/);
    });
  }
  it('freeing an object stream nothing refers to is bookkeeping; freeing one a page shows is a deletion', async () => {
    const signed = await sidianBase('stream', 'approval');
    const xrefStream = findObjectNum(signed, (d) => d.name('Type') === 'XRef');
    const r = await verify(rawStreamUpdate(signed, { free: [xrefStream] }));
    expect(r.signatures[0]!.modificationsAfter, r.signatures[0]!.reasons.join(' | ')).toBe('none');
    const disguised = await signAs(contentDisguisedAs(inputs.stream, 'ObjStm'), 'approval');
    const content = findObjectNum(disguised, (d) => d.name('Type') === 'ObjStm' && d.get('N') === 0);
    expectDisallowed(
      await verify(rawStreamUpdate(disguised, { free: [content] })),
      0,
      new RegExp(`object ${content} of the signed revision was deleted`),
    );
  });
  it("the signed revision's object stream rewritten (Sidian, xref stream): disallowed", async () => {
    const r = await verify(rewriteStructuralObject(await sidianBase('stream', 'approval'), 'ObjStm'));
    expectDisallowed(r, 0, /\(\/ObjStm\) of the signed revision was changed/);
  });
});

describe('3. a linearized original whose /L is reached after signing', () => {
  const linearized = (xref: Xref) =>
    xref === 'table' ? loadInput('linearized') : linearizedWithStreams(dir);
  for (const xref of ['table', 'stream'] as Xref[]) {
    for (const kind of ['approval', 'certified P=2'] as const) {
      for (const after of ['padding', 'DSS update, then padding'] as const) {
        it(`${kind}, ${xref === 'table' ? 'classic table' : 'xref stream'}, ${after}: disallowed; poppler shows what was not signed`, async () => {
          const sign = (pdf: Uint8Array) =>
            signPdf(pdf, { signer: pki.signer, certify: kind === 'approval' ? undefined : 2 });
          const { signed, attacked } = await linearizedPaddingAttack(
            linearized(xref),
            sign,
            after === 'padding' ? undefined : (s) => addDss(s, { certs: [pki.ca.certDer] }),
          );
          expect((await verify(signed)).status).toBe('valid');
          expect(viewerText(signed, dir, 'poppler')).toContain(LINEARIZED_HONEST_TEXT);
          // the concrete claim: poppler now reads only the first-page cross-reference
          expect(viewerText(attacked, dir, 'poppler')).not.toContain(LINEARIZED_HONEST_TEXT);
          expect(await pdfjsText(signed)).toContain(LINEARIZED_HONEST_TEXT);
          expect(await pdfjsText(attacked)).not.toContain(LINEARIZED_HONEST_TEXT);
          expectDisallowed(
            await verify(attacked),
            0,
            /exactly as long as its linearization dictionary's \/L/,
          );
        });
      }
    }
  }
  it('the same file one byte short of /L: a readable padding, not disallowed for it', async () => {
    const sign = (pdf: Uint8Array) => signPdf(pdf, { signer: pki.signer });
    const { attacked } = await linearizedPaddingAttack(loadInput('linearized'), sign);
    const short = attacked.subarray(0, attacked.length - 1);
    const r = await verify(short);
    expect(r.signatures[0]!.reasons.join(' ')).not.toMatch(/linearization/);
    expect(r.status).toBe('valid');
    expect(viewerText(short, dir, 'poppler')).toContain(LINEARIZED_HONEST_TEXT);
  });
});

describe('4. one object number twice in one new object stream', () => {
  for (const base of [...SIDIAN_BASES(), ...PYHANKO_BASES]) {
    for (const order of ['visible-first', 'visible-last'] as const) {
      it(`${base.name}, ${order}: disallowed`, async () => {
        const r = await verify(duplicateInObjectStream(await base.pdf(), order));
        expectDisallowed(r, base.at, /object \d+ is written twice in object stream \d+/);
      });
    }
  }
});

describe('5. object headers after a delimiter, found by MuPDF when it repairs an over-declared xref stream', () => {
  for (const base of [...SIDIAN_BASES(), ...PYHANKO_BASES]) {
    for (const delimiter of ['(x)', '[]', '>>'] as const) {
      it(`${base.name}, "${delimiter}N 0 obj": disallowed; MuPDF shows the redefinition`, async () => {
        const attacked = delimiterRedefinition(await base.pdf(), delimiter);
        expectDisallowed(await verify(attacked), base.at, /object \d+ is defined again at byte \d+/);
        if (base.at === 0) expect(viewerText(attacked, dir, 'mupdf')).toContain(DISGUISED_TEXT);
      });
    }
  }
});

describe('6. a new, invisible signature field whose widget carries actions', () => {
  for (const base of [...SIDIAN_BASES(), PYHANKO_BASES[0]!]) {
    for (const action of ACTION_KINDS) {
      for (const fill of ['empty', 'signed'] as const) {
        it(`${base.name}, ${action}, ${fill}: disallowed`, async () => {
          const r = await verify(
            await actionSignatureField(
              await base.pdf(),
              action,
              fill === 'empty' ? { kind: 'empty' } : { kind: 'cms', signer: pki.signer },
            ),
          );
          expectDisallowed(r, base.at, /carries actions .*: actions added after signing are not allowed/);
        });
      }
    }
  }
});

describe('7. under P=1, a new field filled with a document time-stamp', () => {
  for (const xref of ['table', 'stream'] as Xref[]) {
    for (const action of ACTION_KINDS) {
      it(`${xref}: a time-stamp field that carries ${action}: disallowed`, async () => {
        const r = await verify(
          await actionSignatureField(await sidianBase(xref, 'certified P=1'), action, {
            kind: 'doc-timestamp',
            tsa: tsa.url,
          }),
        );
        const sig = expectDisallowed(r, 0, /document timestamp field .* carries actions/);
        expect(sig.kind).toBe('certification');
        expect(r.signatures[1]!.kind).toBe('document-timestamp');
      });
    }
    it(`${xref}: a plain, invisible document time-stamp (B-LTA) stays allowed`, async () => {
      const r = await verify(await addDocumentTimestamp(await sidianBase(xref, 'certified P=1'), tsa.url));
      expect(r.signatures[0]!.modificationsAfter, r.signatures[0]!.reasons.join(' | ')).toBe('allowed');
      expect(r.status).toBe('valid');
    });
  }
});

describe('8. a later signature removed with its objects freed', () => {
  const twice: Base[] = [
    ...SIDIAN_BASES().map((b) => ({
      ...b,
      name: `${b.name}, then a second signature in a new field`,
      pdf: async () => signPdf(await b.pdf(), { signer: pki.signer }),
    })),
    { ...PYHANKO_BASES[0]!, at: 0 },
    { ...PYHANKO_BASES[1]!, at: 0 },
  ];
  for (const base of twice) {
    for (const mode of ['free', 'overwrite'] as const) {
      it(`${base.name}, ${mode}: reported, and the earlier signature is disallowed`, async () => {
        const signed = await base.pdf();
        const before = await verify(signed);
        const r = await verify(removeNewestSignatureFreed(signed, mode));
        expect(r.signatures.length).toBe(before.signatures.length);
        expectDisallowed(
          r,
          base.at,
          /a later signature \(signature dictionary \d+, signed up to byte \d+\) was removed from the document/,
        );
        const removed = r.signatures.find((s) => s.field.startsWith('(removed'))!;
        expect(removed.status).toBe('invalid');
        expect(removed.reasons.join(' ')).toMatch(
          mode === 'free' ? /its objects were freed/ : /overwritten with something else/,
        );
      });
    }
  }
});

describe('9. bytes after the signed revision that are not a readable update', () => {
  for (const base of [...SIDIAN_BASES(), ...PYHANKO_BASES]) {
    for (const damage of XREF_DAMAGES) {
      it(`${base.name}, ${damage}: never none, disallowed`, async () => {
        const attacked = damagedWidgetUpdate(await base.pdf(), damage);
        const r = await verify(attacked);
        expect(r.signatures[base.at]!.modificationsAfter).not.toBe('none');
        expectDisallowed(r, base.at, /./);
      });
    }
  }
  it('MuPDF shows the widget the damaged update redefines (the concrete claim)', async () => {
    const signed = await sidianBase('table', 'approval');
    const attacked = damagedWidgetUpdate(signed, 'unlisted-redefinition');
    expect(viewerText(signed, dir, 'mupdf')).not.toContain('AMOUNT 1,000,000');
    expect(viewerText(attacked, dir, 'mupdf')).toContain('AMOUNT 1,000,000');
  });
  it('an update that lists only a new object past the end of the file: disallowed, not none', async () => {
    const signed = await sidianBase('table', 'approval');
    const text = Buffer.from(signed).toString('latin1');
    const size = Number(/\/Size (\d+)/.exec(text.slice(text.lastIndexOf('trailer')))![1]);
    const prev = Number(/startxref\n(\d+)/.exec(text.slice(text.lastIndexOf('startxref')))![1]);
    const xrefAt = signed.length;
    const tail = `xref\n${size + 5} 1\n${String(signed.length + 50_000).padStart(10, '0')} 00000 n\r\ntrailer\n<< /Size ${size + 6} /Root ${/\/Root (\d+ \d+ R)/.exec(text.slice(text.lastIndexOf('trailer')))![1]} /Prev ${prev} >>\nstartxref\n${xrefAt}\n%%EOF\n`;
    const attacked = new Uint8Array(Buffer.from(text + tail, 'latin1'));
    expectDisallowed(await verify(attacked), 0, /past the end of the file/);
  });
});

describe('also wrong before', () => {
  for (const xref of ['table', 'stream'] as Xref[]) {
    for (const where of ['trailer', 'custom-key', 'info'] as const) {
      it(`an appearance dictionary shared with the ${where}, rewritten by a later signature's update (${xref}): disallowed`, async () => {
        const signed = await signAs(
          shareAppearanceDict(inputs[xref], 'applicant-signature', where),
          'approval',
        );
        const r = await verify(
          await signRewritingSharedAppearance(signed, 'applicant-signature', pki.signer),
        );
        expectDisallowed(r, 0, /shown elsewhere in the signed revision, was overwritten as the appearance/);
        expect(r.signatures[1]!.status).toBe('valid');
      });
    }
    it(`the same appearance dictionary, shared with nothing, rewritten while signing its field (${xref}): allowed`, async () => {
      const signed = await signAs(
        shareAppearanceDict(inputs[xref], 'applicant-signature', 'nowhere'),
        'approval',
      );
      const r = await verify(await signRewritingSharedAppearance(signed, 'applicant-signature', pki.signer));
      expect(r.signatures[0]!.modificationsAfter, r.signatures[0]!.reasons.join(' | ')).toBe('allowed');
      expect(r.status).toBe('valid');
    });

    for (const kind of ['approval', 'certified P=2'] as Kind[]) {
      it(`a Reader-extended form (/Perms /UR3) signed (${kind}, ${xref}), then filled: valid, UR3 not reported as a removed signature`, async () => {
        const signed = await signAs(withUsageRights(inputs[xref]), kind);
        const r = await verify(signed);
        expect(r.signatures.map((s) => s.field)).toEqual([
          kind === 'approval' ? 'signature-1' : 'issuer-certification',
        ]);
        expect(r.status).toBe('valid');
        const filled = await verify(fillTextField(signed, 'applicant-name', 'Li Si'));
        expect(filled.signatures[0]!.modificationsAfter).toBe('allowed');
        expect(filled.status).toBe('valid');
      });

      it(`filling a choice field (its /I changes with /V) after a ${kind} signature (${xref}): allowed; changing its options: disallowed`, async () => {
        const signed = await signAs(withChoiceField(inputs[xref]), kind);
        const r = await verify(fillChoiceField(signed, 'colour', 1));
        expect(r.signatures[0]!.modificationsAfter, r.signatures[0]!.reasons.join(' | ')).toBe('allowed');
        expect(r.status).toBe('valid');
        expectDisallowed(
          await verify(fillChoiceField(signed, 'colour', 0, ['FORGED', 'green', 'blue'])),
          0,
          /changed \/Opt/,
        );
      });
    }
    it(`a /Perms /UR3 entry added after signing (${xref}): disallowed (the catalog's /Perms changed)`, async () => {
      const signed = await sidianBase(xref, 'approval');
      expectDisallowed(await verify(withUsageRights(signed)), 0, /the catalog's \/Perms was changed/);
    });
  }
});
