/**
 * The server test suite, run once against SQLite and once against PostgreSQL
 * (server.sqlite.test.ts, server.postgres.test.ts). Real server, real HTTP, real openssl.
 */
import { execFileSync } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedLicence } from '../../../packages/core/src/licence/index';
import { creditCodeCheckChar, makeLicenceIdentifier } from '../../../packages/core/src/licence/identifier';
import { verifyAuditChain } from '../audit';
import { createCa, issueCertificate } from '../pki/dev-pki';
import { writePkcs12 } from '../pki/pkcs12';
import { ECDSA_SHA256, EC_P256, x509 } from '../pki/x509';
import { devToken, runCli, startTestServer, tempDir, type TestServer } from './harness';
import { minimalPdf, sampleLicence, sealWith } from './pdfs';
import { defineRevocationSuite } from './revocation-suite';
import { defineDataSafetySuite } from './data-safety';
import { defineGmPkiSuite } from './gm-pki-suite';
import { defineBatchRegistrationSuite } from './batch-registration';
import { signPdf, signerFromPkcs12 } from '@sidian/core';

export interface DbEnv {
  /** A fresh database URL per server (PostgreSQL) or undefined (SQLite under the data dir). */
  newDatabaseUrl(): Promise<string | undefined>;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function openssl(args: string[], input?: Uint8Array): string {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
}

async function post(url: string, body: Uint8Array | string, headers: Record<string, string> = {}) {
  return fetch(url, { method: 'POST', body: body as BodyInit, headers });
}

function expectJsonError(body: unknown, code?: string) {
  expect(body).toMatchObject({ error: expect.any(String), message: expect.any(String) });
  if (code) expect((body as { error: string }).error).toBe(code);
  expect(JSON.stringify(body)).not.toMatch(/\n\s+at |stack/);
}

export function defineServerSuite(env: DbEnv): void {
  let s: TestServer;
  let work: string;

  beforeAll(async () => {
    s = await startTestServer({
      databaseUrl: await env.newDatabaseUrl(),
      corsOrigins: ['https://zwfw.example.gov.cn'],
      limits: { verifyBodyBytes: 100 * 1024 * 1024, enrolPerMinute: 1000 },
    });
    work = tempDir('sidian-work-');
  });
  afterAll(async () => {
    await s?.close();
  });

  describe('basics', () => {
    it('answers /api/health with security headers', async () => {
      const r = await fetch(`${s.url}/api/health`);
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ status: 'ok' });
      expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('strict-transport-security')).toBeTruthy();
      expect(r.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    });

    it('/api/health: anonymous callers and citizens learn only that it is up; operators see mode, database, uptime', async () => {
      const health = async (headers: Record<string, string> = {}) => {
        const r = await fetch(`${s.url}/api/health`, { headers });
        return { status: r.status, body: (await r.json()) as Record<string, unknown> };
      };
      expect(await health()).toEqual({ status: 200, body: { status: 'ok' } });
      expect(await health({ authorization: `Bearer ${await devToken(s.url)}` })).toEqual({
        status: 200,
        body: { status: 'ok' },
      });
      const forged = await health({ 'x-api-key': 'sdk_' + 'f'.repeat(32) });
      expect(forged.status).toBe(401);
      expect(JSON.stringify(forged.body)).not.toMatch(/database|uptime|sqlite|postgres/);
      const operator = await health({ 'x-api-key': s.apiKey });
      expect(operator.status).toBe(200);
      expect(operator.body).toMatchObject({
        status: 'ok',
        mode: 'development',
        database: s.databaseUrl ? 'postgres' : 'sqlite',
        uptimeSeconds: expect.any(Number),
      });
    });

    it('errors are JSON {error, message} without stack traces', async () => {
      let r = await fetch(`${s.url}/api/nope`);
      expect(r.status).toBe(404);
      expectJsonError(await r.json(), 'NOT_FOUND');
      r = await post(`${s.url}/api/dev/token`, '{"name": ', { 'content-type': 'application/json' });
      expect(r.status).toBe(400);
      expectJsonError(await r.json());
      r = await post(`${s.url}/api/dev/token`, '{}', { 'content-type': 'application/json' });
      expect(r.status).toBe(400);
      expectJsonError(await r.json(), 'BAD_REQUEST');
    });

    it('CORS only for configured origins', async () => {
      /** A browser's CORS preflight for a POST from `origin`. */
      const preflight = (path: string, origin: string, requestHeaders?: string) =>
        fetch(`${s.url}${path}`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            ...(requestHeaders ? { 'access-control-request-headers': requestHeaders } : {}),
          },
        });
      let r = await fetch(`${s.url}/api/health`, { headers: { origin: 'https://zwfw.example.gov.cn' } });
      expect(r.headers.get('access-control-allow-origin')).toBe('https://zwfw.example.gov.cn');
      r = await fetch(`${s.url}/api/health`, { headers: { origin: 'https://evil.example.com' } });
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
      r = await preflight('/api/verify', 'https://zwfw.example.gov.cn', 'content-type');
      expect(r.status).toBeLessThan(300);
      expect(r.headers.get('access-control-allow-origin')).toBe('https://zwfw.example.gov.cn');
      r = await preflight('/api/verify', 'https://evil.example.com');
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
      // tus preflight from an embedding site
      r = await preflight(
        '/api/materials/uploads',
        'https://zwfw.example.gov.cn',
        'authorization, tus-resumable, upload-length, upload-metadata',
      );
      expect(r.status).toBeLessThan(300);
      expect(r.headers.get('access-control-allow-origin')).toBe('https://zwfw.example.gov.cn');
      expect(r.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('tus-resumable');
      const created = await fetch(`${s.url}/api/materials/uploads`, {
        method: 'POST',
        headers: {
          origin: 'https://zwfw.example.gov.cn',
          'tus-resumable': '1.0.0',
          'upload-length': '1',
          authorization: `Bearer ${await devToken(s.url)}`,
        },
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('access-control-allow-origin')).toBe('https://zwfw.example.gov.cn');
      expect(created.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('location');
    });

    it('GET /api/trust gives the CA as PEM', async () => {
      const r = await fetch(`${s.url}/api/trust`);
      expect(r.status).toBe(200);
      const pem = await r.text();
      const f = path.join(work, 'trust.pem');
      fs.writeFileSync(f, pem);
      expect(openssl(['x509', '-in', f, '-noout', '-subject'])).toContain('Sidian Development Root CA');
      // the anchors (P-256 root, then the SM2 root), then each CA's current CRL (see revocation-suite.ts)
      const ca = fs.readFileSync(path.join(s.dataDir, 'pki', 'ca.pem'), 'utf8');
      const sm2 = fs.readFileSync(path.join(s.dataDir, 'pki', 'sm2-ca.pem'), 'utf8');
      expect(pem.startsWith(ca + sm2)).toBe(true);
      expect(pem.slice(ca.length + sm2.length)).toMatch(
        /^(-----BEGIN X509 CRL-----\n[^-]+-----END X509 CRL-----\n){2}$/,
      );
    });

    it('the development PKI: TSA with critical timeStamping EKU, seal certificate and PKCS#12 that core reads', async () => {
      const pki = path.join(s.dataDir, 'pki');
      const tsaText = openssl(['x509', '-in', path.join(pki, 'tsa.pem'), '-noout', '-text']);
      expect(tsaText).toMatch(/Extended Key Usage: critical\s+Time Stamping/);
      expect(
        openssl([
          'verify',
          '-CAfile',
          path.join(pki, 'ca.pem'),
          path.join(pki, 'tsa.pem'),
          path.join(pki, 'seal.pem'),
        ]),
      ).toMatch(/seal.pem: OK/);
      const sealSubject = openssl([
        'x509',
        '-in',
        path.join(pki, 'seal.pem'),
        '-noout',
        '-subject',
        '-nameopt',
        'utf8',
      ]);
      expect(sealSubject).toContain('项城市市场监督管理局');
      const password = fs.readFileSync(path.join(pki, 'seal.p12.password'), 'utf8').trim();
      const signer = await signerFromPkcs12(
        new Uint8Array(fs.readFileSync(path.join(pki, 'seal.p12'))),
        password,
      );
      const der = execFileSync('openssl', ['x509', '-in', path.join(pki, 'seal.pem'), '-outform', 'DER']);
      expect(Buffer.from(signer.certificate).equals(der)).toBe(true);
      expect(
        openssl(['pkcs12', '-in', path.join(pki, 'seal.p12'), '-passin', `pass:${password}`, '-nokeys']),
      ).toContain('BEGIN CERTIFICATE');
    });
  });

  describe('POST /api/tsa (RFC 3161)', () => {
    const query = (file: string, extra: string[] = ['-sha256', '-cert']) => {
      const q = path.join(work, `${path.basename(file)}.${Math.random().toString(36).slice(2)}.tsq`);
      openssl(['ts', '-query', '-data', file, ...extra, '-out', q]);
      return new Uint8Array(fs.readFileSync(q));
    };
    const stamp = async (q: Uint8Array) => {
      const r = await post(`${s.url}/api/tsa`, q, { 'content-type': 'application/timestamp-query' });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/timestamp-reply');
      return new Uint8Array(await r.arrayBuffer());
    };

    it('openssl: granted, verifies against the CA, ESSCertIDv2, nonce echoed', async () => {
      const data = path.join(work, 'data.txt');
      fs.writeFileSync(data, '四电 timestamp test ' + Date.now());
      const q = query(data);
      const reply = await stamp(q);
      const replyFile = path.join(work, 'reply.tsr');
      fs.writeFileSync(replyFile, reply);
      const text = openssl(['ts', '-reply', '-in', replyFile, '-text']);
      expect(text).toContain('Status: Granted.');
      expect(text).toMatch(/Policy OID: 2\.25\./);
      expect(text).toMatch(/Accuracy: 0x01 seconds/);
      const qFile = path.join(work, 'q.tsq');
      fs.writeFileSync(qFile, q);
      const qText = openssl(['ts', '-query', '-in', qFile, '-text']);
      const nonce = /Nonce: (\S+)/.exec(qText)![1];
      expect(text).toContain(`Nonce: ${nonce}`);
      const pki = path.join(s.dataDir, 'pki');
      expect(
        openssl([
          'ts',
          '-verify',
          '-data',
          data,
          '-in',
          replyFile,
          '-CAfile',
          path.join(pki, 'ca.pem'),
          '-untrusted',
          path.join(pki, 'tsa.pem'),
        ]),
      ).toContain('Verification: OK');
      // with -cert the TSA certificate is in the token, so the CA alone suffices
      expect(
        openssl(['ts', '-verify', '-data', data, '-in', replyFile, '-CAfile', path.join(pki, 'ca.pem')]),
      ).toContain('Verification: OK');
      // signing-certificate-v2 (ESSCertIDv2) present, v1 absent
      const token = path.join(work, 'token.der');
      openssl(['ts', '-reply', '-in', replyFile, '-token_out', '-out', token]);
      const cms = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', token]);
      expect(cms).toMatch(/id-smime-aa-signingCertificateV2|1\.2\.840\.113549\.1\.9\.16\.2\.47/);
      expect(cms).not.toMatch(/id-smime-aa-signingCertificate\b(?!V2)/);
      // a different document does not verify
      fs.writeFileSync(path.join(work, 'other.txt'), 'other');
      expect(() =>
        openssl([
          'ts',
          '-verify',
          '-data',
          path.join(work, 'other.txt'),
          '-in',
          replyFile,
          '-CAfile',
          path.join(pki, 'ca.pem'),
          '-untrusted',
          path.join(pki, 'tsa.pem'),
        ]),
      ).toThrow();
    });

    it('without certReq the token carries no certificates', async () => {
      const data = path.join(work, 'data2.txt');
      fs.writeFileSync(data, 'no certs');
      const reply = await stamp(query(data, ['-sha384']));
      const f = path.join(work, 'nocert.tsr');
      fs.writeFileSync(f, reply);
      expect(openssl(['ts', '-reply', '-in', f, '-text'])).toContain('Hash Algorithm: sha384');
      const token = path.join(work, 'nocert.der');
      openssl(['ts', '-reply', '-in', f, '-token_out', '-out', token]);
      expect(openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', token])).toMatch(
        /certificates:\s*<ABSENT>|certificates: <EMPTY>|d\.signedData:(?![\s\S]*cert_info)/,
      );
      const pki = path.join(s.dataDir, 'pki');
      expect(
        openssl([
          'ts',
          '-verify',
          '-data',
          data,
          '-in',
          f,
          '-CAfile',
          path.join(pki, 'ca.pem'),
          '-untrusted',
          path.join(pki, 'tsa.pem'),
        ]),
      ).toContain('Verification: OK');
    });

    it('serial numbers never repeat (concurrent requests)', async () => {
      const data = path.join(work, 'data3.txt');
      fs.writeFileSync(data, 'serials');
      const q = query(data);
      const replies = await Promise.all(Array.from({ length: 40 }, () => stamp(q)));
      const serials = replies.map((r, i) => {
        const f = path.join(work, `s${i}.tsr`);
        fs.writeFileSync(f, r);
        return /Serial number: (\S+)/.exec(openssl(['ts', '-reply', '-in', f, '-text']))![1];
      });
      expect(new Set(serials).size).toBe(40);
    });

    it('rejects what it cannot honour, as RFC 3161 rejections', async () => {
      const data = path.join(work, 'data4.txt');
      fs.writeFileSync(data, 'sha1');
      const f = path.join(work, 'sha1.tsr');
      fs.writeFileSync(f, await stamp(query(data, ['-sha1'])));
      const t = openssl(['ts', '-reply', '-in', f, '-text']);
      expect(t).toContain('Status: Rejected.');
      expect(t).toMatch(/Failure info:\s+unrecognized or unsupported algorithm identifier/);
      const g = path.join(work, 'garbage.tsr');
      fs.writeFileSync(g, await stamp(new Uint8Array([0x30, 0x03, 0x02, 0x01])));
      expect(openssl(['ts', '-reply', '-in', g, '-text'])).toMatch(
        /Rejected[\s\S]*Failure info:\s+the data submitted has the wrong format/,
      );
      const p = path.join(work, 'policy.tsr');
      fs.writeFileSync(p, await stamp(query(data, ['-sha256', '-tspolicy', '1.2.3.4'])));
      expect(openssl(['ts', '-reply', '-in', p, '-text'])).toMatch(
        /Rejected[\s\S]*requested TSA policy is not supported/,
      );
      const r = await post(`${s.url}/api/tsa`, 'hello', { 'content-type': 'text/plain' });
      expect(r.status).toBe(415);
      expectJsonError(await r.json(), 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('signPdf with tsa: <server>/api/tsa produces B-T signatures', async () => {
      const signed = await sealWith(s.dataDir, minimalPdf(), { tsa: `${s.url}/api/tsa` });
      const r = await post(`${s.url}/api/verify`, signed, { 'content-type': 'application/pdf' });
      const report = (await r.json()) as {
        status: string;
        signatures: { level: string; timestampTime: string }[];
      };
      expect(report.status).toBe('valid');
      expect(report.signatures[0]!.level).toBe('B-T');
      expect(report.signatures[0]!.timestampTime).toBeTruthy();
    });
  });

  describe('POST /api/verify', () => {
    it('verifies a sealed PDF against the trust anchors', async () => {
      const signed = await sealWith(s.dataDir, minimalPdf());
      const r = await post(`${s.url}/api/verify`, signed, { 'content-type': 'application/pdf' });
      expect(r.status).toBe(200);
      const report = (await r.json()) as {
        status: string;
        signatures: { trust: string; signer: { organization: string } }[];
      };
      expect(report.status).toBe('valid');
      expect(report.signatures[0]!.trust).toBe('trusted');
      expect(report.signatures[0]!.signer.organization).toBe('项城市市场监督管理局');
      // any content type is accepted for the body
      const r2 = await post(`${s.url}/api/verify`, signed, { 'content-type': 'application/json' });
      expect(((await r2.json()) as { status: string }).status).toBe('valid');
    });

    it('unsigned → status unsigned; tampered → invalid; non-PDF → 422 JSON; empty → 400', async () => {
      let r = await post(`${s.url}/api/verify`, minimalPdf(), { 'content-type': 'application/pdf' });
      expect(((await r.json()) as { status: string }).status).toBe('unsigned');
      const signed = await sealWith(s.dataDir, minimalPdf());
      const bad = new Uint8Array(signed);
      const i = Buffer.from(bad).indexOf('BT ET');
      bad[i] = 0x43; // 'C'
      r = await post(`${s.url}/api/verify`, bad, { 'content-type': 'application/pdf' });
      expect(((await r.json()) as { status: string }).status).toBe('invalid');
      r = await post(`${s.url}/api/verify`, 'this is not a pdf', { 'content-type': 'application/pdf' });
      expect(r.status).toBe(422);
      expectJsonError(await r.json(), 'PDF_NOT_PDF');
      r = await post(`${s.url}/api/verify`, new Uint8Array(0), { 'content-type': 'application/pdf' });
      expect(r.status).toBe(400);
      expectJsonError(await r.json());
      r = await post(`${s.url}/api/verify`, '%PDF-1.7\ngarbage without xref', {
        'content-type': 'application/pdf',
      });
      expect([200, 422]).toContain(r.status);
      if (r.status === 422) expectJsonError(await r.json());
    });
  });

  describe('enrolment and CRL', () => {
    const makeCsr = async (keys?: CryptoKeyPair, signWith?: CryptoKey) => {
      const k =
        keys ?? ((await webcrypto.subtle.generateKey(EC_P256, false, ['sign', 'verify'])) as CryptoKeyPair);
      const csr = await x509.Pkcs10CertificateRequestGenerator.create({
        name: 'CN=ignored',
        keys: { publicKey: k.publicKey, privateKey: signWith ?? k.privateKey },
        signingAlgorithm: ECDSA_SHA256,
      });
      return { keys: k, pem: csr.toString('pem') };
    };

    it('issues a certificate whose subject comes from the token, with digitalSignature and nonRepudiation', async () => {
      const token = await devToken(s.url, '李四', '110101198001010012');
      const { pem } = await makeCsr();
      const r = await post(`${s.url}/api/enrol`, JSON.stringify({ csr: pem }), {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
      });
      expect(r.status).toBe(201);
      const body = (await r.json()) as { certificate: string; chain: string[]; serialNumber: string };
      const certFile = path.join(work, 'enrolled.pem');
      fs.writeFileSync(certFile, body.certificate);
      const text = openssl(['x509', '-in', certFile, '-noout', '-text', '-nameopt', 'utf8']);
      expect(text).toContain('CN=李四');
      expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Non Repudiation/);
      expect(text).toMatch(/CA:FALSE/);
      const chainFile = path.join(work, 'chain.pem');
      fs.writeFileSync(chainFile, body.chain.join(''));
      expect(openssl(['verify', '-CAfile', chainFile, certFile])).toContain('OK');
      // the id number itself is not in the certificate
      expect(text).not.toContain('110101198001010012');
      // DER body and PEM chain response
      const { pem: pem2 } = await makeCsr();
      const der = Buffer.from(pem2.replace(/-----[^-]+-----|\s/g, ''), 'base64');
      const r2 = await post(`${s.url}/api/enrol`, der, {
        'content-type': 'application/pkcs10',
        authorization: `Bearer ${token}`,
        accept: 'application/pem-certificate-chain',
      });
      expect(r2.status).toBe(200);
      expect((await r2.text()).match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    });

    it('401 for missing, bad and expired tokens', async () => {
      const { pem } = await makeCsr();
      const body = JSON.stringify({ csr: pem });
      let r = await post(`${s.url}/api/enrol`, body, { 'content-type': 'application/json' });
      expect(r.status).toBe(401);
      expectJsonError(await r.json());
      r = await post(`${s.url}/api/enrol`, body, {
        'content-type': 'application/json',
        authorization: 'Bearer not.a.jwt',
      });
      expect(r.status).toBe(401);
      expectJsonError(await r.json(), 'TOKEN_INVALID');
      const expired = await devToken(s.url, '王五', '110101197001010011', -120);
      r = await post(`${s.url}/api/enrol`, body, {
        'content-type': 'application/json',
        authorization: `Bearer ${expired}`,
      });
      expect(r.status).toBe(401);
      expectJsonError(await r.json(), 'TOKEN_EXPIRED');
      // a token signed by some other key
      const token = await devToken(s.url);
      const [h, p] = token.split('.');
      const forged = `${h}.${p}.${Buffer.from(new Uint8Array(64).fill(7)).toString('base64url')}`;
      r = await post(`${s.url}/api/enrol`, body, {
        'content-type': 'application/json',
        authorization: `Bearer ${forged}`,
      });
      expect(r.status).toBe(401);
    });

    it('checks proof of possession and the key type', async () => {
      const token = await devToken(s.url);
      const other = (await webcrypto.subtle.generateKey(EC_P256, false, ['sign', 'verify'])) as CryptoKeyPair;
      const mine = (await webcrypto.subtle.generateKey(EC_P256, false, ['sign', 'verify'])) as CryptoKeyPair;
      const { pem } = await makeCsr(mine, other.privateKey);
      let r = await post(`${s.url}/api/enrol`, JSON.stringify({ csr: pem }), {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
      });
      expect(r.status).toBe(422);
      expectJsonError(await r.json(), 'CSR_POP_FAILED');
      r = await post(`${s.url}/api/enrol`, JSON.stringify({ csr: 'AAAA' }), {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
      });
      expect(r.status).toBe(400);
      expectJsonError(await r.json(), 'CSR_MALFORMED');
      const rsa = (await webcrypto.subtle.generateKey(
        {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: 1024,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        },
        false,
        ['sign', 'verify'],
      )) as CryptoKeyPair;
      const weak = await x509.Pkcs10CertificateRequestGenerator.create({
        name: 'CN=x',
        keys: rsa,
        signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      });
      r = await post(`${s.url}/api/enrol`, JSON.stringify({ csr: weak.toString('pem') }), {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
      });
      expect(r.status).toBe(422);
      expectJsonError(await r.json(), 'CSR_KEY_UNSUPPORTED');
    });

    it('GET /api/crl is signed by the CA and lists revoked serials', async () => {
      const token = await devToken(s.url, '赵六', '110101199912310013');
      const { pem } = await makeCsr();
      const r = await post(`${s.url}/api/enrol`, JSON.stringify({ csr: pem }), {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
      });
      const { serialNumber } = (await r.json()) as { serialNumber: string };
      // someone else's token cannot revoke it
      const other = await devToken(s.url, '钱七', '110101199912310099');
      let rv = await post(`${s.url}/api/certificates/${serialNumber}/revoke`, JSON.stringify({ reason: 1 }), {
        'content-type': 'application/json',
        authorization: `Bearer ${other}`,
      });
      expect(rv.status).toBe(404);
      rv = await post(`${s.url}/api/certificates/${serialNumber}/revoke`, JSON.stringify({ reason: 1 }), {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
      });
      expect(rv.status).toBe(200);
      const crl = await fetch(`${s.url}/api/crl`);
      expect(crl.headers.get('content-type')).toBe('application/pkix-crl');
      const f = path.join(work, 'crl.der');
      fs.writeFileSync(f, new Uint8Array(await crl.arrayBuffer()));
      const out = execFileSync(
        'openssl',
        [
          'crl',
          '-inform',
          'DER',
          '-in',
          f,
          '-noout',
          '-text',
          '-CAfile',
          path.join(s.dataDir, 'pki', 'ca.pem'),
        ],
        {
          stdio: 'pipe',
        },
      );
      const all = out.toString();
      expect(all).toContain(serialNumber.toUpperCase());
      expect(all).toContain('Key Compromise');
      const verified = execFileSync(
        'openssl',
        ['crl', '-inform', 'DER', '-in', f, '-noout', '-CAfile', path.join(s.dataDir, 'pki', 'ca.pem')],
        {
          stdio: 'pipe',
          encoding: 'utf8',
        },
      );
      void verified; // openssl prints "verify OK" on stderr; a failure exits non-zero
    });
  });

  const licenceFor = (serial: string, over: Partial<ReturnType<typeof sampleLicence>> = {}) => {
    const base = sampleLicence();
    return sampleLicence({
      number: `JY${serial}`,
      identifier: makeLicenceIdentifier({
        typeCode: base.typeCode,
        issuerCode: base.issuer.creditCode,
        serial,
        version: 1,
      }),
      ...over,
    });
  };
  const sealLicence = async (l: ReturnType<typeof sampleLicence>, o: { allowIncomplete?: boolean } = {}) =>
    sealWith(s.dataDir, embedLicence(minimalPdf(), l, o), { certify: 2 });
  const register = (pdf: Uint8Array, key: string | null = s.apiKey) =>
    post(`${s.url}/api/licences`, pdf, {
      'content-type': 'application/pdf',
      ...(key ? { 'x-api-key': key } : {}),
    });

  describe('licences (证照库)', () => {
    it('registers a sealed licence; metadata, status, file and the /v page', async () => {
      const l = licenceFor('100001');
      const pdf = await sealLicence(l);
      const r = await register(pdf);
      expect(r.status).toBe(201);
      const reg = (await r.json()) as Record<string, unknown>;
      expect(reg).toMatchObject({ id: l.identifier, status: 'valid', number: l.number });
      expect(JSON.stringify(reg)).not.toContain(
        l.holder.idNumber === l.issuer.creditCode ? '@@' : l.holder.idNumber,
      );
      const g = await fetch(`${s.url}/api/licences/${l.identifier}`);
      expect(((await g.json()) as { status: string }).status).toBe('valid');
      const f = await fetch(`${s.url}/api/licences/${l.identifier}/file`);
      expect(f.headers.get('content-type')).toBe('application/pdf');
      // stored as B-LTA: the sealed PDF as sent, extended incrementally (ltv.test.ts)
      const stored = new Uint8Array(await f.arrayBuffer());
      expect(sha256(stored)).toBe(reg.sha256);
      expect(Buffer.from(stored.subarray(0, pdf.length)).equals(Buffer.from(pdf))).toBe(true);
      const v = await fetch(`${s.url}/v/${l.identifier}`);
      expect(v.status).toBe(200);
      const html = await v.text();
      expect(html).toContain('<html lang="zh-CN">');
      expect(html).toContain('状态：有效');
      expect(html).toContain(l.holder.name);
      expect(html).toContain(`/api/licences/${l.identifier}/file`);
      expect(html).toContain('核验签章');
      expect(html).not.toMatch(/<script/i);
      const ver = await fetch(`${s.url}/api/licences/${l.identifier}/verification`);
      expect(((await ver.json()) as { report: { status: string } }).report.status).toBe('valid');
      const again = await register(pdf);
      expect(again.status).toBe(409);
      expectJsonError(await again.json(), 'LICENCE_EXISTS');
    });

    it('needs a department API key', async () => {
      const pdf = await sealLicence(licenceFor('100002'));
      let r = await register(pdf, null);
      expect(r.status).toBe(401);
      expectJsonError(await r.json(), 'API_KEY_REQUIRED');
      r = await register(pdf, 'sdk_wrong');
      expect(r.status).toBe(401);
      expectJsonError(await r.json(), 'API_KEY_INVALID');
    });

    it('accepts only a PDF whose seal verifies and whose licence.json is complete', async () => {
      // unsigned
      let r = await register(embedLicence(minimalPdf(), licenceFor('100003')));
      expect(r.status).toBe(422);
      expectJsonError(await r.json(), 'LICENCE_NOT_SEALED');
      // sealed, no licence.json
      r = await register(await sealWith(s.dataDir, minimalPdf()));
      expect(r.status).toBe(422);
      expectJsonError(await r.json(), 'LICENCE_MISSING');
      // incomplete licence.json
      r = await register(
        await sealLicence(
          licenceFor('100004', { holder: { name: '', idType: '居民身份证', idNumber: '' } }),
          { allowIncomplete: true },
        ),
      );
      expect(r.status).toBe(422);
      expectJsonError(await r.json(), 'LICENCE_INCOMPLETE');
      // licence.json replaced after sealing
      const sealed = await sealLicence(licenceFor('100005'));
      r = await register(
        embedLicence(
          sealed,
          licenceFor('100005', {
            holder: {
              name: '冒名公司',
              idType: '统一社会信用代码',
              idNumber: sampleLicence().holder.idNumber,
            },
          }),
        ),
      );
      expect(r.status).toBe(422);
      expect(((await r.json()) as { error: string }).error).toMatch(
        /LICENCE_SEAL_INVALID|LICENCE_NOT_COVERED/,
      );
      // sealed with a certificate from another CA
      const ca = await createCa('C=CN, CN=Some Other CA');
      const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
      const cert = await issueCertificate(ca, {
        subject: [
          { '2.5.4.6': ['CN'] },
          { '2.5.4.10': ['项城市市场监督管理局'] },
          { '2.5.4.3': ['项城市市场监督管理局'] },
        ],
        publicKey: keys.publicKey,
        profile: 'signer',
        validityMs: 86400_000,
      });
      const p12 = await writePkcs12({
        pkcs8: new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
        certificate: new Uint8Array(cert.rawData),
        chain: [ca.der],
        password: 'x',
      });
      const signer = await signerFromPkcs12(p12, 'x');
      const foreign = await signPdf(embedLicence(minimalPdf(), licenceFor('100006')), { signer, certify: 2 });
      r = await register(foreign);
      expect(r.status).toBe(422);
      expectJsonError(await r.json(), 'LICENCE_SEAL_INVALID');
      // not a PDF
      r = await register(new TextEncoder().encode('{"licence": true}'));
      expect(r.status).toBe(422);
      expectJsonError(await r.json(), 'PDF_NOT_PDF');
      for (const serial of ['100003', '100004', '100005', '100006']) {
        const id = makeLicenceIdentifier({
          typeCode: sampleLicence().typeCode,
          issuerCode: sampleLicence().issuer.creditCode,
          serial,
          version: 1,
        });
        expect((await fetch(`${s.url}/api/licences/${id}`)).status).toBe(404);
      }
    });

    it('a department registers only its own licences', async () => {
      const otherCode = '11411681005598999'.slice(0, 17);
      const other = otherCode + creditCodeCheckChar(otherCode);
      const l = licenceFor('100007', {
        issuer: { name: '项城市市场监督管理局', creditCode: other },
        identifier: makeLicenceIdentifier({
          typeCode: sampleLicence().typeCode,
          issuerCode: other,
          serial: '100007',
          version: 1,
        }),
      });
      const r = await register(await sealLicence(l));
      expect(r.status).toBe(403);
      expectJsonError(await r.json(), 'LICENCE_OTHER_ISSUER');
    });

    it('revocation by the issuing department; the page shows it', async () => {
      const l = licenceFor('100008');
      expect((await register(await sealLicence(l))).status).toBe(201);
      const other = await s.server.ctx.auth.createDepartment({
        name: '别的部门',
        creditCode: sampleLicence().holder.idNumber,
      });
      let r = await post(`${s.url}/api/licences/${l.identifier}/revoke`, JSON.stringify({ reason: 'x' }), {
        'content-type': 'application/json',
        'x-api-key': other.apiKey,
      });
      expect(r.status).toBe(403);
      r = await post(
        `${s.url}/api/licences/${l.identifier}/revoke`,
        JSON.stringify({ reason: '证照信息变更', status: 'cancelled' }),
        {
          'content-type': 'application/json',
          'x-api-key': s.apiKey,
        },
      );
      expect(r.status).toBe(200);
      expect(((await r.json()) as { status: string }).status).toBe('cancelled');
      expect(await (await fetch(`${s.url}/api/licences/${l.identifier}`)).json()).toMatchObject({
        status: 'cancelled',
        statusText: { 'zh-CN': '已注销', en: 'cancelled' },
        revocationReason: '证照信息变更',
      });
      const page = await (await fetch(`${s.url}/v/${l.identifier}`)).text();
      expect(page).toContain('已注销');
      expect(page).toContain('注销时间');
      expect(page).not.toContain('吊销');
      r = await post(`${s.url}/api/licences/${l.identifier}/revoke`, '{}', {
        'content-type': 'application/json',
        'x-api-key': s.apiKey,
      });
      expect(r.status).toBe(409);
    });

    it('注销, 吊销 and 中止 stay apart: each status with its own words and reason (JSON and page)', async () => {
      const withdraw = (id: string, body: unknown) =>
        post(`${s.url}/api/licences/${id}/revoke`, JSON.stringify(body), {
          'content-type': 'application/json',
          'x-api-key': s.apiKey,
        });
      const revoked = licenceFor('100018');
      expect((await register(await sealLicence(revoked))).status).toBe(201);
      expect((await withdraw(revoked.identifier, { status: 'withdrawn' })).status).toBe(400);
      expect(
        (await withdraw(revoked.identifier, { reason: '违法经营，依法吊销', status: 'revoked' })).status,
      ).toBe(200);
      expect(await (await fetch(`${s.url}/api/licences/${revoked.identifier}`)).json()).toMatchObject({
        status: 'revoked',
        statusText: { 'zh-CN': '已吊销', en: 'revoked' },
        revocationReason: '违法经营，依法吊销',
      });
      const revokedPage = await (await fetch(`${s.url}/v/${revoked.identifier}`)).text();
      expect(revokedPage).toContain('已吊销');
      expect(revokedPage).toContain('违法经营，依法吊销');
      expect(revokedPage).not.toContain('注销');

      const suspended = licenceFor('100019');
      expect((await register(await sealLicence(suspended))).status).toBe(201);
      expect(
        (await withdraw(suspended.identifier, { reason: '暂扣，待处理', status: 'suspended' })).status,
      ).toBe(200);
      expect(await (await fetch(`${s.url}/api/licences/${suspended.identifier}`)).json()).toMatchObject({
        status: 'suspended',
        statusText: { 'zh-CN': '已中止', en: 'suspended' },
      });
      const suspendedPage = await (await fetch(`${s.url}/v/${suspended.identifier}`)).text();
      expect(suspendedPage).toContain('已中止');
      expect(suspendedPage).not.toContain('状态：有效');
      // a suspended licence may still be revoked; a revoked one cannot be withdrawn again
      expect((await withdraw(suspended.identifier, { status: 'revoked' })).status).toBe(200);
      expect((await withdraw(suspended.identifier, { status: 'cancelled' })).status).toBe(409);
    });

    it('expired licences report expired; unknown ids 404 (JSON and page)', async () => {
      const l = licenceFor('100009', {
        issueDate: '2020-01-01',
        validFrom: '2020-01-01',
        validUntil: '2021-01-01',
      });
      expect((await register(await sealLicence(l))).status).toBe(201);
      expect(
        ((await (await fetch(`${s.url}/api/licences/${l.identifier}`)).json()) as { status: string }).status,
      ).toBe('expired');
      expect(await (await fetch(`${s.url}/api/licences/${l.identifier}`)).json()).toMatchObject({
        statusText: { 'zh-CN': '已过期', en: 'expired' },
      });
      expect(await (await fetch(`${s.url}/v/${l.identifier}`)).text()).toContain('已过期');
      const unknown = licenceFor('999999').identifier;
      const r = await fetch(`${s.url}/api/licences/${unknown}`);
      expect(r.status).toBe(404);
      expectJsonError(await r.json(), 'LICENCE_NOT_FOUND');
      expect((await fetch(`${s.url}/v/${unknown}`)).status).toBe(404);
      expect((await fetch(`${s.url}/v/not-an-id`)).status).toBe(404);
    });

    it('a failure in the middle of a registration leaves no half-registered licence', async () => {
      const l = licenceFor('100010');
      const pdf = await sealLicence(l);
      const before = await s.server.ctx.audit.head();
      s.server.ctx.hooks.afterLicenceInsert = () => {
        throw new Error('simulated crash between the licence row and the audit entry');
      };
      try {
        const r = await register(pdf);
        expect(r.status).toBe(500);
        expectJsonError(await r.json(), 'INTERNAL');
      } finally {
        s.server.ctx.hooks.afterLicenceInsert = undefined;
      }
      expect((await fetch(`${s.url}/api/licences/${l.identifier}`)).status).toBe(404);
      expect(await s.server.ctx.audit.head()).toEqual(before);
      const rows = await s.server.ctx.db
        .selectFrom('licences')
        .select('id')
        .where('id', '=', l.identifier)
        .execute();
      expect(rows).toHaveLength(0);
      // and the same document registers cleanly afterwards
      expect((await register(pdf)).status).toBe(201);
    });
  });

  // ------------------------------------------------------------------ materials
  const tusCreate = async (size: number, token: string, meta: Record<string, string> = {}) => {
    const md = Object.entries({
      filename: 'id-card.pdf',
      filetype: 'application/pdf',
      requirement: 'id-card',
      ...meta,
    })
      .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
      .join(',');
    const r = await fetch(`${s.url}/api/materials/uploads`, {
      method: 'POST',
      headers: {
        'tus-resumable': '1.0.0',
        'upload-length': String(size),
        'upload-metadata': md,
        authorization: `Bearer ${token}`,
      },
    });
    return r;
  };
  const tusPatch = (loc: string, offset: number, chunk: Uint8Array, token: string) =>
    fetch(`${s.url}${loc}`, {
      method: 'PATCH',
      headers: {
        'tus-resumable': '1.0.0',
        'upload-offset': String(offset),
        'content-type': 'application/offset+octet-stream',
        authorization: `Bearer ${token}`,
      },
      body: chunk as BodyInit,
    });

  describe('materials (材料库, tus 1.0)', () => {
    it('uploads in chunks, stores by SHA-256, records the owner; only the owner reads it', async () => {
      const token = await devToken(s.url, '孙八', '110101198807070017');
      const data = new Uint8Array(300_000);
      webcrypto.getRandomValues(data.subarray(0, 65536));
      data.fill(7, 65536);
      const c = await tusCreate(data.length, token);
      expect(c.status).toBe(201);
      const loc = c.headers.get('location')!;
      expect(loc).toMatch(/^\/api\/materials\/uploads\/[0-9a-f]{32}$/);
      let p = await tusPatch(loc, 0, data.subarray(0, 100_000), token);
      expect(p.status).toBe(204);
      expect(p.headers.get('upload-offset')).toBe('100000');
      const h = await fetch(`${s.url}${loc}`, {
        method: 'HEAD',
        headers: { 'tus-resumable': '1.0.0', authorization: `Bearer ${token}` },
      });
      expect(h.headers.get('upload-offset')).toBe('100000');
      // another citizen cannot see or touch the upload
      const thief = await devToken(s.url, '小偷', '110101199001010000');
      const h2 = await fetch(`${s.url}${loc}`, {
        method: 'HEAD',
        headers: { 'tus-resumable': '1.0.0', authorization: `Bearer ${thief}` },
      });
      expect(h2.status).toBe(404);
      p = await tusPatch(loc, 100_000, data.subarray(100_000), token);
      expect(p.status).toBe(204);
      const id = loc.split('/').pop()!;
      expect(p.headers.get('x-material-id')).toBe(id);
      expect(p.headers.get('x-content-sha256')).toBe(sha256(data));
      const m = await fetch(`${s.url}/api/materials/${id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(m.status).toBe(200);
      expect(await m.json()).toMatchObject({
        id,
        sha256: sha256(data),
        size: data.length,
        name: 'id-card.pdf',
        requirement: 'id-card',
      });
      const content = await fetch(`${s.url}/api/materials/${id}/content`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(sha256(new Uint8Array(await content.arrayBuffer()))).toBe(sha256(data));
      expect(
        (await fetch(`${s.url}/api/materials/${id}`, { headers: { authorization: `Bearer ${thief}` } }))
          .status,
      ).toBe(404);
      expect((await fetch(`${s.url}/api/materials/${id}`)).status).toBe(401);
      // a department reads only what is handed in to it (data-safety.ts): this upload names none
      expect(
        (await fetch(`${s.url}/api/materials/${id}/content`, { headers: { 'x-api-key': s.apiKey } })).status,
      ).toBe(404);
      // by hash: the owner may skip the bytes, others learn nothing
      const byHash = (t: string) =>
        fetch(`${s.url}/api/materials/by-hash/${sha256(data)}`, {
          method: 'HEAD',
          headers: { authorization: `Bearer ${t}` },
        });
      expect((await byHash(token)).status).toBe(200);
      expect((await byHash(thief)).status).toBe(404);
      // the lookup the uploader uses: "not stored" is a normal 200 answer, never a 404 the browser logs
      const lookup = (t: string | undefined, hash = sha256(data)) =>
        fetch(
          `${s.url}/api/materials/lookup?sha256=${hash}`,
          t ? { headers: { authorization: `Bearer ${t}` } } : {},
        );
      let look = await lookup(token);
      expect(look.status).toBe(200);
      expect(await look.json()).toEqual({ stored: true, id: expect.any(String), size: data.length });
      look = await lookup(thief); // someone without the bytes learns nothing
      expect(look.status).toBe(200);
      expect(await look.json()).toEqual({ stored: false });
      look = await lookup(token, 'f'.repeat(64));
      expect(look.status).toBe(200);
      expect(await look.json()).toEqual({ stored: false });
      expect((await lookup(undefined)).status).toBe(401);
      expect((await lookup(token, 'not-a-hash')).status).toBe(400);
      const reuse = await post(
        `${s.url}/api/materials`,
        JSON.stringify({ sha256: sha256(data), requirement: 'business-licence' }),
        {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
        },
      );
      expect(reuse.status).toBe(201);
      const reused = (await reuse.json()) as { id: string; sha256: string; requirement: string };
      expect(reused).toMatchObject({ sha256: sha256(data), requirement: 'business-licence' });
      expect(reused.id).not.toBe(id);
      const steal = await post(`${s.url}/api/materials`, JSON.stringify({ sha256: sha256(data) }), {
        'content-type': 'application/json',
        authorization: `Bearer ${thief}`,
      });
      expect(steal.status).toBe(404);
      // one copy per content
      const again = await tusCreate(data.length, thief);
      const loc2 = again.headers.get('location')!;
      expect((await tusPatch(loc2, 0, data, thief)).status).toBe(204);
      const blobs = await s.server.ctx.db
        .selectFrom('blobs')
        .selectAll()
        .where('sha256', '=', sha256(data))
        .execute();
      expect(blobs).toHaveLength(1);
      expect(s.server.ctx.blobs.has(sha256(data))).toBe(true);
      const audit = await s.server.ctx.db
        .selectFrom('audit_log')
        .select(['action', 'subject'])
        .where('action', '=', 'material.upload')
        .execute();
      expect(audit.filter((a) => a.subject.endsWith(sha256(data)))).toHaveLength(2);
    });

    it('refuses anonymous uploads and wrong offsets', async () => {
      const r = await fetch(`${s.url}/api/materials/uploads`, {
        method: 'POST',
        headers: { 'tus-resumable': '1.0.0', 'upload-length': '10' },
      });
      expect(r.status).toBe(401);
      expectJsonError(await r.json());
      const token = await devToken(s.url);
      const c = await tusCreate(10, token);
      const loc = c.headers.get('location')!;
      const p = await tusPatch(loc, 5, new Uint8Array(5), token);
      expect(p.status).toBe(409);
    });
  });

  defineDataSafetySuite(env);
  defineBatchRegistrationSuite(env);

  // ------------------------------------------------------------------ audit (last: it edits the database)
  describe('audit trail (全程留痕)', () => {
    it('pages through a valid chain of every act; an edit in the database is found by the API check and the CLI', async () => {
      const all: { seq: number; hash: string; prevHash: string; action: string }[] = [];
      let after = 0;
      for (;;) {
        const r = await fetch(`${s.url}/api/audit?after=${after}&limit=7`);
        expect(r.status).toBe(200);
        const page = (await r.json()) as { entries: typeof all; next: number | null };
        all.push(...page.entries);
        if (page.next === null) break;
        after = page.next;
      }
      all.forEach((e, i) => {
        expect(e.seq).toBe(i + 1);
        if (i > 0) expect(e.prevHash).toBe(all[i - 1]!.hash);
      });
      const actions = new Set(all.map((e) => e.action));
      for (const a of [
        'certificate.enrol',
        'certificate.revoke',
        'licence.register',
        'licence.revoke',
        'material.upload',
        'material.reuse',
      ])
        expect(actions).toContain(a);
      expect(await verifyAuditChain(s.server.ctx.db)).toMatchObject({ ok: true, rows: all.length });
      const cliEnv = { DATABASE_URL: s.databaseUrl ?? '' };
      let cli = runCli(['audit', 'verify', '--data', s.dataDir], cliEnv);
      expect(cli.code).toBe(0);
      expect(cli.stdout).toContain(`intact: ${all.length} entries`);

      // someone edits a row directly in the database
      const victim = all[Math.floor(all.length / 2)]!;
      await s.server.ctx.db
        .updateTable('audit_log')
        .set({ actor: 'department:nobody' })
        .where('seq', '=', victim.seq)
        .execute();
      const check = await verifyAuditChain(s.server.ctx.db);
      expect(check.ok).toBe(false);
      expect(check.broken).toMatchObject({ seq: victim.seq, reason: expect.stringContaining('edited') });
      cli = runCli(['audit', 'verify', '--data', s.dataDir], cliEnv);
      expect(cli.code).toBe(1);
      expect(cli.stdout).toContain(`BROKEN at entry ${victim.seq}`);
      // a deleted row is found too
      await s.server.ctx.db
        .deleteFrom('audit_log')
        .where('seq', '=', victim.seq + 1)
        .execute();
      const check2 = await verifyAuditChain(s.server.ctx.db);
      expect(check2.ok).toBe(false);
    });
  });

  defineRevocationSuite(env);
  defineGmPkiSuite(env);
}
