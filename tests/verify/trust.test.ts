/**
 * Trust and time (DESIGN.md "The verification path", steps 2-4) with a real openssl PKI and a
 * real RFC 3161 TSA: trust anchors, digest mismatch, validity periods, key usage, revocation by
 * CRL (given, or embedded in a DSS), the timestamp's time as the validation time, and timestamp
 * tokens checked for both their imprint and the TSA's signature.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestTimestamp } from '../../packages/core/src/cms/tsa';
import { signPdf } from '../../packages/core/src/sign/sign-pdf';
import { verifyPdf } from '../../packages/core/src/verify';
import { verifySignedData } from '../../packages/core/src/verify/cms-verify';
import type { VerificationReport, VerifyOptions } from '../../packages/core/src/verify/types';
import {
  createCa,
  issueCertificate,
  issueExpiredCertificate,
  issueNotYetValidCertificate,
  makeTempDir,
  openssl,
  removeDir,
} from '../helpers/openssl-pki';
import { startOpensslTsa, type OpensslTsa } from '../helpers/tsa-shim';
import {
  addDocumentTimestamp,
  addDss,
  appendSignature,
  cadesWithToken,
  createTestPki,
  flipLastByte,
  hex,
  hexToBytes,
  issueWithKeyUsage,
  loadInput,
  locateSignature,
  makeCrl,
  pkiFor,
  revokeAndMakeCrl,
  sha256,
  type TestPki,
} from './generator';

const DAY = 86400_000;
let dir: string;
let pki: TestPki;
let tsa: OpensslTsa;
let anchors: string[];
let signed: Uint8Array;

beforeAll(async () => {
  dir = makeTempDir('sidian-verify-trust-');
  pki = await createTestPki(dir);
  tsa = await startOpensslTsa(dir);
  anchors = [pki.ca.certPem, tsa.caPem];
  signed = await signPdf(loadInput('classic-1.3'), { signer: pki.signer });
});

afterAll(async () => {
  await tsa?.close();
  if (dir) removeDir(dir);
});

const verify = (
  pdf: Uint8Array,
  options: VerifyOptions = { trustAnchors: anchors },
): Promise<VerificationReport> => verifyPdf(pdf, options);
const classic = () => loadInput('classic-1.3');

describe('trust anchors and integrity', () => {
  it("Sidian's own signed file: valid and trusted with the CA as anchor", async () => {
    const r = await verify(signed);
    expect(r.status).toBe('valid');
    const s = r.signatures[0]!;
    expect(s).toMatchObject({
      integrity: 'ok',
      coverage: 'whole-document',
      modificationsAfter: 'none',
      trust: 'trusted',
      status: 'valid',
      level: 'B-B',
    });
    expect(s.signer?.commonName).toBe('四电测试印章');
    expect(s.signer?.organization).toBe('四电测试局');
    expect(s.reasons).toEqual([]);
  });

  it('without the CA: indeterminate, untrusted', async () => {
    for (const options of [{}, { trustAnchors: [tsa.caPem] }]) {
      const r = await verify(signed, options);
      expect(r.status).toBe('indeterminate');
      expect(r.signatures[0]!.trust).toBe('untrusted');
      expect(r.signatures[0]!.integrity).toBe('ok');
    }
  });

  it('anchors given as DER work like PEM', async () => {
    const r = await verify(signed, { trustAnchors: [pki.ca.certDer] });
    expect(r.signatures[0]!.trust).toBe('trusted');
  });

  it('one flipped byte of signed content: invalid, digest-mismatch (in either signed range)', async () => {
    const text = Buffer.from(signed);
    const { values } = locateSignature(signed);
    const inFirst = text.indexOf('Sidian fixture');
    const inSecond = text.indexOf('(D:', values[2]) + 5; // a digit of the claimed signing time, after /Contents
    expect(inFirst).toBeLessThan(values[1]);
    expect(inSecond).toBeGreaterThan(values[2]);
    for (const at of [inFirst, inSecond]) {
      const flipped = signed.slice();
      flipped[at]! ^= 0x01;
      const r = await verify(flipped);
      expect(r.status).toBe('invalid');
      expect(r.signatures[0]!.integrity).toBe('digest-mismatch');
      expect(r.signatures[0]!.status).toBe('invalid');
    }
  });
});

describe('validity periods', () => {
  it('a certificate that expired before the validation time: trust expired', async () => {
    const cert = issueExpiredCertificate(pki.ca, { name: 'expired', subject: '/C=CN/CN=Expired Seal' });
    const p = await pkiFor(dir, pki.ca, cert);
    // signed (as claimed) while the certificate was valid, verified now
    const pdf = await signPdf(classic(), {
      signer: p.signer,
      signingTime: new Date(Date.now() - 1.5 * 365 * DAY),
    });
    const r = await verify(pdf);
    expect(r.signatures[0]!.integrity).toBe('ok');
    expect(r.signatures[0]!.trust).toBe('expired');
    expect(r.status).toBe('indeterminate');
  });

  it('a certificate not yet valid at the validation time: trust expired (outside its validity)', async () => {
    const cert = issueNotYetValidCertificate(pki.ca, { name: 'future', subject: '/C=CN/CN=Future Seal' });
    const p = await pkiFor(dir, pki.ca, cert);
    const pdf = await signPdf(classic(), { signer: p.signer, signingTime: new Date(Date.now() + 31 * DAY) });
    const r = await verify(pdf);
    expect(r.signatures[0]!.trust).toBe('expired');
    expect(r.signatures[0]!.reasons.join(' ')).toMatch(/not yet valid/);
    expect(r.status).toBe('indeterminate');
  });

  it('a valid certificate verified at a later validationTime, after it expired: trust expired', async () => {
    const r = await verify(signed, {
      trustAnchors: anchors,
      validationTime: new Date(Date.now() + 3 * 365 * DAY),
    });
    expect(r.signatures[0]!.trust).toBe('expired');
    const before = await verify(signed, {
      trustAnchors: anchors,
      validationTime: new Date(Date.now() + 30 * DAY),
    });
    expect(before.signatures[0]!.trust).toBe('trusted');
  });
});

describe('key usage', () => {
  it('a leaf with keyEncipherment only: not trusted', async () => {
    const cert = issueWithKeyUsage(pki.ca, 'keyenc', 'keyEncipherment');
    const p = await pkiFor(dir, pki.ca, cert);
    const r = await verify(await signPdf(classic(), { signer: p.signer }));
    expect(r.signatures[0]!.integrity).toBe('ok');
    expect(r.signatures[0]!.trust).toBe('untrusted');
    expect(r.signatures[0]!.reasons.join(' ')).toMatch(/key usage/);
    expect(r.status).toBe('indeterminate');
  });

  it('a CA certificate (keyCertSign, cRLSign) used to sign a document: not trusted, even though it is the anchor', async () => {
    const ca = createCa(dir, {
      name: 'signing-ca',
      subject: '/C=CN/O=Sidian Test/CN=A CA that signs documents',
    });
    const p = await pkiFor(dir, ca, { ...ca, issuer: undefined });
    const r = await verify(await signPdf(classic(), { signer: p.signer }), { trustAnchors: [ca.certPem] });
    expect(r.signatures[0]!.trust).toBe('untrusted');
  });
});

describe('revocation', () => {
  let revokedPdf: Uint8Array;
  let crl: { pem: string; der: Uint8Array };

  beforeAll(async () => {
    const cert = issueCertificate(pki.ca, { name: 'to-revoke', subject: '/C=CN/CN=Revoked Seal' });
    const p = await pkiFor(dir, pki.ca, cert);
    revokedPdf = await signPdf(classic(), { signer: p.signer });
    crl = revokeAndMakeCrl(pki.ca, cert); // openssl ca -revoke, openssl ca -gencrl
  });

  it('a CRL given with the options (PEM and DER) that lists the signer: revoked', async () => {
    for (const c of [crl.pem, crl.der]) {
      const r = await verify(revokedPdf, { trustAnchors: anchors, crls: [c] });
      expect(r.signatures[0]!.trust).toBe('revoked');
      expect(r.status).toBe('indeterminate');
    }
    // without the CRL nothing says so
    expect((await verify(revokedPdf)).signatures[0]!.trust).toBe('trusted');
  });

  it('the same CRL embedded in a DSS /CRLs stream: revoked', async () => {
    const r = await verify(addDss(revokedPdf, { crls: [crl.der] }));
    expect(r.signatures[0]!.modificationsAfter).toBe('allowed');
    expect(r.signatures[0]!.trust).toBe('revoked');
  });

  it('a signer the CRL does not list stays trusted', async () => {
    const r = await verify(signed, { trustAnchors: anchors, crls: [crl.pem] });
    expect(r.signatures[0]!.trust).toBe('trusted');
    expect((await verify(addDss(signed, { crls: [crl.der] }))).signatures[0]!.trust).toBe('trusted');
  });

  it('a forged CRL (same issuer name, another key) listing the signer is ignored', async () => {
    const fake = createCa(dir, { name: 'fake-ca', subject: pki.ca.subject });
    const forged = revokeAndMakeCrl(fake, pki.leaf);
    // the forged CRL does name the signer's serial number under the real CA's name
    const serial = openssl(['x509', '-noout', '-serial', '-in', pki.leaf.certFile])
      .toString()
      .trim()
      .split('=')[1]!;
    const listing = openssl(['crl', '-noout', '-text'], { input: forged.pem }).toString();
    expect(listing.replace(/\s+/g, ' ')).toContain(`Serial Number: ${serial}`);
    const r = await verify(signed, { trustAnchors: anchors, crls: [forged.pem] });
    expect(r.signatures[0]!.trust).toBe('trusted');
    expect(r.status).toBe('valid');
    // and the report says a CRL was set aside
    expect(r.signatures[0]!.reasons.join(' ')).toMatch(
      /no certificate of the CRL issuer .* verifies the CRL's signature/,
    );
  });

  it('an empty CRL of the issuer changes nothing', async () => {
    const ca2 = createCa(dir, { name: 'ca-empty-crl' });
    const leaf2 = issueCertificate(ca2, { name: 'leaf-empty-crl', subject: '/CN=Fine' });
    const p = await pkiFor(dir, ca2, leaf2);
    const pdf = await signPdf(classic(), { signer: p.signer });
    const r = await verify(pdf, { trustAnchors: [ca2.certPem], crls: [makeCrl(ca2).pem] });
    expect(r.signatures[0]!.trust).toBe('trusted');
  });
});

describe("B-T: the timestamp's time is the validation time", () => {
  let shortLived: TestPki;
  let bt: Uint8Array;
  const later = () => new Date(Date.now() + 2 * 365 * DAY);

  beforeAll(async () => {
    // valid for one day: expired long before `later()`
    const cert = issueCertificate(pki.ca, { name: 'one-day', subject: '/C=CN/CN=One Day Seal', days: 1 });
    shortLived = await pkiFor(dir, pki.ca, cert);
    bt = await signPdf(classic(), { signer: shortLived.signer, tsa: tsa.url });
  });

  it('a signature timestamp from the TSA makes the signature B-T with a timestamp time', async () => {
    const r = await verify(bt);
    expect(r.status).toBe('valid');
    expect(r.signatures[0]!.level).toBe('B-T');
    const t = Date.parse(r.signatures[0]!.timestampTime!);
    expect(Math.abs(t - Date.now())).toBeLessThan(5 * 60_000);
  });

  it('a certificate that expired after the timestamp is still trusted, with revocation data from before its expiry', async () => {
    // the TSA is still valid two days on; its time-stamp proves the signature existed before expiry
    const at = new Date(Date.now() + 2 * DAY);
    const r = await verify(bt, { trustAnchors: anchors, at, crls: [makeCrl(pki.ca).der] });
    expect(r.signatures[0]!.trust).toBe('trusted');
    expect(r.status).toBe('valid');
    expect(r.signatures[0]!.evidence?.timestamp?.kind).toBe('signature-timestamp');
    expect(r.signatures[0]!.evidence?.revocation).toMatchObject([{ kind: 'crl', source: 'given', status: 'good' }]);
    // without any: nothing shows the certificate was not revoked before it expired
    const none = await verify(bt, { trustAnchors: anchors, at });
    expect(none.signatures[0]!.trust).toBe('unknown');
    expect(none.status).toBe('indeterminate');
  });

  it('once the TSA certificate has expired too, the time-stamp proves nothing (B-LTA is needed)', async () => {
    const r = await verify(bt, { trustAnchors: anchors, at: later(), crls: [makeCrl(pki.ca).der] });
    expect(r.signatures[0]!.trust).toBe('expired');
    expect(r.status).toBe('indeterminate');
  });

  it('without a timestamp the same certificate is expired at that time', async () => {
    const bb = await signPdf(classic(), { signer: shortLived.signer });
    const r = await verify(bb, { trustAnchors: anchors, validationTime: later() });
    expect(r.signatures[0]!.level).toBe('B-B');
    expect(r.signatures[0]!.trust).toBe('expired');
  });

  it('a timestamp from an untrusted TSA does not move the validation time', async () => {
    const r = await verify(bt, { trustAnchors: [pki.ca.certPem], validationTime: later() });
    expect(r.signatures[0]!.trust).toBe('expired');
    expect(r.status).not.toBe('valid');
  });
});

describe('timestamp tokens: imprint and TSA signature', () => {
  it('a signature timestamp over other data (a genuine token, wrong imprint): not ok', async () => {
    const { pdf } = await appendSignature(classic(), {
      kind: 'cms',
      produce: cadesWithToken(pki.signer, async () =>
        requestTimestamp(tsa.url, await sha256(new TextEncoder().encode('other data')), 'SHA-256'),
      ),
    });
    const r = await verify(pdf);
    expect(r.signatures[0]!.integrity).not.toBe('ok');
    expect(r.signatures[0]!.reasons.join(' ')).toMatch(/imprint/);
    expect(r.status).toBe('invalid');
  });

  it('a signature timestamp with a tampered TSA signature: not ok', async () => {
    const { pdf } = await appendSignature(classic(), {
      kind: 'cms',
      produce: cadesWithToken(pki.signer, async (sv) =>
        flipLastByte(await requestTimestamp(tsa.url, await sha256(sv), 'SHA-256')),
      ),
    });
    const r = await verify(pdf);
    expect(r.signatures[0]!.integrity).not.toBe('ok');
    expect(r.status).toBe('invalid');
  });

  it('the same construction with the genuine token verifies (the tests above fail for the token alone)', async () => {
    const { pdf } = await appendSignature(classic(), {
      kind: 'cms',
      produce: cadesWithToken(pki.signer, async (sv) =>
        requestTimestamp(tsa.url, await sha256(sv), 'SHA-256'),
      ),
    });
    const r = await verify(pdf);
    expect(r.status).toBe('valid');
    expect(r.signatures[0]!.level).toBe('B-T');
  });

  it('a token tampered in place inside a B-T file Sidian signed (unsigned attribute, outside the digest): not ok', async () => {
    const bt = await signPdf(classic(), { signer: pki.signer, tsa: tsa.url });
    const s = locateSignature(bt);
    const cmsHex = new TextDecoder('latin1').decode(bt.subarray(s.contents[0] + 1, s.contents[1] - 1));
    const cms = hexToBytes(cmsHex);
    const token = (await verifySignedData(cms, undefined)).timestampToken!;
    expect(token).toBeDefined();
    const at = hex(cms).indexOf(hex(token));
    expect(at).toBeGreaterThan(0);
    const tampered = bt.slice();
    const lastByteHex = s.contents[0] + 1 + at + token.length * 2 - 2;
    const patched = hex(flipLastByte(token.subarray(token.length - 1)));
    tampered.set(new TextEncoder().encode(patched), lastByteHex);
    expect((await verify(bt)).status).toBe('valid');
    const r = await verify(tampered);
    expect(r.signatures[0]!.integrity).not.toBe('ok');
    expect(r.status).toBe('invalid');
  });

  it("a document timestamp: ok and trusted with the TSA's CA, untrusted without it", async () => {
    const stamped = await addDocumentTimestamp(signed, tsa.url);
    const r = await verify(stamped);
    const ts = r.signatures[1]!;
    expect(ts).toMatchObject({
      kind: 'document-timestamp',
      integrity: 'ok',
      trust: 'trusted',
      status: 'valid',
    });
    const r2 = await verify(stamped, { trustAnchors: [pki.ca.certPem] });
    expect(r2.signatures[1]!.trust).toBe('untrusted');
    expect(r2.status).toBe('indeterminate');
  });

  it('a document timestamp whose token is over other data: digest-mismatch', async () => {
    const { pdf } = await appendSignature(signed, {
      kind: 'doc-timestamp',
      produce: async () =>
        requestTimestamp(tsa.url, await sha256(new TextEncoder().encode('not this file')), 'SHA-256'),
    });
    const r = await verify(pdf);
    expect(r.signatures[1]!.kind).toBe('document-timestamp');
    expect(r.signatures[1]!.integrity).toBe('digest-mismatch');
    expect(r.status).toBe('invalid');
  });

  it('a document timestamp with a tampered TSA signature: bad-signature', async () => {
    const r = await verify(await addDocumentTimestamp(signed, tsa.url, { tamper: flipLastByte }));
    expect(r.signatures[1]!.integrity).toBe('bad-signature');
    expect(r.status).toBe('invalid');
  });

  it('a document timestamp over a file changed afterwards: digest-mismatch', async () => {
    const stamped = await addDocumentTimestamp(signed, tsa.url);
    const flipped = stamped.slice();
    flipped[Buffer.from(stamped).indexOf('Sidian fixture')]! ^= 0x01;
    const r = await verify(flipped);
    expect(r.signatures.map((s) => s.integrity)).toEqual(['digest-mismatch', 'digest-mismatch']);
  });
});
