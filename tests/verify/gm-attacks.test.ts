/**
 * The verifier's attack tests (attacks.test.ts) for SM2-signed files: a representative subset of
 * USF, signature wrapping, ISA, stripping and shadow attacks, each built from a document sealed by
 * an SM2 signer (SM3 digests). None may be reported `valid`; the forged SM2 signatures that
 * really verify over the bytes they name are caught by the structural checks, as for ECDSA.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestChunks } from '../../packages/core/src/digest';
import { signPdf } from '../../packages/core/src/sign/sign-pdf';
import { signerFromSm2 } from '../../packages/core/src/signer/sm2';
import type { Signer } from '../../packages/core/src/signer/types';
import { verifyPdf } from '../../packages/core/src/verify';
import { verifySignedData } from '../../packages/core/src/verify/cms-verify';
import type { VerificationReport } from '../../packages/core/src/verify/types';
import { createCa, issueCertificate, makeTempDir, removeDir } from '../helpers/openssl-pki';
import {
  ISA_VARIANTS,
  SHADOW,
  STRIP_VARIANTS,
  SWA_VARIANTS,
  USF_SIGNED_VARIANTS,
  USF_VARIANTS,
  isa,
  loadInput,
  stripNewestSignature,
  swa,
  usf,
  usfSigned,
  type AppendedSignature,
  type ShadowVariant,
} from './generator';

let dir: string;
let signer: Signer;
let anchors: string[];
let signed: Uint8Array;

beforeAll(async () => {
  dir = makeTempDir('sidian-verify-gm-attacks-');
  const ca = createCa(dir, { name: 'sm2-ca', key: 'sm2', subject: '/C=CN/O=四电测试/CN=四电 SM2 根 CA' });
  const leaf = issueCertificate(ca, {
    name: 'sm2-seal',
    key: 'sm2',
    subject: '/C=CN/O=四电测试局/CN=四电 SM2 印章',
  });
  signer = signerFromSm2(leaf.keyPkcs8, leaf.certDer, [ca.certDer]);
  anchors = [ca.certPem];
  signed = await signPdf(loadInput('classic-1.3'), { signer });
});

afterAll(() => {
  if (dir) removeDir(dir);
});

const verify = (pdf: Uint8Array): Promise<VerificationReport> => verifyPdf(pdf, { trustAnchors: anchors });

async function expectCryptographicallyValid(pdf: Uint8Array, forged: AppendedSignature): Promise<void> {
  const chunks = forged.digested.map(([s, e]) =>
    pdf.subarray(Math.max(0, Math.trunc(s)), Math.min(pdf.length, Math.trunc(e))),
  );
  const check = await verifySignedData(forged.contents, (h) => digestChunks(h, chunks));
  expect(check.integrity, check.reasons.join(' | ')).toBe('ok');
  expect(check.algorithm).toBe('SM2-SM3');
}

describe('SM2: Universal Signature Forgery', () => {
  it('the untouched SM2 document is valid (the baseline the attacks start from)', async () => {
    expect((await verify(signed)).status).toBe('valid');
  });
  for (const variant of USF_VARIANTS) {
    it(variant, async () => {
      const r = await verify(usf(signed, variant));
      expect(r.status).toBe('invalid');
      expect(r.signatures[0]!.integrity).not.toBe('ok');
    });
  }
  for (const variant of USF_SIGNED_VARIANTS) {
    it(`malformed /ByteRange "${variant}" with an SM2 signature valid over what a lenient reader hashes`, async () => {
      const forged = await usfSigned(loadInput('classic-1.3'), signer, variant);
      await expectCryptographicallyValid(forged.pdf, forged);
      const r = await verify(forged.pdf);
      expect(r.status).toBe('invalid');
      expect(r.signatures[0]!.integrity).toBe('malformed');
    });
  }
});

describe('SM2: Signature Wrapping', () => {
  for (const variant of SWA_VARIANTS) {
    it(variant, async () => {
      const { pdf, forged } = await swa(signed, signer, variant);
      if (forged) await expectCryptographicallyValid(pdf, forged);
      const r = await verify(pdf);
      expect(r.status).toBe('invalid');
      const wrapped = variant === 'one-dict-two-fields' ? r.signatures : [r.signatures.at(-1)!];
      for (const s of wrapped) expect(s.integrity, s.reasons.join(' | ')).not.toBe('ok');
    });
  }
});

describe('SM2: Incremental Saving Attack', () => {
  for (const variant of ISA_VARIANTS) {
    it(variant, async () => {
      const r = await verify(isa(signed, variant));
      expect(r.status).toBe('invalid');
      expect(r.signatures[0]!.modificationsAfter).toBe('disallowed');
    });
  }
});

describe('SM2: stripping and shadow attacks', () => {
  for (const variant of STRIP_VARIANTS) {
    it(`${variant}: the stripped SM2 signature is reported broken`, async () => {
      const twice = await signPdf(signed, { signer });
      expect((await verify(twice)).status).toBe('valid');
      const r = await verify(stripNewestSignature(twice, variant));
      expect(r.status).toBe('invalid');
      expect(r.signatures[0]!.integrity).toBe('ok');
      for (const s of r.signatures.slice(1)) expect(s.status).toBe('invalid');
    });
  }
  for (const [variant, attack] of Object.entries(SHADOW) as [
    ShadowVariant,
    (typeof SHADOW)[ShadowVariant],
  ][]) {
    it(`shadow ${variant}`, async () => {
      const pdf = await signPdf(attack.prepare(loadInput(attack.input)), { signer });
      expect((await verify(pdf)).status).toBe('valid');
      const r = await verify(attack.reveal(pdf));
      expect(r.status).toBe('invalid');
      expect(r.signatures[0]!.modificationsAfter).toBe('disallowed');
    });
  }
});
