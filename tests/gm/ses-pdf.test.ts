/**
 * PDF sealing with a GB/T 38540 seal (gm/ses/pdf.ts): an SM2 PAdES signature whose appearance is
 * the seal's picture and whose CMS carries the SESeal as a signed attribute; the verification
 * report shows the seal's name, type and validity, and fails when the seal is revoked, expired,
 * from an untrusted maker, not the signer's, or altered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeSeal,
  OID_SES_SEAL_ATTRIBUTE,
  parseSeal,
  sealPdf,
  verifySealedPdf,
} from '../../packages/core/src/gm/ses';
import { derOctetString } from '../../packages/core/src/pki/der';
import { signPdf } from '../../packages/core/src/sign/sign-pdf';
import { verifyPdf } from '../../packages/core/src/verify';
import { signerFromSm2 } from '../../packages/core/src/signer/sm2';
import type { Signer } from '../../packages/core/src/signer/types';
import { createCa, issueCertificate, makeTempDir, removeDir, type Ca } from '../helpers/openssl-pki';
import { loadInput, loadSealPng } from '../verify/generator';

const DAY = 86_400_000;
let dir: string;
let ca: Ca;
let holder: Signer;
let stranger: Signer;
let maker: Signer;
let seal: Uint8Array;

beforeAll(async () => {
  dir = makeTempDir('sidian-ses-pdf-');
  ca = createCa(dir, { name: 'ca', key: 'sm2', subject: '/C=CN/O=四电测试/CN=四电 SM2 根 CA' });
  const m = issueCertificate(ca, { name: 'maker', key: 'sm2', subject: '/C=CN/CN=四电制章者', days: 30 });
  const h = issueCertificate(ca, { name: 'holder', key: 'sm2', subject: '/C=CN/CN=四电测试局', days: 30 });
  const x = issueCertificate(ca, { name: 'stranger', key: 'sm2', subject: '/C=CN/CN=另一局', days: 30 });
  maker = signerFromSm2(m.keyPkcs8, m.certDer, [ca.certDer]);
  holder = signerFromSm2(h.keyPkcs8, h.certDer, [ca.certDer]);
  stranger = signerFromSm2(x.keyPkcs8, x.certDer, [ca.certDer]);
  seal = await makeSeal({
    maker,
    name: '四电测试局公章',
    type: 1,
    holderCertificates: [h.certDer],
    picture: { type: 'PNG', data: loadSealPng(), width: 42, height: 42 },
    validStart: new Date(Date.now() - DAY),
    validEnd: new Date(Date.now() + 2 * DAY),
    esID: 'PDF-SEAL-1',
  });
});

afterAll(() => {
  if (dir) removeDir(dir);
});

const anchors = () => ({ trustAnchors: [ca.certPem], sealTrustAnchors: [ca.certPem] });

describe('PDF sealed with a GB/T 38540 seal', () => {
  let pdf: Uint8Array;
  beforeAll(async () => {
    pdf = await sealPdf(loadInput('classic-1.3'), { signer: holder, seal });
  });

  it("is an SM2 signature drawn with the seal's picture; the report shows the seal's name, type and validity", async () => {
    const r = await verifySealedPdf(pdf, anchors());
    expect(r.signatures[0]!.reasons).toEqual([]);
    expect(r.status).toBe('valid');
    const [sig] = r.signatures;
    expect(sig).toMatchObject({ algorithm: 'SM2-SM3', integrity: 'ok', trust: 'trusted' });
    expect(sig!.widgets).toHaveLength(1);
    const s = parseSeal(seal);
    expect(sig!.gbSeal).toMatchObject({
      esID: 'PDF-SEAL-1',
      name: '四电测试局公章',
      type: 1,
      validStart: s.property.validStart.toISOString(),
      validEnd: s.property.validEnd.toISOString(),
      status: 'valid',
      trust: 'trusted',
    });
    // the picture drawn is the seal's: its pixels went into an image XObject of the widget
    expect(new TextDecoder('latin1').decode(pdf)).toMatch(/\/Subtype\s*\/Image/);
  });

  it('a revoked seal makes the signature invalid', async () => {
    const r = await verifySealedPdf(pdf, {
      ...anchors(),
      sealStatus: async (x) =>
        x.esID === 'PDF-SEAL-1' ? { status: 'revoked', reason: '遗失' } : { status: 'unknown' },
    });
    expect(r.status).toBe('invalid');
    expect(r.signatures[0]!.gbSeal).toMatchObject({ status: 'invalid', trust: 'revoked' });
    expect(r.signatures[0]!.reasons.join('\n')).toContain('SES_SEAL_REVOKED');
  });

  it('an expired seal (verified after its validEnd) makes it invalid', async () => {
    const r = await verifySealedPdf(pdf, { ...anchors(), at: new Date(Date.now() + 3 * DAY) });
    expect(r.signatures[0]!.gbSeal!.problems.map((p) => p.code)).toEqual(['SES_SEAL_EXPIRED']);
    expect(r.status).toBe('invalid');
  });

  it('a seal from an untrusted maker makes it invalid; without seal anchors the signers anchors are used; verifyPdf reports it', async () => {
    const other = createCa(dir, { name: 'other', key: 'sm2' });
    const r = await verifySealedPdf(pdf, { trustAnchors: [ca.certPem], sealTrustAnchors: [other.certPem] });
    expect(r.signatures[0]!.gbSeal).toMatchObject({ trust: 'untrusted', status: 'invalid' });
    expect(r.status).toBe('invalid');
    // without sealTrustAnchors the signers' anchors serve for the maker too (here the same CA)
    const same = await verifySealedPdf(pdf, { trustAnchors: [ca.certPem] });
    expect(same.status).toBe('valid');
    expect(same.signatures[0]!.gbSeal).toMatchObject({ trust: 'trusted', status: 'valid' });
    // and verifyPdf itself reports the seal: no wrapper needed
    const plain = await verifyPdf(pdf, { trustAnchors: [other.certPem] });
    expect(plain.signatures[0]!.gbSeal).toMatchObject({ esID: 'PDF-SEAL-1', trust: 'untrusted' });
    expect(plain.status).toBe('invalid');
  });

  it("someone else's seal: refused when sealing, and invalid when put into the CMS by hand", async () => {
    await expect(sealPdf(loadInput('classic-1.3'), { signer: stranger, seal })).rejects.toMatchObject({
      code: 'SES_BAD_OPTIONS',
    });
    const forged = await signPdf(loadInput('classic-1.3'), {
      signer: stranger,
      image: loadSealPng(),
      extraSignedAttributes: [{ type: OID_SES_SEAL_ATTRIBUTE, values: [derOctetString(seal)] }],
    });
    const r = await verifySealedPdf(forged, anchors());
    expect(r.signatures[0]!.integrity).toBe('ok');
    expect(r.signatures[0]!.gbSeal!.problems.map((p) => p.code)).toEqual(['SES_SIGNER_NOT_IN_SEAL']);
    expect(r.status).toBe('invalid');
  });

  it('altering the seal inside the signature breaks the SM2 signature', async () => {
    const text = new TextDecoder('latin1').decode(pdf);
    const hex = Buffer.from('PDF-SEAL-1').toString('hex').toUpperCase();
    const at = text.toUpperCase().indexOf(hex);
    expect(at).toBeGreaterThan(0);
    const bad = pdf.slice();
    bad.set(new TextEncoder().encode(Buffer.from('PDF-SEAL-2').toString('hex')), at);
    const r = await verifySealedPdf(bad, anchors());
    expect(r.status).toBe('invalid');
    expect(r.signatures[0]!.integrity).not.toBe('ok');
  });

  it('a PDF signed without a seal is reported as before, with no gbSeal', async () => {
    const plain = await signPdf(loadInput('classic-1.3'), { signer: holder, image: loadSealPng() });
    const r = await verifySealedPdf(plain, anchors());
    expect(r.status).toBe('valid');
    expect(r.signatures[0]!.gbSeal).toBeUndefined();
  });
});
