/**
 * Issue 2: Sidian's signatures accepted by every independent verifier here — pdfsig, mutool,
 * qpdf and openssl — on every input shape, signed again and again, with P-256 and RSA keys from
 * PKCS#12 files written by openssl, with Chinese names and ECDSA CA chains.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PdfDocument, addValidationData, signPdf, timestampPdf, signerFromCryptoKey, signerFromPkcs12, signerFromRemote, verifyPdf, type Signer } from '@sidian/core';
import { parseCms, parseTimestampToken, signatureTimestampTokens } from '../../packages/core/src/cms/parse';
import { listFields } from '../../packages/core/src/sign/fields';
import {
  type Ca,
  type Entity,
  createCa,
  issueCertificate,
  makePkcs12,
  makeTempDir,
  openssl,
  removeDir,
  writeFile,
} from '../helpers/openssl-pki';
import { startOpensslTsa, type OpensslTsa } from '../helpers/tsa-shim';
import { extractSignatures, mutoolSign, pdfsig, qpdfCheck } from './verifiers';

const inputs = inject('inputPdfs').filter((v) => !v.invalid);
const images = inject('sealImages');
const SEAL_NAME = '项城市市场监督管理局';

let dir: string;
let ecCa: Ca;
let rsaCa: Ca;
let seal: Entity; // P-256, issued by an ECDSA CA, Chinese names
let person: Entity; // RSA-2048, issued by an RSA CA
let sealP12: Uint8Array;
let personP12Legacy: Uint8Array;
let sealSigner: Signer;
let personSigner: Signer;

beforeAll(async () => {
  dir = makeTempDir('sidian-interop-');
  ecCa = createCa(dir, { name: 'ec-ca', key: 'p-256', subject: '/C=CN/O=项城市人民政府/CN=项城市电子印章根证书' });
  rsaCa = createCa(dir, { name: 'rsa-ca', key: 'rsa-2048', subject: '/C=CN/O=Sidian Test/CN=Sidian Test RSA CA' });
  seal = issueCertificate(ecCa, { name: 'seal', key: 'p-256', subject: `/C=CN/O=${SEAL_NAME}/CN=${SEAL_NAME}` });
  person = issueCertificate(rsaCa, { name: 'person', key: 'rsa-2048', subject: '/C=CN/O=Sidian Test/CN=张三' });
  sealP12 = makePkcs12(seal, { password: '印章口令', chain: [ecCa] }).bytes;
  personP12Legacy = makePkcs12(person, { password: 'secret', chain: [rsaCa], legacy: true }).bytes;
  sealSigner = await signerFromPkcs12(sealP12, '印章口令');
  personSigner = await signerFromPkcs12(personP12Legacy, 'secret');
});

afterAll(() => removeDir(dir));

function expectAllVerifiersAccept(file: string, count: number, signers?: string[]): void {
  const ps = pdfsig(file).filter((s) => s.text.includes('Signature Validation'));
  expect(ps.length, 'pdfsig signatures').toBeGreaterThanOrEqual(count);
  for (const s of ps) expect(s.valid, `pdfsig: ${s.text}`).toBe(true);
  // empty signature fields prepared in the input are listed as "not signed": not ours to judge
  const mu = mutoolSign(file).filter((s) => !/Signature is not signed\./.test(s.text));
  expect(mu.length, 'mutool signatures').toBeGreaterThanOrEqual(count);
  for (const s of mu) expect(s.valid, `mutool: ${s.text}`).toBe(true);
  if (signers) {
    for (const name of signers) {
      expect(ps.some((s) => s.signer === name), `pdfsig shows ${name}`).toBe(true);
      expect(mu.some((s) => s.signer === name), `mutool shows ${name}`).toBe(true);
    }
  }
  const q = qpdfCheck(file);
  expect(q.ok, q.output).toBe(true);
}

function out(name: string): string {
  return path.join(dir, name);
}

describe('every input shape, P-256 and RSA-2048 keys from openssl PKCS#12 files', () => {
  it('has at least 12 input variants', () => {
    expect(inputs.length).toBeGreaterThanOrEqual(12);
  });

  for (const v of inputs) {
    it(`${v.name}: P-256 seal (PNG with alpha), accepted by pdfsig, mutool and qpdf`, async () => {
      const pdf = new Uint8Array(readFileSync(v.file));
      const signed = await signPdf(pdf, { signer: sealSigner, image: readFileSync(images.sealPng), reason: '同意', location: '项城市' });
      expect(Buffer.from(signed.subarray(0, pdf.length)).equals(Buffer.from(pdf))).toBe(true);
      const f = out(`${v.name}-p256.pdf`);
      writeFileSync(f, signed);
      expectAllVerifiersAccept(f, 1, [SEAL_NAME]);
    });

    it(`${v.name}: RSA-2048 from a -legacy PKCS#12, JPEG on page 1 and invisible, accepted by pdfsig, mutool and qpdf`, async () => {
      const pdf = new Uint8Array(readFileSync(v.file));
      const signed = await signPdf(pdf, {
        signer: personSigner,
        image: readFileSync(images.sealJpeg),
        page: 1,
        rect: { x: 20, y: 20, width: 60, height: 60 },
      });
      const f = out(`${v.name}-rsa.pdf`);
      writeFileSync(f, signed);
      expectAllVerifiersAccept(f, 1, ['张三']);
      const invisible = await signPdf(pdf, { signer: personSigner });
      const g = out(`${v.name}-rsa-invisible.pdf`);
      writeFileSync(g, invisible);
      expectAllVerifiersAccept(g, 1, ['张三']);
    });

    it(`${v.name}: sealed, countersigned, then sealed on every page: earlier signatures stay valid`, async () => {
      const pdf0 = new Uint8Array(readFileSync(v.file));
      const pdf1 = await signPdf(pdf0, { signer: sealSigner, image: readFileSync(images.sealPng) });
      const pdf2 = await signPdf(pdf1, { signer: personSigner, reason: 'countersigned' });
      const pdf3 = await signPdf(pdf2, { signer: sealSigner, image: readFileSync(images.sealPng), mode: 'every-page', rect: { x: 10, y: 10, width: 50, height: 50 } });
      for (const [a, b] of [[pdf0, pdf1], [pdf1, pdf2], [pdf2, pdf3]] as const) {
        expect(Buffer.from(b.subarray(0, a.length)).equals(Buffer.from(a)), 'input is a byte-exact prefix').toBe(true);
      }
      const f = out(`${v.name}-chain.pdf`);
      writeFileSync(f, pdf3);
      expectAllVerifiersAccept(f, 3, [SEAL_NAME, '张三']);
      const report = await verifyPdf(pdf3, { trustAnchors: [ecCa.certPem, rsaCa.certPem] });
      expect(report.signatures.map((s) => s.status)).toEqual(['valid', 'valid', 'valid']);
      expect(report.status).toBe('valid');
    });
  }
});

describe('the CMS is PAdES B-B', () => {
  it('SubFilter ETSI.CAdES.detached, signing-certificate-v2, no signing-time; openssl cms -verify succeeds', async () => {
    const pdf = new Uint8Array(readFileSync(inputs[0]!.file));
    const signed = await signPdf(pdf, { signer: sealSigner });
    const f = out('bb.pdf');
    writeFileSync(f, signed);
    expect(Buffer.from(signed).toString('latin1')).toContain('/SubFilter /ETSI.CAdES.detached');
    const [sig] = extractSignatures(f);
    const cmsFile = writeFile(dir, 'bb.p7s', sig!.cms);
    const dataFile = writeFile(dir, 'bb.data', sig!.signedBytes);
    const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', cmsFile]).toString();
    expect(printed).toMatch(/signingCertificateV2|1\.2\.840\.113549\.1\.9\.16\.2\.47/);
    expect(printed).not.toMatch(/signingTime/);
    expect(printed).toMatch(/messageDigest/);
    const verified = openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', cmsFile, '-content', dataFile, '-CAfile', ecCa.certFile, '-purpose', 'any', '-out', '/dev/null']);
    expect(verified).toBeDefined();
    // and a flipped byte makes openssl refuse
    const tampered = new Uint8Array(sig!.signedBytes);
    tampered[100] ^= 1;
    const badFile = writeFile(dir, 'bb-bad.data', tampered);
    expect(() => openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', cmsFile, '-content', badFile, '-CAfile', ecCa.certFile, '-purpose', 'any', '-out', '/dev/null'])).toThrow();
  });
});

describe('B-T against a real RFC 3161 responder (openssl ts behind an HTTP shim)', () => {
  let tsa: OpensslTsa;
  beforeAll(async () => {
    tsa = await startOpensslTsa(dir);
  });
  afterAll(async () => tsa?.close());

  it('the CLI with every option: seam seal, reason, location, field name, timestamp and certification', async () => {
    // async spawn: the TSA shim lives in this process and must keep answering
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const cli = path.resolve(__dirname, '../../server/bin/sidian.mjs');
    const five = inputs.find((v) => v.pages === 5)!;
    const p12 = writeFile(dir, 'cli.p12', sealP12);
    const output = out('cli-all.pdf');
    await promisify(execFile)(process.execPath, [
      cli, 'sign', five.file, '-o', output, '--p12', p12, '--password', '印章口令', '--image', images.sealPng,
      '--mode', 'seam', '--reason', '骑缝章', '--location', '项城市', '--field', '骑缝章-1', '--tsa', tsa.url, '--certify', '2',
    ]);
    expectAllVerifiersAccept(output, 1, [SEAL_NAME]);
    const report = await verifyPdf(new Uint8Array(readFileSync(output)), { trustAnchors: [ecCa.certPem, tsa.caPem] });
    expect(report.status).toBe('valid');
    expect(report.signatures[0]).toMatchObject({ field: '骑缝章-1', kind: 'certification', level: 'B-T', docMdp: 2 });
    expect(report.signatures[0]!.widgets).toHaveLength(5);
    const v = await promisify(execFile)(process.execPath, [cli, 'verify', output, '--trust', ecCa.certFile, '--trust', tsa.caFile, '--json']);
    expect(JSON.parse(v.stdout).signatures[0].field).toBe('骑缝章-1');
  });

  it('B-LT and B-LTA: validation data (DSS with certificates and a CRL), then a document timestamp', async () => {
    const pdf = new Uint8Array(readFileSync(inputs[0]!.file));
    const bt = await signPdf(pdf, { signer: sealSigner, image: readFileSync(images.sealPng), tsa: tsa.url });
    const crlPem = writeFile(dir, 'ec-ca.crl.pem', '');
    openssl(['ca', '-gencrl', '-batch', '-crldays', '30', '-config', ecCa.configFile, '-out', crlPem]);
    const crlDer = new Uint8Array(openssl(['crl', '-in', crlPem, '-outform', 'DER']));
    const lt = await addValidationData(bt, { certificates: [ecCa.certDer], crls: [crlDer] });
    const lta = await timestampPdf(lt, { tsa: tsa.url });
    for (const [a, b] of [[pdf, bt], [bt, lt], [lt, lta]] as const) {
      expect(Buffer.from(b.subarray(0, a.length)).equals(Buffer.from(a))).toBe(true);
    }
    const f = out('lta.pdf');
    writeFileSync(f, lta);
    writeFileSync(out('lt.pdf'), lt);
    expectAllVerifiersAccept(out('lt.pdf'), 1, [SEAL_NAME]);
    // poppler and MuPDF do not verify document timestamps (pdfsig: "Signature Type: unknown");
    // the seal must still verify in both, and openssl checks the timestamp token over its ranges.
    const ps = pdfsig(f);
    expect(ps.find((s) => s.signer === SEAL_NAME)?.valid).toBe(true);
    expect(mutoolSign(f).some((s) => s.signer === SEAL_NAME && s.valid)).toBe(true);
    expect(qpdfCheck(f).ok).toBe(true);
    const docTs = extractSignatures(f)[1]!;
    const tokenFile = writeFile(dir, 'doc-ts.tst', docTs.cms);
    const dataFile = writeFile(dir, 'doc-ts.data', docTs.signedBytes);
    const checked = openssl(['ts', '-verify', '-token_in', '-in', tokenFile, '-data', dataFile, '-CAfile', tsa.caFile, '-untrusted', tsa.tsaCertFile]).toString();
    expect(checked).toMatch(/Verification: OK/);
    const anchors = [ecCa.certPem, tsa.caPem];
    const ltReport = await verifyPdf(lt, { trustAnchors: anchors });
    expect(ltReport.signatures[0]).toMatchObject({ level: 'B-LT', modificationsAfter: 'allowed', status: 'valid' });
    const report = await verifyPdf(lta, { trustAnchors: anchors });
    expect(report.signatures.map((s) => [s.kind, s.level, s.status])).toEqual([
      ['approval', 'B-LTA', 'valid'],
      ['document-timestamp', null, 'valid'],
    ]);
    expect(report.signatures[1]!.timestampTime).not.toBeNull();
    // a second DSS update adds nothing already there
    const again = await addValidationData(lta, { certificates: [ecCa.certDer], crls: [crlDer] });
    expect((await verifyPdf(again, { trustAnchors: anchors })).status).toBe('valid');
  });

  it('the token imprint is the hash of the signature value and openssl ts -verify accepts it', async () => {
    const pdf = new Uint8Array(readFileSync(inputs[0]!.file));
    const signed = await signPdf(pdf, { signer: sealSigner, tsa: tsa.url });
    const f = out('bt.pdf');
    writeFileSync(f, signed);
    expectAllVerifiersAccept(f, 1);
    const [sig] = extractSignatures(f);
    const cms = parseCms(sig!.cms);
    const si = cms.signerInfos[0]!;
    const [token] = signatureTimestampTokens(si);
    expect(token).toBeDefined();
    const { tstInfo } = parseTimestampToken(token!);
    const digest = createHash('sha256').update(si.signature).digest();
    expect(Buffer.from(tstInfo.messageImprint.hashedMessage).equals(digest)).toBe(true);
    const tokenFile = writeFile(dir, 'bt.tst', token!);
    const res = openssl(['ts', '-verify', '-token_in', '-in', tokenFile, '-digest', digest.toString('hex'), '-CAfile', tsa.caFile, '-untrusted', tsa.tsaCertFile]).toString();
    expect(res).toMatch(/Verification: OK/);
    const report = await verifyPdf(signed, { trustAnchors: [ecCa.certPem, tsa.caPem] });
    expect(report.signatures[0]!.level).toBe('B-T');
    expect(report.signatures[0]!.timestampTime).toBe(tstInfo.genTime.toISOString());
  });
});

describe('骑缝章 seam seal across a 5-page document', () => {
  it('one field with 5 widgets; each page shows a different slice of the seal at its right edge', async () => {
    const five = inputs.find((v) => v.pages === 5)!;
    const pdf = new Uint8Array(readFileSync(five.file));
    const signed = await signPdf(pdf, { signer: sealSigner, image: readFileSync(images.sealPng), mode: 'seam' });
    const f = out('seam.pdf');
    writeFileSync(f, signed);
    expectAllVerifiersAccept(f, 1, [SEAL_NAME]);
    const doc = PdfDocument.load(signed);
    const sigFields = listFields(doc.latest).filter((x) => x.type === 'Sig');
    expect(sigFields).toHaveLength(1);
    expect(sigFields[0]!.widgets).toHaveLength(5);

    // Render at 72 dpi (1 px = 1 pt) and look at the right edge of every page.
    openssl(['version']); // keep the PKI helpers' environment check in one place
    const { spawnSync } = await import('node:child_process');
    const { decode } = await import('fast-png');
    const slices: string[] = [];
    for (let p = 1; p <= 5; p++) {
      const prefix = out(`seam-page`);
      const r = spawnSync('pdftoppm', ['-r', '72', '-png', '-f', String(p), '-l', String(p), '-singlefile', f, prefix]);
      expect(r.status).toBe(0);
      const png = decode(readFileSync(`${prefix}.png`));
      const { width, height, data, channels } = png;
      const stripWidth = Math.floor((42 * 72) / 25.4 / 5); // the default seal (42 mm) cut in five
      let red = 0;
      let signature = '';
      for (let y = 0; y < height; y++) {
        let row = 0;
        for (let x = width - stripWidth; x < width; x++) {
          const i = (y * width + x) * channels;
          const [rr, gg, bb] = [data[i] as number, data[i + 1] as number, data[i + 2] as number];
          if (rr > 150 && gg < 110 && bb < 110) {
            red++;
            row++;
          }
        }
        signature += row.toString(36);
      }
      expect(red, `page ${p} shows seal pixels at its right edge`).toBeGreaterThan(50);
      // nothing red away from the edge (the strip is on the edge only)
      let redElsewhere = 0;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width - stripWidth - 2; x++) {
          const i = (y * width + x) * channels;
          if ((data[i] as number) > 150 && (data[i + 1] as number) < 110 && (data[i + 2] as number) < 110) redElsewhere++;
        }
      }
      expect(redElsewhere, `page ${p}: no seal pixels away from the edge`).toBe(0);
      slices.push(signature);
    }
    for (let p = 0; p < 4; p++) expect(slices[p], `pages ${p + 1} and ${p + 2} show different slices`).not.toBe(slices[p + 1]);
  });
});

describe('other signers and certification', () => {
  it('WebCrypto keys: P-384, RSA-PSS 3072 and RSA PKCS#1 4096, and a remote signer, verify in pdfsig, mutool and Sidian', async () => {
    const pdf = new Uint8Array(readFileSync(inputs[0]!.file));
    const cases: { name: string; key: 'p-384' | 'rsa-3072' | 'rsa-4096'; alg: RsaHashedImportParams | EcKeyImportParams }[] = [
      { name: 'p384', key: 'p-384', alg: { name: 'ECDSA', namedCurve: 'P-384' } },
      { name: 'pss', key: 'rsa-3072', alg: { name: 'RSA-PSS', hash: 'SHA-256' } },
      { name: 'rsa4096', key: 'rsa-4096', alg: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } },
    ];
    let current: Uint8Array = pdf;
    for (const c of cases) {
      const e = issueCertificate(ecCa, { name: `wc-${c.name}`, key: c.key, subject: `/C=CN/O=Sidian Test/CN=WebCrypto ${c.name}` });
      const key = await crypto.subtle.importKey('pkcs8', e.keyPkcs8 as Uint8Array<ArrayBuffer>, c.alg, false, ['sign']);
      current = await signPdf(current, { signer: signerFromCryptoKey(key, e.certDer, [ecCa.certDer]) });
    }
    // remote: "digest out, signature in", here an ECDSA key held elsewhere
    const remoteEntity = issueCertificate(ecCa, { name: 'remote', key: 'p-256', subject: '/C=CN/O=Sidian Test/CN=Remote HSM' });
    const hsmKey = await crypto.subtle.importKey('pkcs8', remoteEntity.keyPkcs8 as Uint8Array<ArrayBuffer>, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const { ecdsaSignDigestForTest } = await import('./remote-hsm');
    const remote = signerFromRemote({
      certificate: remoteEntity.certDer,
      chain: [ecCa.certDer],
      algorithm: 'ECDSA',
      hash: 'SHA-256',
      signDigest: (digest) => ecdsaSignDigestForTest(remoteEntity.keyFile, digest),
    });
    void hsmKey;
    current = await signPdf(current, { signer: remote });
    const f = out('webcrypto.pdf');
    writeFileSync(f, current);
    const report = await verifyPdf(current, { trustAnchors: [ecCa.certPem] });
    expect(report.signatures.map((s) => [s.signer?.commonName, s.status])).toEqual([
      ['WebCrypto p384', 'valid'],
      ['WebCrypto pss', 'valid'],
      ['WebCrypto rsa4096', 'valid'],
      ['Remote HSM', 'valid'],
    ]);
    const mu = mutoolSign(f);
    expect(mu.length).toBe(4);
    const ps = pdfsig(f).filter((s) => s.text.includes('Signature Validation'));
    expect(ps.length).toBe(4);
    // poppler (NSS) and MuPDF verify ECDSA P-384, PKCS#1 and ECDSA P-256; RSA-PSS support differs by build,
    // so for the PSS signature openssl is the independent check.
    for (const i of [0, 2, 3]) {
      expect(ps[i]!.valid, ps[i]!.text).toBe(true);
      expect(mu[i]!.valid, mu[i]!.text).toBe(true);
    }
    const sigs = extractSignatures(f);
    const cmsFile = writeFile(dir, 'pss.p7s', sigs[1]!.cms);
    const dataFile = writeFile(dir, 'pss.data', sigs[1]!.signedBytes);
    openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', cmsFile, '-content', dataFile, '-CAfile', ecCa.certFile, '-purpose', 'any', '-out', '/dev/null']);
  });

  it('certification P=2 then an approval signature: both valid; P=1 refuses further signatures', async () => {
    const acro = inputs.find((v) => v.name === 'acroform')!;
    const pdf = new Uint8Array(readFileSync(acro.file));
    const certified = await signPdf(pdf, { signer: sealSigner, image: readFileSync(images.sealPng), certify: 2 });
    const filled = await signPdf(certified, { signer: personSigner, field: 'applicant-signature', image: readFileSync(images.sealPng) });
    const f = out('certified.pdf');
    writeFileSync(f, filled);
    expectAllVerifiersAccept(f, 2, [SEAL_NAME, '张三']);
    const report = await verifyPdf(filled, { trustAnchors: [ecCa.certPem, rsaCa.certPem] });
    expect(report.signatures.map((s) => [s.kind, s.status])).toEqual([
      ['certification', 'valid'],
      ['approval', 'valid'],
    ]);
    expect(report.signatures[1]!.field).toBe('applicant-signature');
    const locked = await signPdf(pdf, { signer: sealSigner, certify: 1 });
    await expect(signPdf(locked, { signer: personSigner })).rejects.toMatchObject({ code: 'SIGN_LOCKED' });
    await expect(signPdf(certified, { signer: personSigner, certify: 2 })).rejects.toMatchObject({ code: 'SIGN_CERTIFY_NOT_FIRST' });
  });

  it('one seal image reused for many documents: each gets its own image and soft mask', async () => {
    const seal = new Uint8Array(readFileSync(images.sealPng)); // the same bytes every time (cached conversion)
    const a = await signPdf(new Uint8Array(readFileSync(inputs[0]!.file)), { signer: sealSigner, image: seal });
    const b = await signPdf(new Uint8Array(readFileSync(inputs[1]!.file)), { signer: sealSigner, image: seal });
    const b2 = await signPdf(b, { signer: sealSigner, image: seal });
    for (const [name, pdf] of [['a', a], ['b', b], ['b2', b2]] as const) {
      const f = out(`reuse-${name}.pdf`);
      writeFileSync(f, pdf);
      expectAllVerifiersAccept(f, name === 'b2' ? 2 : 1);
      const view = PdfDocument.load(pdf).latest;
      for (const [num] of view.entries) {
        const o = view.get(num);
        const d = o && typeof o === 'object' && 'dict' in o ? (o as { dict: { get(k: string): unknown; name(k: string): string | undefined } }).dict : undefined;
        const smask = d?.get('SMask');
        if (!smask) continue;
        const m = view.dict(smask as never);
        expect(m?.name('Subtype'), `${name}: /SMask of image ${num} is an image`).toBe('Image');
        expect(m?.name('ColorSpace')).toBe('DeviceGray');
      }
    }
  });

  it('unique field names: signing three times gives three different names', async () => {
    let pdf: Uint8Array = new Uint8Array(readFileSync(inputs[0]!.file));
    for (let i = 0; i < 3; i++) pdf = await signPdf(pdf, { signer: sealSigner, image: readFileSync(images.sealPng) });
    const names = listFields(PdfDocument.load(pdf).latest).map((f) => f.fullName);
    expect(new Set(names).size).toBe(3);
  });
});

describe('bad input: a coded error, no output file, a non-zero exit', () => {
  const cli = path.resolve(__dirname, '../../server/bin/sidian.mjs');
  let expired: Entity;
  let expiredP12: string;
  let goodP12: string;
  beforeAll(() => {
    goodP12 = writeFile(dir, 'good.p12', sealP12);
    const now = Date.now();
    expired = issueCertificate(ecCa, { name: 'expired', subject: '/CN=Expired', notBefore: new Date(now - 2 * 365 * 86400_000), notAfter: new Date(now - 365 * 86400_000) });
    expiredP12 = makePkcs12(expired, { password: 'pw' }).file;
  });
  const byName = (n: string) => inject('inputPdfs').find((v) => v.name === n || v.invalid === n)!.file;

  const cases: [string, () => string[], string][] = [
    ['not a PDF', () => [byName('not-a-pdf'), '--p12', goodP12, '--password', '印章口令'], 'PDF_NOT_PDF'],
    ['a truncated PDF', () => [byName('truncated'), '--p12', goodP12, '--password', '印章口令'], 'PDF_TRUNCATED'],
    ['an encrypted PDF', () => [byName('encrypted'), '--p12', goodP12, '--password', '印章口令'], 'PDF_ENCRYPTED'],
    ['a wrong PKCS#12 password', () => [byName('classic-1.3'), '--p12', goodP12, '--password', 'wrong'], 'P12_BAD_PASSWORD'],
    ['an expired certificate', () => [byName('classic-1.3'), '--p12', expiredP12, '--password', 'pw'], 'CERT_EXPIRED'],
    ['a page out of range', () => [byName('classic-1.3'), '--p12', goodP12, '--password', '印章口令', '--page', '9'], 'SIGN_PAGE_OUT_OF_RANGE'],
    ['a rectangle outside the page', () => [byName('classic-1.3'), '--p12', goodP12, '--password', '印章口令', '--image', images.sealPng, '--rect', '5000,10,100,100'], 'SIGN_RECT_OUTSIDE_PAGE'],
  ];
  for (const [what, args, code] of cases) {
    it(`${what} → ${code}`, async () => {
      const { spawnSync } = await import('node:child_process');
      const output = out(`bad-${code}.pdf`);
      const [input, ...rest] = args();
      const r = spawnSync(process.execPath, [cli, 'sign', input!, '-o', output, ...rest], { encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(`sidian: ${code}:`);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(existsSync(output)).toBe(false);
    });
  }
});

describe('files already signed by other tools (tests/corpus)', () => {
  const corpusDir = path.resolve(__dirname, '../corpus');
  const manifest = JSON.parse(readFileSync(path.join(corpusDir, 'manifest.json'), 'utf8')) as { files: { file: string; malformedInput?: boolean }[] };
  const validCount = (f: string) => pdfsig(f).filter((s) => s.valid).length;
  const mutoolValid = (f: string) => mutoolSign(f).filter((s) => s.valid).length;
  for (const entry of manifest.files) {
    const src = path.join(corpusDir, entry.file);
    it(`${entry.file}: sealed on top, every signature pdfsig and mutool accepted before still accepted, ours too`, async () => {
      const pdf = new Uint8Array(readFileSync(src));
      let signed: Uint8Array;
      try {
        signed = await signPdf(pdf, { signer: sealSigner, image: readFileSync(images.sealPng) });
      } catch (e) {
        // refused with a reason: encrypted, certified with no changes permitted, or broken beyond use
        expect((e as { code?: string }).code).toMatch(/^(PDF_ENCRYPTED|SIGN_LOCKED|PDF_NO_XREF|PDF_MALFORMED)$/);
        expect(entry.file).toMatch(/encrypted|no-change-permitted|infinite_loop/);
        return;
      }
      const f = out(`corpus-${entry.file.replace(/\//g, '_')}`);
      writeFileSync(f, signed);
      expect(validCount(f)).toBe(validCount(src) + 1);
      expect(mutoolValid(f)).toBe(mutoolValid(src) + 1);
      const ours = pdfsig(f).filter((s) => s.signer === SEAL_NAME);
      expect(ours).toHaveLength(1);
      expect(ours[0]!.valid).toBe(true);
    });
  }
});
