/**
 * 国密 PDF signatures: SM2-with-SM3 CMS (GM/T 0010 OIDs) written by signPdf with an SM2 signer,
 * verified by verifyPdf, alone and mixed with ECDSA signatures, with certificates from OpenSSL 3.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSidianError } from '../../packages/core/src/errors';
import { createSm2Key, signerFromSm2 } from '../../packages/core/src/signer/sm2';
import { signPdf } from '../../packages/core/src/sign/sign-pdf';
import { verifyPdf } from '../../packages/core/src/verify';
import type { VerificationReport } from '../../packages/core/src/verify/types';
import { parseCms } from '../../packages/core/src/cms';
import { OID } from '../../packages/core/src/pki/oids';
import { derOid, derSequence, parseDer, tlv } from '../../packages/core/src/pki/der';
import { signerFromPkcs12 } from '../../packages/core/src/signer/pkcs12';
import { parseCertificate } from '../../packages/core/src/pki/certificate';
import { sm2Verify } from '../../packages/core/src/gm/sm2';
import { GM_DIR, REPO_ROOT } from '../fixtures/paths';
import type { Signer } from '../../packages/core/src/signer/types';
import {
  createCa,
  issueCertificate,
  makePkcs12,
  makeTempDir,
  openssl,
  removeDir,
  SM2_DISTID,
  type Ca,
  type Entity,
} from '../helpers/openssl-pki';
import { startOpensslTsa, type OpensslTsa } from '../helpers/tsa-shim';
import { createTestPki, loadInput, loadSealPng, update, type TestPki } from './generator';
import { PdfDict, PdfStream } from '../../packages/core/src/pdf/objects';

let dir: string;
let ca: Ca;
let leaf: Entity;
let sm2: Signer;
let ecdsa: TestPki;
let tsa: OpensslTsa;
let anchors: string[];

beforeAll(async () => {
  dir = makeTempDir('sidian-verify-gm-');
  ca = createCa(dir, { name: 'sm2-ca', key: 'sm2', subject: '/C=CN/O=四电测试/CN=四电 SM2 根 CA' });
  leaf = issueCertificate(ca, {
    name: 'sm2-seal',
    key: 'sm2',
    subject: '/C=CN/O=四电测试局/CN=四电 SM2 印章',
  });
  sm2 = signerFromSm2(leaf.keyPkcs8, leaf.certDer, [ca.certDer]);
  ecdsa = await createTestPki(path.join(dir, 'ecdsa'));
  tsa = await startOpensslTsa(dir);
  anchors = [ca.certPem, ecdsa.ca.certPem, tsa.caPem];
});

afterAll(async () => {
  await tsa?.close();
  if (dir) removeDir(dir);
});

const verify = (pdf: Uint8Array): Promise<VerificationReport> => verifyPdf(pdf, { trustAnchors: anchors });

/** The CMS of the last signature in the file. */
async function lastCms(pdf: Uint8Array) {
  const report = await verify(pdf);
  const br = report.signatures.at(-1)!.byteRange!;
  const hex = new TextDecoder('latin1').decode(pdf.subarray(br[1]! + 1, br[2]! - 1));
  const der = Uint8Array.from(hex.replace(/(00)+$/, '').match(/../g)!, (h) => parseInt(h, 16));
  return parseCms(der);
}

describe('SM2 PDF signatures', () => {
  it('the test certificates are SM2-with-SM3 and OpenSSL 3 verifies the chain', () => {
    const text = openssl(['x509', '-in', leaf.certFile, '-noout', '-text']).toString();
    expect(text).toContain('SM2-with-SM3');
    const out = openssl(['verify', '-vfyopt', SM2_DISTID, '-CAfile', ca.certFile, leaf.certFile]).toString();
    expect(out).toContain(': OK');
  });

  it('signPdf with an SM2 signer writes SM3 and SM2-with-SM3 into the CMS, and the signature is valid and trusted', async () => {
    const pdf = await signPdf(loadInput('classic-1.3'), { signer: sm2, image: loadSealPng() });
    const report = await verify(pdf);
    expect(report.signatures[0]!.reasons).toEqual([]);
    expect(report.status).toBe('valid');
    const [sig] = report.signatures;
    expect(sig).toMatchObject({
      algorithm: 'SM2-SM3',
      integrity: 'ok',
      trust: 'trusted',
      coverage: 'whole-document',
    });
    expect(sig!.signer?.commonName).toBe('四电 SM2 印章');
    const cms = await lastCms(pdf);
    expect(cms.digestAlgorithms).toEqual([OID.sm3]);
    expect(cms.signerInfos[0]!.digestAlgorithm).toBe(OID.sm3);
    expect(cms.signerInfos[0]!.signatureAlgorithm.oid).toBe(OID.sm2WithSm3);
  });

  for (const mode of ['single', 'every-page', 'seam'] as const) {
    it(`seal mode ${mode} on five pages, incremental: the original bytes stay a prefix`, async () => {
      const input = loadInput('five-pages');
      const pdf = await signPdf(input, { signer: sm2, image: loadSealPng(), mode });
      expect(Buffer.from(pdf.subarray(0, input.length)).equals(Buffer.from(input))).toBe(true);
      const report = await verify(pdf);
      expect(report.status).toBe('valid');
      expect(report.signatures[0]!.algorithm).toBe('SM2-SM3');
    });
  }

  it('a certification (P=2) SM2 signature with a signature timestamp: B-T, valid', async () => {
    const pdf = await signPdf(loadInput('acroform'), { signer: sm2, certify: 2, tsa: tsa.url });
    const report = await verify(pdf);
    expect(report.status).toBe('valid');
    expect(report.signatures[0]).toMatchObject({
      kind: 'certification',
      docMdp: 2,
      level: 'B-T',
      algorithm: 'SM2-SM3',
    });
    expect(report.signatures[0]!.timestampTime).not.toBeNull();
  });

  it('mixed documents: an SM2 seal after an ECDSA one and the reverse keep every signature valid', async () => {
    const a = await signPdf(loadInput('acroform'), { signer: ecdsa.signer, field: 'first' });
    const ab = await signPdf(a, { signer: sm2, field: 'second' });
    const b = await signPdf(loadInput('acroform'), { signer: sm2, field: 'first' });
    const ba = await signPdf(b, { signer: ecdsa.signer, field: 'second' });
    for (const [pdf, algs] of [
      [ab, ['ECDSA-SHA256', 'SM2-SM3']],
      [ba, ['SM2-SM3', 'ECDSA-SHA256']],
    ] as const) {
      const report = await verify(pdf);
      expect(report.status).toBe('valid');
      expect(report.signatures.map((s) => [s.algorithm, s.status])).toEqual(algs.map((x) => [x, 'valid']));
    }
  });

  it('attacks: a changed signed byte is a digest mismatch; a changed SM2 signature is a bad signature', async () => {
    const pdf = await signPdf(loadInput('classic-1.3'), { signer: sm2 });
    const report = await verify(pdf);
    const br = report.signatures[0]!.byteRange!;
    const changed = pdf.slice();
    changed[100] ^= 0x01;
    const r1 = await verify(changed);
    expect(r1.status).toBe('invalid');
    expect(r1.signatures[0]!.integrity).toBe('digest-mismatch');
    // flip one hex digit near the end of the signature value (the last INTEGER s), inside /Contents
    const cms = await lastCms(pdf);
    const sigHex = Buffer.from(cms.signerInfos[0]!.signature).toString('hex').toUpperCase();
    const text = new TextDecoder('latin1').decode(pdf.subarray(br[1]!, br[2]!));
    const at = text.toUpperCase().indexOf(sigHex);
    expect(at).toBeGreaterThan(0);
    const pos = br[1]! + at + sigHex.length - 2;
    const forged = pdf.slice();
    forged[pos] = forged[pos] === 0x30 ? 0x31 : 0x30;
    const r2 = await verify(forged);
    expect(r2.status).toBe('invalid');
    expect(r2.signatures[0]!.integrity).toBe('bad-signature');
  });

  it('attack: an SM2 signer with a certificate of another SM2 key cannot be made; a self-made certificate is untrusted', async () => {
    const other = createSm2Key();
    let error: unknown;
    try {
      signerFromSm2(other, leaf.certDer, [ca.certDer]);
    } catch (e) {
      error = e;
    }
    expect(isSidianError(error) && error.code).toBe('KEY_UNSUPPORTED');
    // an attacker's own SM2 CA with the same names: the signature verifies but is not trusted
    const fakeCa = createCa(path.join(dir, 'fake'), {
      name: 'fake-ca',
      key: 'sm2',
      subject: '/C=CN/O=四电测试/CN=四电 SM2 根 CA',
    });
    const fakeLeaf = issueCertificate(fakeCa, {
      name: 'fake-seal',
      key: 'sm2',
      subject: '/C=CN/O=四电测试局/CN=四电 SM2 印章',
    });
    const pdf = await signPdf(loadInput('classic-1.3'), {
      signer: signerFromSm2(fakeLeaf.keyPkcs8, fakeLeaf.certDer, [fakeCa.certDer]),
    });
    const report = await verify(pdf);
    expect(report.signatures[0]!.integrity).toBe('ok');
    expect(report.signatures[0]!.trust).toBe('untrusted');
    expect(report.status).not.toBe('valid');
  });

  it('pdfsig and qpdf read an SM2-signed PDF without structural errors', async () => {
    const pdf = await signPdf(loadInput('classic-1.3'), { signer: sm2 });
    const file = path.join(dir, 'sm2-signed.pdf');
    writeFileSync(file, pdf);
    const { spawnSync } = await import('node:child_process');
    const qpdf = spawnSync('qpdf', ['--check', file], { encoding: 'utf8' });
    expect(qpdf.stdout).toContain('No syntax or stream encoding errors found');
    const pdfsig = spawnSync('pdfsig', [file], { encoding: 'utf8' });
    expect(pdfsig.stdout).toContain('Signature #1');
    // pdfsig reads the structure (ranges cover the whole file); its crypto (NSS) has no SM3, so it
    // says "Signing Hash Algorithm: unknown" and "Unknown Validation Failure" (poppler 22.12)
    expect(pdfsig.stdout).toContain('Total document signed');
    expect(pdfsig.stdout).toMatch(/Signed Ranges: \[0 - \d+\], \[\d+ - \d+\]/);
  });

  for (const legacy of [false, true]) {
    it(`an SM2 key in a PKCS#12 as OpenSSL 3 writes it${legacy ? ' (-legacy)' : ''} signs through signerFromPkcs12`, async () => {
      const p12 = makePkcs12(leaf, { password: 'gm-secret', chain: [ca], legacy }).bytes;
      const signer = await signerFromPkcs12(p12, 'gm-secret');
      expect(signer.algorithm).toBe('SM2');
      const report = await verify(await signPdf(loadInput('classic-1.3'), { signer }));
      expect(report.status).toBe('valid');
      expect(report.signatures[0]!.algorithm).toBe('SM2-SM3');
    });
  }

  it('sidian sign --p12 signs with an SM2 PKCS#12; a wrong password is refused', () => {
    const p12File = makePkcs12(leaf, { password: 'gm-secret', chain: [ca] }).file;
    const input = path.join(dir, 'cli-in.pdf');
    writeFileSync(input, loadInput('classic-1.3'));
    const out = path.join(dir, 'cli-out.pdf');
    const run = (password: string) =>
      spawnSync(
        process.execPath,
        [
          path.join(REPO_ROOT, 'server/bin/sidian.mjs'),
          'sign',
          input,
          '-o',
          out,
          '--p12',
          p12File,
          '--password',
          password,
        ],
        {
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
    const bad = run('not-the-password');
    expect(bad.status).not.toBe(0);
    const ok = run('gm-secret');
    expect(ok.status).toBe(0);
    expect(ok.stderr).toContain('signed ');
    return verify(new Uint8Array(readFileSync(out))).then((report) => {
      expect(report.status).toBe('valid');
      expect(report.signatures[0]!.algorithm).toBe('SM2-SM3');
    });
  });

  it('sidian sign --key PEM --cert PEM seals with an SM2 key as openssl genpkey writes it; a mismatched key is refused', async () => {
    const input = path.join(dir, 'cli-key-in.pdf');
    writeFileSync(input, loadInput('classic-1.3'));
    const out = path.join(dir, 'cli-key-out.pdf');
    const certs = path.join(dir, 'sm2-chain.pem');
    writeFileSync(certs, leaf.certPem + ca.certPem);
    const run = (keyFile: string) =>
      spawnSync(
        process.execPath,
        [
          path.join(REPO_ROOT, 'server/bin/sidian.mjs'),
          'sign',
          input,
          '-o',
          out,
          '--key',
          keyFile,
          '--cert',
          certs,
        ],
        {
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
    const wrong = run(ca.keyFile); // the CA's key does not belong to the leaf certificate
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toContain('does not belong to the certificate');
    expect(wrong.stderr).not.toMatch(/\n\s+at /);
    const ok = run(leaf.keyFile);
    expect(ok.status, ok.stderr).toBe(0);
    const report = await verify(new Uint8Array(readFileSync(out)));
    expect(report.status).toBe('valid');
    expect(report.signatures[0]!.algorithm).toBe('SM2-SM3');
    expect(report.signatures[0]!.chain).toHaveLength(2);
  });

  it('sidian sign of a large PDF with an SM2 key: the SM3 begun on a thread (at the start of the process for --key, once the key is read for --p12) covers the file, whichever order the arguments come in', async () => {
    // over 4 MiB, server/bin/sidian.mjs hashes the input on a thread before the command loads
    // (server/src/hash-thread.mjs); a digest of other bytes would make the seal invalid
    const input = path.join(dir, 'cli-big-in.pdf');
    writeFileSync(
      input,
      update(loadInput('classic-1.3'), (u) => {
        u.add(new PdfStream(new PdfDict(), new Uint8Array(randomBytes(6 * 1024 * 1024 + 3))));
      }),
    );
    const decoy = path.join(dir, 'cli-big-decoy.pdf');
    writeFileSync(decoy, new Uint8Array(randomBytes(5 * 1024 * 1024)));
    const certs = path.join(dir, 'sm2-chain-big.pem');
    writeFileSync(certs, leaf.certPem + ca.certPem);
    const out = path.join(dir, 'cli-big-out.pdf');
    // an SM2 key in a PKCS#12 file: SHA-256 is begun before the key is read, then replaced by SM3
    const p12File = makePkcs12(leaf, { password: 'gm-secret', chain: [ca] }).file;
    const orders = [
      ['sign', input, '-o', out, '--key', leaf.keyFile, '--cert', certs],
      // an option's value that names another large file is not taken for the input
      ['sign', '--reason', decoy, `--key=${leaf.keyFile}`, '-o', out, '--cert', certs, '--', input],
      ['sign', input, '-o', out, '--p12', p12File, '--password', 'gm-secret'],
    ];
    for (const args of orders) {
      const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'server/bin/sidian.mjs'), ...args], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(run.status, run.stderr).toBe(0);
      const report = await verify(new Uint8Array(readFileSync(out)));
      expect(report.status, args.join(' ')).toBe('valid');
      expect(report.signatures[0]!.algorithm).toBe('SM2-SM3');
      expect(report.signatures[0]!.coverage).toBe('whole-document');
    }
  });

  it('reads a CMS whose ContentInfo uses the GM/T 0010 signedData OID (1.2.156.10197.6.1.4.2.2)', async () => {
    const pdf = await signPdf(loadInput('classic-1.3'), { signer: sm2 });
    const br = (await verify(pdf)).signatures[0]!.byteRange!;
    const hex = new TextDecoder('latin1').decode(pdf.subarray(br[1]! + 1, br[2]! - 1));
    const der = Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
    const ci = parseDer(der, { allowTrailing: true });
    const signedData = ci.child(1).child(0).raw;
    const gm = derSequence(derOid(OID.gmSignedData), tlv(0xa0, signedData));
    const gmHex = Buffer.from(gm).toString('hex').padEnd(hex.length, '0');
    const rewritten = pdf.slice();
    rewritten.set(new TextEncoder().encode(gmHex), br[1]! + 1);
    const report = await verify(rewritten);
    expect(report.signatures[0]!.integrity).toBe('ok');
    expect(report.status).toBe('valid');
    // and an attacker who swaps in an unknown content type gets no valid signature
    const bogus = derSequence(derOid('1.2.3.4'), tlv(0xa0, signedData));
    const bad = pdf.slice();
    bad.set(new TextEncoder().encode(Buffer.from(bogus).toString('hex').padEnd(hex.length, '0')), br[1]! + 1);
    expect((await verify(bad)).status).toBe('invalid');
  });

  it('the ofdrw SM2 PKCS#12 files (legacy PBE, password 777777) load as SM2 signers; their expired certificates cannot seal', async () => {
    for (const name of ['USER.p12', 'SealBuilder.p12']) {
      const p12 = new Uint8Array(readFileSync(path.join(GM_DIR, 'ofdrw', name)));
      const signer = await signerFromPkcs12(p12, '777777');
      expect(signer.algorithm, name).toBe('SM2');
      const data = new TextEncoder().encode('signed attributes stand-in');
      const pk = parseCertificate(signer.certificate).publicKey;
      expect(pk.kind === 'ec' && sm2Verify(pk.point, data, await signer.sign(data)), name).toBe(true);
      await expect(signPdf(loadInput('classic-1.3'), { signer })).rejects.toMatchObject({
        code: 'CERT_EXPIRED',
      });
      await expect(signerFromPkcs12(p12, '777778')).rejects.toMatchObject({ code: 'P12_BAD_PASSWORD' });
    }
  });
});
