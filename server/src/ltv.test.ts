/**
 * Long-term validation on the server (real server over HTTP, SQLite): a licence sealed with a seal
 * certificate valid for one day is stored as B-LTA on registration (the server's CA certificate and
 * CRL in a DSS, its own TSA's document time-stamp); `POST /api/verify?at=` after the seal expired says
 * valid for the stored file and indeterminate for the file as sent. The server's TSA certificate is
 * short-lived: its archive time-stamp is renewed (department route, CLI) after a TSA rotation, and
 * the licence still verifies after the first TSA certificate expired.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedLicence } from '../../packages/core/src/licence/index';
import { creditCodeCheckChar } from '../../packages/core/src/licence/identifier';
import { signPdf, signerFromPkcs12, verifyPdf, type VerificationReport } from '@sidian/core';
import { issueCertificate, loadOrCreateServerPki, sealSubject } from './pki/dev-pki';
import { writePkcs12 } from './pki/pkcs12';
import { EC_P256, subtle, toPem } from './pki/x509';
import { runCli, startTestServer, tempDir, type TestServer } from './test/harness';
import { minimalPdf, sampleLicence } from './test/pdfs';

const DAY = 86400_000;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Gives the server in `dataDir` a new TSA certificate (same CA) valid for `validityMs`. */
async function rotateTsa(dataDir: string, validityMs: number): Promise<void> {
  const pki = await loadOrCreateServerPki(dataDir);
  const dir = pki.dir;
  if (!dir) throw new Error('the test server runs on a development PKI in its data folder');
  const keys = (await subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await issueCertificate(pki.ca, {
    subject: `C=CN, O=Sidian 开发测试, CN=Sidian TSA ${new Date().toISOString()}`,
    publicKey: keys.publicKey,
    profile: 'tsa',
    validityMs,
  });
  const pkcs8 = new Uint8Array(await subtle.exportKey('pkcs8', keys.privateKey));
  fs.writeFileSync(path.join(dir, 'tsa.pem'), toPem(cert.rawData, 'CERTIFICATE'));
  fs.writeFileSync(path.join(dir, 'tsa.key.pem'), toPem(pkcs8, 'PRIVATE KEY'), { mode: 0o600 });
  fs.writeFileSync(
    path.join(dir, 'tsa-chain.pem'),
    toPem(cert.rawData, 'CERTIFICATE') + toPem(pki.ca.der, 'CERTIFICATE'),
  );
}

/** A sealed licence whose seal certificate (issued by the server's CA) is valid for one day. */
async function sealedWithShortCertificate(dataDir: string, number: string) {
  const pki = await loadOrCreateServerPki(dataDir);
  const keys = (await subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await issueCertificate(pki.ca, {
    subject: sealSubject(),
    publicKey: keys.publicKey,
    profile: 'signer',
    validityMs: DAY,
  });
  const pkcs8 = new Uint8Array(await subtle.exportKey('pkcs8', keys.privateKey));
  const p12 = await writePkcs12({
    pkcs8,
    certificate: new Uint8Array(cert.rawData),
    chain: [pki.ca.der],
    password: 'pw',
  });
  const signer = await signerFromPkcs12(p12, 'pw');
  const licence = sampleLicence({ number });
  const pdf = await signPdf(embedLicence(minimalPdf(), licence), { signer, certify: 2 });
  return { licence, pdf };
}

let dataDir: string;
let s: TestServer;
let id: string;
let sent: Uint8Array;

const post = (url: string, body: Uint8Array | string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', body: body as BodyInit, headers });
const verifyAt = async (pdf: Uint8Array, at?: Date) => {
  const r = await post(`${s.url}/api/verify${at ? `?at=${encodeURIComponent(at.toISOString())}` : ''}`, pdf, {
    'content-type': 'application/pdf',
  });
  expect(r.status).toBe(200);
  return (await r.json()) as VerificationReport;
};
const stored = async () =>
  new Uint8Array(await (await fetch(`${s.url}/api/licences/${id}/file`)).arrayBuffer());
const sealOf = (r: VerificationReport) => r.signatures.find((x) => x.kind !== 'document-timestamp')!;

beforeAll(async () => {
  dataDir = tempDir('sidian-ltv-server-');
  // the server's TSA certificate expires in two days
  await loadOrCreateServerPki(dataDir);
  await rotateTsa(dataDir, 2 * DAY);
  s = await startTestServer({ dataDir });
  const { licence, pdf } = await sealedWithShortCertificate(dataDir, 'LTV-0001');
  sent = pdf;
  id = licence.identifier;
  const r = await post(`${s.url}/api/licences`, pdf, {
    'content-type': 'application/pdf',
    'x-api-key': s.apiKey,
  });
  expect(r.status).toBe(201);
}, 120_000);

afterAll(async () => {
  await s?.close();
});

describe('licences are stored as B-LTA', () => {
  it('the stored file extends the one sent, with a DSS and a document time-stamp; valid today', async () => {
    const file = await stored();
    expect(Buffer.from(file.subarray(0, sent.length)).equals(Buffer.from(sent))).toBe(true);
    const meta = (await (await fetch(`${s.url}/api/licences/${id}`)).json()) as { sha256: string };
    expect(meta.sha256).toBe(sha256(file));
    const r = await verifyAt(file);
    expect(r.status).toBe('valid');
    // sealed B-B: a document time-stamp (B-T), the DSS (B-LT), the archive time-stamp (B-LTA)
    expect(sealOf(r).level).toBe('B-LTA');
    expect(r.signatures.map((x) => x.kind)).toContain('document-timestamp');
  });

  it('POST /api/verify?at= after the seal certificate expired: valid with the archive time-stamp, indeterminate without', async () => {
    const at = new Date(Date.now() + 36 * 3600_000); // seal expired, the TSA not yet
    const file = await stored();
    const r = await verifyAt(file, at);
    expect(r.status).toBe('valid');
    const seal = sealOf(r);
    expect(seal.evidence?.timestamp?.kind).toBe('document-timestamp');
    // /api/verify checks against the server's current CRL (verify/cache.ts); issued while the seal
    // certificate was still valid and after the first time-stamp, it is evidence of its own
    expect(seal.evidence?.revocation).toContainEqual(
      expect.objectContaining({ kind: 'crl', source: 'given', status: 'good' }),
    );
    // without it, the DSS that the archive time-stamp covers is what shows the seal was not revoked
    const pki = await loadOrCreateServerPki(dataDir);
    const offline = await verifyPdf(file, { trustAnchors: [pki.ca.der], at });
    expect(offline.status).toBe('valid');
    expect(sealOf(offline).evidence?.revocation).toContainEqual(
      expect.objectContaining({ kind: 'crl', source: 'dss', status: 'good' }),
    );
    // the report cache is keyed by the validation time: the same time is a hit, another a miss
    const cached = (when: Date) =>
      post(`${s.url}/api/verify?at=${encodeURIComponent(when.toISOString())}`, file, {
        'content-type': 'application/pdf',
      }).then((x) => x.headers.get('sidian-cache'));
    expect(await cached(at)).toBe('hit');
    expect(await cached(new Date(at.getTime() + 1000))).toBe('miss');
    const without = await verifyAt(sent, at);
    expect(without.status).toBe('indeterminate');
    expect(sealOf(without).trust).toBe('expired');
  });

  it('?at= that is not a time: 400 BAD_TIME', async () => {
    const r = await post(`${s.url}/api/verify?at=tomorrow`, sent, { 'content-type': 'application/pdf' });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: 'BAD_TIME' });
  });
});

describe('renewing archive time-stamps before the TSA certificate expires', () => {
  it('after the TSA expired without renewal: indeterminate', async () => {
    const r = await verifyAt(await stored(), new Date(Date.now() + 5 * DAY));
    expect(r.status).toBe('indeterminate');
  });

  it('after a TSA rotation: only the department itself may renew; then valid after the first TSA expired', async () => {
    await s.close();
    await rotateTsa(dataDir, 5 * 365 * DAY);
    s = await startTestServer({ dataDir });
    const before = await stored();
    // no key, or another department's key: nothing renewed
    let r = await post(`${s.url}/api/licences/renew-timestamps`, '{}', {
      'content-type': 'application/json',
    });
    expect(r.status).toBe(401);
    const other = await s.server.ctx.auth.createDepartment({
      id: 'other-dept',
      name: '另一个局',
      creditCode: '91110000100000000' + creditCodeCheckChar('91110000100000000'),
    });
    r = await post(`${s.url}/api/licences/renew-timestamps`, JSON.stringify({ withinDays: 30 }), {
      'content-type': 'application/json',
      'x-api-key': other.apiKey,
    });
    expect(await r.json()).toMatchObject({ renewed: [], checked: 0 });
    expect(sha256(await stored())).toBe(sha256(before));
    r = await post(`${s.url}/api/licences/renew-timestamps`, JSON.stringify({ withinDays: -1 }), {
      'content-type': 'application/json',
      'x-api-key': s.apiKey,
    });
    expect(r.status).toBe(400);
    // the issuing department
    r = await post(`${s.url}/api/licences/renew-timestamps`, JSON.stringify({ withinDays: 30 }), {
      'content-type': 'application/json',
      'x-api-key': s.apiKey,
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ renewed: [id], failed: [] });
    const after = await stored();
    expect(Buffer.from(after.subarray(0, before.length)).equals(Buffer.from(before))).toBe(true);
    const v = await verifyAt(after, new Date(Date.now() + 5 * DAY));
    expect(v.status).toBe('valid');
    expect(v.signatures.filter((x) => x.kind === 'document-timestamp')).toHaveLength(3);
    // the new TSA is good for years: a second call renews nothing
    r = await post(`${s.url}/api/licences/renew-timestamps`, JSON.stringify({ withinDays: 30 }), {
      'content-type': 'application/json',
      'x-api-key': s.apiKey,
    });
    expect(await r.json()).toMatchObject({ renewed: [] });
    const audit = await s.server.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'licence.renew-timestamp')
      .execute();
    expect(audit).toHaveLength(1);
  });

  it('sidian renew-timestamps renews every licence within the window (exit 0)', async () => {
    await s.close();
    const r = runCli(['renew-timestamps', '--dev', '--data', dataDir, '--within-days', '3650', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ renewed: [id], failed: [] });
    s = await startTestServer({ dataDir });
    const v = await verifyAt(await stored(), new Date(Date.now() + 5 * DAY));
    expect(v.status).toBe('valid');
    expect(v.signatures.filter((x) => x.kind === 'document-timestamp')).toHaveLength(4);
  });
});
