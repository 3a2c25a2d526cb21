/**
 * The published PDF signature attacks (Mladenov et al. 2019: USF, SWA, ISA; Mainka et al. 2021:
 * shadow hide / replace / hide-and-replace), built by the generator from Sidian's own signed
 * files. None may be reported `valid`. Several attacks carry a cryptographically valid signature
 * by our test key over exactly the bytes a lenient verifier would hash: only the structural checks
 * (ByteRange sanity, modification analysis) stand in their way.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPdf } from '../../packages/core/src/sign/sign-pdf';
import { verifyPdf } from '../../packages/core/src/verify';
import { verifySignedData } from '../../packages/core/src/verify/cms-verify';
import { digestChunks } from '../../packages/core/src/digest';
import type { VerificationReport } from '../../packages/core/src/verify/types';
import { makeTempDir, removeDir } from '../helpers/openssl-pki';
import {
  ISA_VARIANTS,
  SHADOW,
  STRIP_VARIANTS,
  SWA_VARIANTS,
  USF_SIGNED_VARIANTS,
  USF_VARIANTS,
  createTestPki,
  isa,
  loadInput,
  stripNewestSignature,
  swa,
  usf,
  usfSigned,
  type AppendedSignature,
  type InputName,
  type ShadowVariant,
  type TestPki,
} from './generator';

let dir: string;
let pki: TestPki;
let anchors: string[];
const cache = new Map<string, Uint8Array>();

async function signedInput(name: InputName): Promise<Uint8Array> {
  let s = cache.get(name);
  if (!s) {
    s = await signPdf(loadInput(name), { signer: pki.signer });
    cache.set(name, s);
  }
  return s;
}

async function verify(pdf: Uint8Array): Promise<VerificationReport> {
  return verifyPdf(pdf, { trustAnchors: anchors });
}

/** The forged signature really verifies over the bytes it names: the CMS is not the weak point. */
async function expectCryptographicallyValid(pdf: Uint8Array, forged: AppendedSignature): Promise<void> {
  const chunks = forged.digested.map(([s, e]) =>
    pdf.subarray(Math.max(0, Math.trunc(s)), Math.min(pdf.length, Math.trunc(e))),
  );
  const check = await verifySignedData(forged.contents, (h) => digestChunks(h as 'SHA-256', chunks));
  expect(check.integrity, check.reasons.join(' | ')).toBe('ok');
}

beforeAll(async () => {
  dir = makeTempDir('sidian-verify-attacks-');
  pki = await createTestPki(dir);
  anchors = [pki.ca.certPem];
});

afterAll(() => {
  if (dir) removeDir(dir);
});

describe('Universal Signature Forgery', () => {
  for (const input of ['classic-1.3', 'objstm-1.5'] as InputName[]) {
    for (const variant of USF_VARIANTS) {
      it(`${variant} (${input})`, async () => {
        const r = await verify(usf(await signedInput(input), variant));
        expect(r.status).toBe('invalid');
        expect(r.signatures).toHaveLength(1);
        const sig = r.signatures[0]!;
        expect(sig.integrity, sig.reasons.join(' | ')).not.toBe('ok');
        expect(sig.status).toBe('invalid');
        expect(sig.reasons.length).toBeGreaterThan(0);
      });
    }
  }

  for (const variant of USF_SIGNED_VARIANTS) {
    it(`malformed /ByteRange "${variant}" with a signature valid over what a lenient reader hashes`, async () => {
      const forged = await usfSigned(loadInput('classic-1.3'), pki.signer, variant);
      await expectCryptographicallyValid(forged.pdf, forged);
      const r = await verify(forged.pdf);
      expect(r.status).toBe('invalid');
      expect(r.signatures[0]!.integrity).toBe('malformed');
    });

    it(`malformed /ByteRange "${variant}" as a second signature after a valid one`, async () => {
      const forged = await usfSigned(await signedInput('classic-1.3'), pki.signer, variant);
      const r = await verify(forged.pdf);
      expect(r.status).toBe('invalid');
      expect(r.signatures.at(-1)!.status).toBe('invalid');
    });
  }
});

describe('Signature Wrapping', () => {
  for (const variant of SWA_VARIANTS) {
    it(variant, async () => {
      const base = await signedInput('classic-1.3');
      const { pdf, forged } = await swa(base, pki.signer, variant);
      if (forged) await expectCryptographicallyValid(pdf, forged);
      const r = await verify(pdf);
      expect(r.status).toBe('invalid');
      // the wrapped (second) signature, or for a shared dictionary both fields, are invalid
      const wrapped = variant === 'one-dict-two-fields' ? r.signatures : [r.signatures.at(-1)!];
      for (const s of wrapped) {
        expect(s.status, s.reasons.join(' | ')).toBe('invalid');
        expect(s.integrity).not.toBe('ok');
      }
    });
  }

  for (const variant of ['gap-enlarged', 'gap-moved', 'dict-outside-signed-range'] as const) {
    it(`${variant}, as the document's only signature`, async () => {
      const { pdf, forged } = await swa(loadInput('classic-1.3'), pki.signer, variant);
      await expectCryptographicallyValid(pdf, forged!);
      const r = await verify(pdf);
      expect(r.status).toBe('invalid');
      expect(r.signatures[0]!.integrity).toBe('malformed');
    });
  }
});

describe('Incremental Saving Attack', () => {
  for (const input of ['classic-1.3', 'objstm-1.5'] as InputName[]) {
    for (const variant of ISA_VARIANTS) {
      it(`${variant} (${input})`, async () => {
        const r = await verify(isa(await signedInput(input), variant));
        expect(r.status).not.toBe('valid');
        expect(r.status).toBe('invalid');
        const sig = r.signatures[0]!;
        expect(sig.status).toBe('invalid');
        expect(sig.modificationsAfter, sig.reasons.join(' | ')).toBe('disallowed');
      });
    }
  }
});

describe('taking the newest signature out of the form', () => {
  for (const variant of STRIP_VARIANTS) {
    it(`${variant}: the stripped signature is reported broken, never silently dropped`, async () => {
      const twice = await signPdf(await signedInput('classic-1.3'), { signer: pki.signer });
      expect((await verify(twice)).status).toBe('valid');
      const r = await verify(stripNewestSignature(twice, variant));
      expect(r.status).toBe('invalid');
      // the intact first signature, then the stripped one (a dangling /V is reported both as the
      // field's broken value and as the dictionary no field names)
      expect(r.signatures.length).toBeGreaterThanOrEqual(2);
      expect(r.signatures[0]!.integrity).toBe('ok');
      for (const s of r.signatures.slice(1)) expect(s.status, s.reasons.join(' | ')).toBe('invalid');
    });
  }
});

describe('parser differentials', () => {
  it('MuPDF repairs the over-declared xref stream and shows the appended content: Sidian must not say valid', async () => {
    const pdf = isa(await signedInput('classic-1.3'), 'overdeclared-xref-stream');
    const file = path.join(dir, 'overdeclared.pdf');
    writeFileSync(file, pdf);
    const text = execFileSync('mutool', ['draw', '-F', 'txt', file], {
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    expect(text).toContain('PAID - nothing owed');
    const r = await verify(pdf);
    expect(r.status).toBe('invalid');
    expect(r.signatures[0]!.modificationsAfter).toBe('disallowed');
  });
});

describe('shadow attacks', () => {
  for (const [variant, attack] of Object.entries(SHADOW) as [
    ShadowVariant,
    (typeof SHADOW)[ShadowVariant],
  ][]) {
    it(variant, async () => {
      const signed = await signPdf(attack.prepare(loadInput(attack.input)), { signer: pki.signer });
      // the document as signed, hidden content and all, verifies
      expect((await verify(signed)).status).toBe('valid');
      const r = await verify(attack.reveal(signed));
      expect(r.status).toBe('invalid');
      const sig = r.signatures[0]!;
      expect(sig.integrity).toBe('ok');
      expect(sig.modificationsAfter, sig.reasons.join(' | ')).toBe('disallowed');
    });
  }

  it('hide (revealing an annotation of the signed revision) even under DocMDP P=3, which allows annotations', async () => {
    const attack = SHADOW['hide-reveal-annotation'];
    const signed = await signPdf(attack.prepare(loadInput(attack.input)), { signer: pki.signer, certify: 3 });
    const r = await verify(attack.reveal(signed));
    expect(r.signatures[0]!.kind).toBe('certification');
    expect(r.signatures[0]!.modificationsAfter).toBe('disallowed');
    expect(r.status).toBe('invalid');
  });

  it('replace (pointing a field at a hidden appearance) even under DocMDP P=2, which allows form filling', async () => {
    const attack = SHADOW['replace-field-appearance'];
    const signed = await signPdf(attack.prepare(loadInput(attack.input)), { signer: pki.signer, certify: 2 });
    const r = await verify(attack.reveal(signed));
    expect(r.signatures[0]!.modificationsAfter).toBe('disallowed');
    expect(r.status).toBe('invalid');
  });
});
