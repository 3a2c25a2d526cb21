/**
 * Certification signatures (DocMDP, ISO 32000-2 §12.8.2.2): P=1 permits nothing but DSS data and
 * document timestamps; P=2 also form filling and new signatures; P=3 also annotations. Content
 * changes stay disallowed at every level.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutoolSign, pdfsig } from '../interop/verifiers';
import { isSidianError } from '../../packages/core/src/errors';
import { signPdf } from '../../packages/core/src/sign/sign-pdf';
import { verifyPdf } from '../../packages/core/src/verify';
import type { VerificationReport } from '../../packages/core/src/verify/types';
import { makeTempDir, removeDir } from '../helpers/openssl-pki';
import { startOpensslTsa, type OpensslTsa } from '../helpers/tsa-shim';
import {
  addCoveringAnnotation,
  addDocumentTimestamp,
  addDss,
  addPage,
  appendSignature,
  cadesProducer,
  changeContentStream,
  createTestPki,
  fillTextField,
  loadInput,
  emptySneakyField,
  loadSealPng,
  sneakySignature,
  type SneakyWidget,
  type TestPki,
} from './generator';

let dir: string;
let pki: TestPki;
let tsa: OpensslTsa;
let anchors: string[];
const certified = new Map<number, Uint8Array>();

beforeAll(async () => {
  dir = makeTempDir('sidian-verify-cert-');
  pki = await createTestPki(dir);
  tsa = await startOpensslTsa(dir);
  anchors = [pki.ca.certPem, tsa.caPem];
  for (const p of [1, 2, 3] as const) {
    // the acroform input: text fields to fill and an empty signature field for a later signer
    certified.set(
      p,
      await signPdf(loadInput('acroform'), { signer: pki.signer, certify: p, field: 'issuer-certification' }),
    );
  }
});

afterAll(async () => {
  await tsa?.close();
  if (dir) removeDir(dir);
});

const verify = (pdf: Uint8Array): Promise<VerificationReport> => verifyPdf(pdf, { trustAnchors: anchors });

type Change =
  | 'dss'
  | 'document timestamp'
  | 'form filling'
  | 'new signature'
  | 'text annotation'
  | 'covering annotation'
  | 'content change'
  | 'new page';

async function apply(p: 1 | 2 | 3, change: Change): Promise<Uint8Array> {
  const base = certified.get(p)!;
  switch (change) {
    case 'dss':
      return addDss(base, { certs: [pki.leaf.certDer, pki.ca.certDer] });
    case 'document timestamp':
      return addDocumentTimestamp(base, tsa.url);
    case 'form filling':
      return fillTextField(base, 'applicant-name', 'Li Si');
    case 'new signature':
      // signPdf refuses after P=1 (tested below); the generator writes one regardless
      return p === 1
        ? (await appendSignature(base, { kind: 'cms', produce: cadesProducer(pki.signer) })).pdf
        : signPdf(base, { signer: pki.signer, field: 'applicant-signature' });
    case 'text annotation':
      return addCoveringAnnotation(base, 'Text');
    case 'covering annotation':
      return addCoveringAnnotation(base, 'Square');
    case 'content change':
      return changeContentStream(base);
    case 'new page':
      return addPage(base);
  }
}

const EXPECTED: Record<Change, [1 | 2 | 3, 'allowed' | 'disallowed'][]> = {
  dss: [
    [1, 'allowed'],
    [2, 'allowed'],
    [3, 'allowed'],
  ],
  'document timestamp': [
    [1, 'allowed'],
    [2, 'allowed'],
    [3, 'allowed'],
  ],
  'form filling': [
    [1, 'disallowed'],
    [2, 'allowed'],
    [3, 'allowed'],
  ],
  'new signature': [
    [1, 'disallowed'],
    [2, 'allowed'],
    [3, 'allowed'],
  ],
  'text annotation': [
    [1, 'disallowed'],
    [2, 'disallowed'],
    [3, 'allowed'],
  ],
  'covering annotation': [
    [1, 'disallowed'],
    [2, 'disallowed'],
    [3, 'allowed'],
  ],
  'content change': [
    [1, 'disallowed'],
    [2, 'disallowed'],
    [3, 'disallowed'],
  ],
  'new page': [
    [1, 'disallowed'],
    [2, 'disallowed'],
    [3, 'disallowed'],
  ],
};

describe('DocMDP permissions after a certification signature', () => {
  it('the certified files verify, as certification signatures with their P', async () => {
    for (const p of [1, 2, 3] as const) {
      const r = await verify(certified.get(p)!);
      expect(r.status).toBe('valid');
      expect(r.signatures[0]!.kind).toBe('certification');
      expect(r.signatures[0]!.docMdp).toBe(p);
    }
  });

  for (const [change, byP] of Object.entries(EXPECTED) as [
    Change,
    [1 | 2 | 3, 'allowed' | 'disallowed'][],
  ][]) {
    for (const [p, verdict] of byP) {
      it(`P=${p}: ${change} is ${verdict}`, async () => {
        const r = await verify(await apply(p, change));
        const cert = r.signatures[0]!;
        expect(cert.kind).toBe('certification');
        expect(cert.integrity).toBe('ok');
        expect(cert.modificationsAfter, cert.reasons.join(' | ')).toBe(verdict);
        expect(r.status).toBe(verdict === 'allowed' ? 'valid' : 'invalid');
      });
    }
  }

  it('P=1: signPdf refuses to sign (SIGN_LOCKED)', async () => {
    const err = await signPdf(certified.get(1)!, { signer: pki.signer }).catch((e: unknown) => e);
    expect(isSidianError(err) && err.code).toBe('SIGN_LOCKED');
    const err2 = await signPdf(certified.get(1)!, { signer: pki.signer, field: 'applicant-signature' }).catch(
      (e: unknown) => e,
    );
    expect(isSidianError(err2) && err2.code).toBe('SIGN_LOCKED');
  });

  it('P=1: DSS and then a document timestamp (B-LTA) are both allowed', async () => {
    const r = await verify(
      await addDocumentTimestamp(addDss(certified.get(1)!, { certs: [pki.ca.certDer] }), tsa.url),
    );
    expect(r.status).toBe('valid');
    expect(r.signatures.map((s) => s.kind)).toEqual(['certification', 'document-timestamp']);
  });

  it('P=2: fill the form, then sign the prepared field: both steps allowed', async () => {
    const filled = fillTextField(certified.get(2)!, 'applicant-name', 'Li Si');
    const r = await verify(await signPdf(filled, { signer: pki.signer, field: 'applicant-signature' }));
    expect(r.status).toBe('valid');
    expect(r.signatures.map((s) => [s.kind, s.modificationsAfter])).toEqual([
      ['certification', 'allowed'],
      ['approval', 'none'],
    ]);
  });

  it('P=2: an annotation added after a later approval signature still breaks the certification', async () => {
    const signedAgain = await signPdf(certified.get(2)!, {
      signer: pki.signer,
      field: 'applicant-signature',
    });
    const r = await verify(addCoveringAnnotation(signedAgain, 'Text'));
    expect(r.signatures[0]!.modificationsAfter).toBe('disallowed');
    expect(r.status).toBe('invalid');
  });

  it('P=2 with prepared fields: the certifier adds empty seal fields, two later seals fill them, all three valid in verifyPdf, pdfsig and mutool', async () => {
    const seal = loadSealPng();
    const rect = (i: number) => ({ x: 20 + i * 130, y: 20, width: 110, height: 110 });
    const cert = await signPdf(loadInput('classic-1.3'), {
      signer: pki.signer,
      certify: 2,
      image: seal,
      rect: rect(0),
      prepareFields: [
        { name: 'seal-b', rect: rect(1) },
        { name: 'seal-c', rect: rect(2) },
      ],
    });
    const b = await signPdf(cert, { signer: pki.signer, image: seal, field: 'seal-b' });
    const c = await signPdf(b, { signer: pki.signer, image: seal, field: 'seal-c' });
    const r = await verify(c);
    expect(r.status).toBe('valid');
    expect(r.signatures.map((s) => [s.field, s.kind, s.status])).toEqual([
      ['seal-1', 'certification', 'valid'],
      ['seal-b', 'approval', 'valid'],
      ['seal-c', 'approval', 'valid'],
    ]);
    const file = path.join(dir, 'prepared.pdf');
    writeFileSync(file, c);
    expect(pdfsig(file).map((x) => x.valid)).toEqual([true, true, true]);
    expect(mutoolSign(file).filter((x) => x.valid)).toHaveLength(3);
    // a taken name or a rectangle off the page is refused before anything is signed
    for (const prepareFields of [
      [{ name: 'seal-b', rect: rect(1) }],
      [{ name: 'x', rect: { x: 5000, y: 0, width: 10, height: 10 } }],
    ]) {
      const err = await signPdf(b, { signer: pki.signer, prepareFields }).catch((e: unknown) => e);
      expect(isSidianError(err) && err.code).toMatch(/SIGN_FIELD_EXISTS|SIGN_RECT_OUTSIDE_PAGE/);
    }
    // without a prepared field, a third visible seal has nowhere to go under P=2
    const err = await signPdf(c, { signer: pki.signer, image: seal }).catch((e: unknown) => e);
    expect(isSidianError(err) && err.code).toBe('SIGN_LOCKED');
  });

  it('only the first signature may certify (SIGN_CERTIFY_NOT_FIRST)', async () => {
    const approval = await signPdf(loadInput('classic-1.3'), { signer: pki.signer });
    const err = await signPdf(approval, { signer: pki.signer, certify: 2 }).catch((e: unknown) => e);
    expect(isSidianError(err) && err.code).toBe('SIGN_CERTIFY_NOT_FIRST');
  });
});

describe('Sneaky Signature Attack: a new signature field drawn over certified content', () => {
  // What each widget makes of the certification, by P. Hidden, zero-size or appearance-less widgets
  // draw nothing; NoView still prints.
  const CASES: [SneakyWidget, 2 | 3, 'allowed' | 'disallowed'][] = [
    ['visible', 2, 'disallowed'],
    ['noview-flag', 2, 'disallowed'],
    ['hidden-flag', 2, 'allowed'],
    ['zero-rect', 2, 'allowed'],
    ['no-appearance', 2, 'allowed'],
    ['visible', 3, 'allowed'],
  ];
  for (const [widget, p, verdict] of CASES) {
    it(`P=${p}: a new signature whose widget is ${widget}: ${verdict}`, async () => {
      const r = await verify(
        await sneakySignature(certified.get(p)!, widget, { kind: 'cms', signer: pki.signer }),
      );
      const [cert, added] = r.signatures;
      expect(cert!.kind).toBe('certification');
      expect(cert!.integrity).toBe('ok');
      expect(cert!.modificationsAfter, cert!.reasons.join(' | ')).toBe(verdict);
      if (verdict === 'disallowed') expect(cert!.reasons.join(' ')).toMatch(/Sneaky Signature Attack/);
      // the added signature is genuine over its own revision: only the certification is broken
      expect(added!.integrity).toBe('ok');
      expect(added!.modificationsAfter).toBe('none');
      expect(r.status).toBe(verdict === 'allowed' ? 'valid' : 'invalid');
    });
  }

  it('P=1 and P=2: a visible document timestamp field is disallowed as well; an invisible one is allowed', async () => {
    for (const p of [1, 2] as const) {
      const visible = await verify(
        await sneakySignature(certified.get(p)!, 'visible', { kind: 'doc-timestamp', tsa: tsa.url }),
      );
      expect(visible.signatures[0]!.modificationsAfter, `P=${p}`).toBe('disallowed');
      const invisible = await verify(
        await sneakySignature(certified.get(p)!, 'zero-rect', { kind: 'doc-timestamp', tsa: tsa.url }),
      );
      expect(
        invisible.signatures[0]!.modificationsAfter,
        `P=${p}: ${invisible.signatures[0]!.reasons.join(' | ')}`,
      ).toBe('allowed');
      expect(invisible.status).toBe('valid');
    }
  });

  it('approval signatures only (no certification): a later visible signature stays allowed', async () => {
    const approved = await signPdf(loadInput('acroform'), { signer: pki.signer });
    const r = await verify(await sneakySignature(approved, 'visible', { kind: 'cms', signer: pki.signer }));
    expect(r.signatures[0]!.modificationsAfter, r.signatures[0]!.reasons.join(' | ')).toBe('allowed');
    expect(r.status).toBe('valid');
  });

  it('an empty signature field that draws over the page is an annotation: disallowed after an approval signature and under P=2, allowed under P=3; an invisible one is allowed', async () => {
    const approved = await signPdf(loadInput('acroform'), { signer: pki.signer });
    for (const [base, widget, verdict] of [
      [approved, 'visible', 'disallowed'],
      [approved, 'zero-rect', 'allowed'],
      [approved, 'no-appearance', 'allowed'],
      [certified.get(2)!, 'visible', 'disallowed'],
      [certified.get(2)!, 'hidden-flag', 'allowed'],
      [certified.get(3)!, 'visible', 'allowed'],
    ] as const) {
      const r = await verify(emptySneakyField(base, widget));
      expect(r.signatures[0]!.modificationsAfter, `${widget}: ${r.signatures[0]!.reasons.join(' | ')}`).toBe(
        verdict,
      );
    }
  });

  it('signPdf after P=2: a seal in a new field is refused (SIGN_LOCKED, naming the prepared field); invisible or in the prepared field it signs', async () => {
    const seal = loadSealPng();
    const err = await signPdf(certified.get(2)!, { signer: pki.signer, image: seal }).catch(
      (e: unknown) => e,
    );
    expect(isSidianError(err) && err.code).toBe('SIGN_LOCKED');
    expect((err as Error).message).toContain('"applicant-signature"');
    for (const pdf of [
      await signPdf(certified.get(2)!, { signer: pki.signer }),
      await signPdf(certified.get(2)!, { signer: pki.signer, image: seal, field: 'applicant-signature' }),
    ]) {
      const r = await verify(pdf);
      expect(r.signatures.map((s) => [s.kind, s.status])).toEqual([
        ['certification', 'valid'],
        ['approval', 'valid'],
      ]);
    }
    // P=3 permits annotations, so a seal in a new field too
    const r3 = await verify(await signPdf(certified.get(3)!, { signer: pki.signer, image: seal }));
    expect(r3.status).toBe('valid');
  });
});
