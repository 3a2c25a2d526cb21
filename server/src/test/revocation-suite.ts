/**
 * Revocation the server knows (issue 14), run against SQLite and PostgreSQL like the rest of the
 * server suite: the CRL state in the database, `/api/verify`, licence verifications, material
 * signatures and `/api/trust` checking against the server's current CRL, the report cache keyed by
 * the CRL number, and the OCSP responder (RFC 6960) as `openssl ocsp` sees it.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCadesSignature,
  createCertificationRequest,
  signerFromCryptoKey,
  signPdf,
  verifyPdf,
  type Signer,
} from '@sidian/core';
import { devToken, startTestServer, tempDir, type TestServer } from './harness';
import { minimalPdf, sealedLicence } from './pdfs';
import type { DbEnv } from './suite';

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
const pemDer = (pem: string) => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

interface Report {
  status: string;
  signatures: { trust: string; status: string; reasons: string[]; validationTime?: string }[];
}

interface Citizen {
  token: string;
  serial: string;
  certPem: string;
  signer: Signer;
}

/** A citizen enrolled through POST /api/enrol, the key in WebCrypto. */
async function enrol(url: string, name: string, idNumber: string): Promise<Citizen> {
  const token = await devToken(url, name, idNumber);
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const csr = await createCertificationRequest(keys, { commonName: 'ignored' });
  const r = await fetch(`${url}/api/enrol`, {
    method: 'POST',
    headers: { 'content-type': 'application/pkcs10', authorization: `Bearer ${token}` },
    body: csr as BodyInit,
  });
  if (r.status !== 201) throw new Error(`enrol: ${r.status} ${await r.text()}`);
  const b = (await r.json()) as { serialNumber: string; certificate: string; chain: string[] };
  return {
    token,
    serial: b.serialNumber,
    certPem: b.certificate,
    signer: signerFromCryptoKey(keys.privateKey, pemDer(b.certificate), b.chain.map(pemDer)),
  };
}

const revoke = (url: string, c: Citizen, reason: unknown, token = c.token) =>
  fetch(`${url}/api/certificates/${c.serial}/revoke`, {
    ...json({ reason }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  });

async function verify(url: string, pdf: Uint8Array, at?: Date) {
  const r = await fetch(`${url}/api/verify${at ? `?at=${encodeURIComponent(at.toISOString())}` : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/pdf' },
    body: pdf as BodyInit,
  });
  expect(r.status).toBe(200);
  return {
    report: (await r.json()) as Report,
    cache: r.headers.get('sidian-cache'),
    crlNumber: r.headers.get('sidian-crl-number'),
  };
}

async function crlOf(url: string) {
  const r = await fetch(`${url}/api/crl`);
  expect(r.status).toBe(200);
  return { der: new Uint8Array(await r.arrayBuffer()), number: r.headers.get('sidian-crl-number') };
}

function opensslCrlText(der: Uint8Array, caFile: string, dir: string): string {
  const f = path.join(dir, `crl-${Date.now()}-${Math.random()}.der`);
  fs.writeFileSync(f, der);
  const r = spawnSync('openssl', ['crl', '-inform', 'DER', '-in', f, '-noout', '-text', '-CAfile', caFile], {
    encoding: 'utf8',
  });
  expect(r.status).toBe(0);
  expect(r.stderr + r.stdout).toMatch(/verify OK/);
  return r.stdout;
}

/** A command's exit status and output, without blocking the event loop. */
function run(cmd: string, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

const crlNumberIn = (text: string) => BigInt(/X509v3 CRL Number:\s*\n\s*(\d+)/.exec(text)![1]!);

/** One tus upload in one PATCH; resolves with the material id. */
async function upload(url: string, token: string, data: Uint8Array): Promise<string> {
  const md = Object.entries({ filename: '承诺书.pdf', filetype: 'application/pdf', requirement: 'pledge' })
    .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
    .join(',');
  const c = await fetch(`${url}/api/materials/uploads`, {
    method: 'POST',
    headers: {
      'tus-resumable': '1.0.0',
      'upload-length': String(data.length),
      'upload-metadata': md,
      authorization: `Bearer ${token}`,
    },
  });
  expect(c.status).toBe(201);
  const p = await fetch(`${url}${c.headers.get('location')!}`, {
    method: 'PATCH',
    headers: {
      'tus-resumable': '1.0.0',
      'upload-offset': '0',
      'content-type': 'application/offset+octet-stream',
      authorization: `Bearer ${token}`,
    },
    body: data as BodyInit,
  });
  expect(p.status).toBe(204);
  return p.headers.get('x-material-id')!;
}

export function defineRevocationSuite(env: DbEnv): void {
  describe('revocation the server knows', () => {
    let s: TestServer;
    let work: string;
    let caFile: string;

    beforeAll(async () => {
      s = await startTestServer({ databaseUrl: await env.newDatabaseUrl() });
      work = tempDir('sidian-rev-');
      caFile = path.join(s.dataDir, 'pki', 'ca.pem');
    });
    afterAll(async () => {
      await s?.close();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it('a PDF signed with an enrolled certificate is trusted, then revoked at once after POST .../revoke; the cache follows the CRL number', async () => {
      const c = await enrol(s.url, '孙八', '110101198506060016');
      const pdf = await signPdf(minimalPdf(), { signer: c.signer, reason: '申请', location: '项城市' });
      const first = await verify(s.url, pdf);
      expect(first.report.status).toBe('valid');
      expect(first.report.signatures[0]!.trust).toBe('trusted');
      expect(first.cache).toBe('miss');
      // the same bytes again: the cached report, under the same CRL number
      const second = await verify(s.url, pdf);
      expect(second.cache).toBe('hit');
      expect(second.crlNumber).toBe(first.crlNumber);
      expect(second.report).toEqual(first.report);

      // somebody else cannot revoke it (404, nothing changes) ...
      const thief = await devToken(s.url, '小偷', '110101199001010000');
      expect((await revoke(s.url, c, 1, thief)).status).toBe(404);
      expect((await verify(s.url, pdf)).cache).toBe('hit');
      // ... its holder can
      const rv = await revoke(s.url, c, 1);
      expect(rv.status).toBe(200);
      expect(await rv.json()).toMatchObject({ serialNumber: c.serial, revoked: true, reason: 1 });
      const after = await verify(s.url, pdf);
      expect(after.cache).toBe('miss');
      expect(BigInt(after.crlNumber!)).toBeGreaterThan(BigInt(first.crlNumber!));
      expect(after.report.signatures[0]!.trust).toBe('revoked');
      expect(after.report.status).not.toBe('valid');
      expect(after.report.signatures[0]!.reasons.join(' ')).toMatch(/revoked/);
      // a second later, still revoked (and now from the cache)
      await new Promise((r) => setTimeout(r, 1000));
      const later = await verify(s.url, pdf);
      expect(later.cache).toBe('hit');
      expect(later.report.signatures[0]!.trust).toBe('revoked');
      // revoking again changes nothing: same CRL number
      expect((await revoke(s.url, c, 1)).status).toBe(200);
      expect((await verify(s.url, pdf)).crlNumber).toBe(after.crlNumber);

      // the CRL lists it, signed by the CA, with the number the verification used
      const crl = await crlOf(s.url);
      expect(crl.number).toBe(after.crlNumber);
      const text = opensslCrlText(crl.der, caFile, work);
      expect(text).toContain(c.serial.toUpperCase());
      expect(text).toContain('Key Compromise');
      expect(crlNumberIn(text)).toBe(BigInt(after.crlNumber!));
    });

    it('POST /api/verify?at= checks the CRL the server has now: revoked at a time after the revocation, whatever the time asked', async () => {
      const c = await enrol(s.url, '周九', '110101198707070011');
      const pdf = await signPdf(minimalPdf(), { signer: c.signer, reason: '申请', location: '项城市' });
      const soon = new Date(Date.now() + 3600_000);
      const before = await verify(s.url, pdf, soon);
      expect(before.report.signatures[0]!.trust).toBe('trusted');
      expect(before.report.signatures[0]!.validationTime).toBe(soon.toISOString());
      expect((await revoke(s.url, c, 1)).status).toBe(200);
      const revokedAt = Date.now();
      // the CRL number moved: the report for that time is made anew, and the signature is revoked
      const after = await verify(s.url, pdf, soon);
      expect(after.cache).toBe('miss');
      expect(after.report.signatures[0]!.trust).toBe('revoked');
      expect(after.report.status).not.toBe('valid');
      const now = await verify(s.url, pdf);
      expect(now.report.signatures[0]!.trust).toBe('revoked');
      // validated as at a time before the revocation (no time-stamp: the caller's time, named in
      // the report), the CRL's revocation date is later: trusted as at then
      const earlier = new Date(revokedAt - 30_000); // after its notBefore (issued 60 s back-dated)
      const then = await verify(s.url, pdf, earlier);
      expect(then.cache).toBe('miss');
      expect(then.report.signatures[0]!.validationTime).toBe(earlier.toISOString());
      expect(then.report.signatures[0]!.trust).toBe('trusted');
    });

    it('material signatures: accepted before the revocation, refused as revoked after it', async () => {
      const c = await enrol(s.url, '周九', '110101198707070011');
      const data = new TextEncoder().encode('%PDF-1.7 承诺书 ' + 'z'.repeat(10_000));
      const id = await upload(s.url, c.token, data);
      const cms = await createCadesSignature({
        signer: c.signer,
        documentDigest: sha256(data),
        hash: 'SHA-256',
      });
      const post = (body: Uint8Array) =>
        fetch(`${s.url}/api/materials/${id}/signatures`, {
          method: 'POST',
          headers: { 'content-type': 'application/pkcs7-signature', authorization: `Bearer ${c.token}` },
          body: body as BodyInit,
        });
      const ok = await post(cms);
      expect(ok.status).toBe(201);
      expect(await ok.json()).toMatchObject({ trust: 'trusted', status: 'valid' });
      const material = async () =>
        (await (
          await fetch(`${s.url}/api/materials/${id}`, { headers: { authorization: `Bearer ${c.token}` } })
        ).json()) as {
          signatures: { trust: string; signerRevocation?: { revokedAt: string; reason: number } }[];
        };
      expect((await material()).signatures[0]!.signerRevocation).toBeUndefined();
      expect((await revoke(s.url, c, 4)).status).toBe(200);
      // a fresh signature of the same key, a moment after the revocation
      const late = await createCadesSignature({
        signer: c.signer,
        documentDigest: sha256(data),
        hash: 'SHA-256',
      });
      const r = await post(late);
      expect(r.status).toBe(422);
      const body = (await r.json()) as { error: string; message: string };
      expect(body.error).toBe('SIGNATURE_REJECTED');
      expect(body.message).toMatch(/revoked/);
      // the signature received before the revocation keeps its verdict, and shows the revocation beside it
      const [earlier, ...others] = (await material()).signatures;
      expect(others).toEqual([]);
      expect(earlier).toMatchObject({ trust: 'trusted', signerRevocation: { reason: 4 } });
    });

    it('GET /api/trust carries the current CRL: a verifier using it (as <licence-viewer> does) sees the revocation', async () => {
      const c = await enrol(s.url, '吴十', '110101198808080014');
      const pdf = await signPdf(minimalPdf(), { signer: c.signer });
      const trustOf = async () => {
        const r = await fetch(`${s.url}/api/trust`);
        expect(r.headers.get('cache-control')).toBe('no-cache');
        const text = await r.text();
        const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)];
        return {
          trustAnchors: blocks.filter((m) => m[1] === 'CERTIFICATE').map((m) => m[0]),
          crls: blocks.filter((m) => m[1] === 'X509 CRL').map((m) => m[0]),
        };
      };
      const before = await trustOf();
      expect(before.crls).toHaveLength(2); // the P-256 CA's and the SM2 CA's
      expect((await verifyPdf(pdf, before)).signatures[0]!.trust).toBe('trusted');
      expect((await revoke(s.url, c, 0)).status).toBe(200);
      const after = await trustOf();
      expect((await verifyPdf(pdf, after)).signatures[0]!.trust).toBe('revoked');
      // the certificates alone, for tools that want only anchors
      const bare = await (await fetch(`${s.url}/api/trust?crl=0`)).text();
      expect(bare).toBe(
        fs.readFileSync(caFile, 'utf8') +
          fs.readFileSync(path.join(path.dirname(caFile), 'sm2-ca.pem'), 'utf8'),
      );
    });

    it('GET /api/licences/:id/verification shares the cache with POST /api/verify; a revocation misses it', async () => {
      const { licence, pdf } = await sealedLicence(s.dataDir);
      const reg = await fetch(`${s.url}/api/licences`, {
        method: 'POST',
        headers: { 'content-type': 'application/pdf', 'x-api-key': s.apiKey },
        body: pdf as BodyInit,
      });
      expect(reg.status).toBe(201);
      const get = () => fetch(`${s.url}/api/licences/${licence.identifier}/verification`);
      const a = await get();
      expect(a.headers.get('sidian-cache')).toBe('miss');
      const b = await get();
      expect(b.headers.get('sidian-cache')).toBe('hit');
      expect(((await b.json()) as { report: Report }).report.status).toBe('valid');
      // the licence is stored as B-LTA (extended on registration, ltv.ts): the same bytes posted hit
      const stored = new Uint8Array(
        await (await fetch(`${s.url}/api/licences/${licence.identifier}/file`)).arrayBuffer(),
      );
      const posted = await verify(s.url, stored);
      expect(posted.cache).toBe('hit');
      // any revocation bumps the CRL number: the next verification is made afresh
      const c = await enrol(s.url, '郑一', '110101199101010019');
      expect((await revoke(s.url, c, 5)).status).toBe(200);
      const d = await get();
      expect(d.headers.get('sidian-cache')).toBe('miss');
      expect(BigInt(d.headers.get('sidian-crl-number')!)).toBeGreaterThan(BigInt(posted.crlNumber!));
    });

    it('removeFromCRL (8) is refused with a typed 422 and changes nothing; other bad reasons get 400', async () => {
      const c = await enrol(s.url, '王二', '110101199202020013');
      const before = await crlOf(s.url);
      const r = await revoke(s.url, c, 8);
      expect(r.status).toBe(422);
      const body = (await r.json()) as { error: string; message: string };
      expect(body.error).toBe('REVOCATION_REASON_REFUSED');
      expect(body.message).toMatch(/removeFromCRL/);
      for (const bad of [7, 11, -1, 'keyCompromise', 1.5]) {
        const x = await revoke(s.url, c, bad);
        expect(x.status).toBe(400);
        expect(((await x.json()) as { error: string }).error).toBe('REVOCATION_REASON_INVALID');
      }
      const after = await crlOf(s.url);
      expect(after.number).toBe(before.number);
      expect(opensslCrlText(after.der, caFile, work)).not.toContain(c.serial.toUpperCase());
      // on hold, then an attempt to lift the hold with removeFromCRL: still on the CRL
      expect((await revoke(s.url, c, 6)).status).toBe(200);
      expect((await revoke(s.url, c, 8)).status).toBe(422);
      const held = opensslCrlText((await crlOf(s.url)).der, caFile, work);
      expect(held).toContain(c.serial.toUpperCase());
      expect(held).toContain('Certificate Hold');
      // a row an older version stored with reason 8 stays on the CRL, without that reason
      await s.server.ctx.db
        .updateTable('certificates')
        .set({ revocation_reason: 8 })
        .where('serial', '=', c.serial)
        .execute();
      const d = await enrol(s.url, '王三', '110101199202020021');
      expect((await revoke(s.url, d, 1)).status).toBe(200); // a new CRL number: the CRL is made again
      const legacy = opensslCrlText((await crlOf(s.url)).der, caFile, work);
      expect(legacy).toContain(c.serial.toUpperCase());
      expect(legacy).not.toMatch(/Remove From CRL/i);
    });

    it('a CRL past half its validity is re-issued under the next number, with the same entries', async () => {
      const c = await enrol(s.url, '褚六', '110101199505050010');
      expect((await revoke(s.url, c, 3)).status).toBe(200);
      const before = await crlOf(s.url);
      expect((await crlOf(s.url)).number).toBe(before.number); // fresh: served as stored
      // 11 hours of its 24 left
      await s.server.ctx.db
        .updateTable('crls')
        .set({ next_update: new Date(Date.now() + 11 * 3600_000).toISOString() })
        .where('number', '=', before.number!)
        .execute();
      const after = await crlOf(s.url);
      expect(BigInt(after.number!)).toBe(BigInt(before.number!) + 1n);
      const text = opensslCrlText(after.der, caFile, work);
      expect(text).toContain(c.serial.toUpperCase());
      expect(text).toContain('Affiliation Changed');
      expect(crlNumberIn(text)).toBe(BigInt(after.number!));
      const next = /Next Update: (.+)/.exec(text)![1]!;
      expect(Date.parse(next) - Date.now()).toBeGreaterThan(23 * 3600_000);
    });

    it('two instances on one database serve the same CRL and number; a revocation on one is seen by the other at once', async () => {
      const t = await startTestServer({
        dataDir: s.dataDir,
        databaseUrl: s.databaseUrl,
        publicUrl: 'https://zwfw.example.gov.cn/sidian',
      });
      try {
        const [a, b] = [await crlOf(s.url), await crlOf(t.url)];
        expect(b.number).toBe(a.number);
        expect(Buffer.from(b.der).equals(Buffer.from(a.der))).toBe(true);
        // enrolled through the second instance (which knows its public URL: AIA with the OCSP URL)
        const c = await enrol(t.url, '冯二', '110101199303030018');
        const certFile = path.join(work, 'aia.pem');
        fs.writeFileSync(certFile, c.certPem);
        const certText = execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-text'], {
          encoding: 'utf8',
        });
        expect(certText).toMatch(/OCSP - URI:https:\/\/zwfw\.example\.gov\.cn\/sidian\/api\/ocsp/);
        expect(certText).toContain('URI:https://zwfw.example.gov.cn/sidian/api/crl');
        const pdf = await signPdf(minimalPdf(), { signer: c.signer });
        expect((await verify(t.url, pdf)).report.signatures[0]!.trust).toBe('trusted');
        expect((await verify(s.url, pdf)).report.signatures[0]!.trust).toBe('trusted');
        // revoked through the first instance, concurrently with CRL reads on both
        const [rv] = await Promise.all([revoke(s.url, c, 1), crlOf(s.url), crlOf(t.url)]);
        expect(rv.status).toBe(200);
        const seen = await verify(t.url, pdf);
        expect(seen.report.signatures[0]!.trust).toBe('revoked');
        const [a2, b2] = [await crlOf(s.url), await crlOf(t.url)];
        expect(b2.number).toBe(a2.number);
        expect(b2.number).toBe(seen.crlNumber);
        expect(BigInt(a2.number!)).toBeGreaterThan(BigInt(a.number!));
        expect(Buffer.from(b2.der).equals(Buffer.from(a2.der))).toBe(true);
        const text = opensslCrlText(a2.der, caFile, work);
        expect(crlNumberIn(text)).toBe(BigInt(a2.number!));
        expect(text).toContain(c.serial.toUpperCase());
      } finally {
        await t.close();
      }
      // without a public URL, no AIA: the server does not invent an address
      const c = await enrol(s.url, '陈三', '110101199404040015');
      const f = path.join(work, 'no-aia.pem');
      fs.writeFileSync(f, c.certPem);
      const text = execFileSync('openssl', ['x509', '-in', f, '-noout', '-text'], { encoding: 'utf8' });
      expect(text).not.toContain('Authority Information Access');
    });

    it('CRL numbers strictly increase over many concurrent revocations, and every one is on the CRL', async () => {
      const citizens = await Promise.all(
        [0, 1, 2, 3, 4, 5].map((i) => enrol(s.url, `并发${i}`, `11010119950505${String(1000 + i)}`)),
      );
      const start = BigInt((await crlOf(s.url)).number!);
      const seen: bigint[] = [];
      await Promise.all(
        citizens.map(async (c) => {
          expect((await revoke(s.url, c, 1)).status).toBe(200);
          seen.push(BigInt((await crlOf(s.url)).number!));
        }),
      );
      const end = await crlOf(s.url);
      expect(BigInt(end.number!)).toBe(start + BigInt(citizens.length));
      for (const n of seen) expect(n).toBeGreaterThan(start);
      const text = opensslCrlText(end.der, caFile, work);
      for (const c of citizens) expect(text).toContain(c.serial.toUpperCase());
    });

    describe('OCSP (RFC 6960) with openssl ocsp', () => {
      let good: Citizen;
      let bad: Citizen;
      const certFile = (c: Citizen) => {
        const f = path.join(work, `${c.serial}.pem`);
        fs.writeFileSync(f, c.certPem);
        return f;
      };
      // asynchronous: the server answering openssl runs in this process
      const ocsp = (args: string[], issuer = caFile) =>
        run('openssl', ['ocsp', '-issuer', issuer, '-CAfile', caFile, ...args]);

      beforeAll(async () => {
        good = await enrol(s.url, '蒋四', '110101199606060012');
        bad = await enrol(s.url, '沈五', '110101199707070017');
        expect((await revoke(s.url, bad, 1)).status).toBe(200);
      });

      it('POST: good and revoked, signed by the CA, nonce echoed', async () => {
        let r = await ocsp(['-cert', certFile(good), '-url', `${s.url}/api/ocsp`, '-resp_text']);
        expect(r.status).toBe(0);
        expect(r.stderr + r.stdout).toMatch(/Response verify OK/);
        expect(r.stdout).toMatch(/: good/);
        expect(r.stdout).toMatch(/OCSP Nonce/);
        expect(r.stderr + r.stdout).not.toMatch(/WARNING: no nonce/);
        r = await ocsp(['-cert', certFile(bad), '-url', `${s.url}/api/ocsp`, '-resp_text']);
        expect(r.status).toBe(0);
        expect(r.stderr + r.stdout).toMatch(/Response verify OK/);
        expect(r.stdout).toMatch(/: revoked/);
        expect(r.stdout).toMatch(/Reason: keyCompromise/);
        // a CertID hashed with SHA-256 instead of SHA-1 (RFC 6960 §4.1.1 leaves the choice to the client)
        r = await ocsp(['-sha256', '-cert', certFile(bad), '-url', `${s.url}/api/ocsp`, '-resp_text']);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/Hash Algorithm: sha256/);
        expect(r.stdout).toMatch(/: revoked/);
        // both in one request: one answer each, in order
        r = await ocsp(['-cert', certFile(good), '-cert', certFile(bad), '-url', `${s.url}/api/ocsp`]);
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`${good.serial}.*: good[\\s\\S]*: revoked`, 'i'));
      });

      it('GET /api/ocsp/<base64>: the same answers', async () => {
        const reqFile = path.join(work, 'ocsp-req.der');
        const respFile = path.join(work, 'ocsp-resp.der');
        for (const [c, expected] of [
          [good, /: good/],
          [bad, /: revoked/],
        ] as const) {
          let r = await ocsp(['-cert', certFile(c), '-reqout', reqFile]); // with a nonce
          expect(r.status).toBe(0);
          const b64 = fs.readFileSync(reqFile).toString('base64');
          const res = await fetch(`${s.url}/api/ocsp/${encodeURIComponent(b64)}`);
          expect(res.status).toBe(200);
          expect(res.headers.get('content-type')).toBe('application/ocsp-response');
          fs.writeFileSync(respFile, new Uint8Array(await res.arrayBuffer()));
          // -reqin: openssl compares the nonces of request and response
          r = await ocsp(['-reqin', reqFile, '-respin', respFile, '-resp_text']);
          expect(r.status, r.stderr).toBe(0);
          expect(r.stderr + r.stdout).toMatch(/Response verify OK/);
          expect(r.stderr + r.stdout).not.toMatch(/no nonce|nonce verify error/i);
          expect(r.stdout).toMatch(/OCSP Nonce/);
          expect(r.stdout).toMatch(expected);
        }
      });

      it("the server's own seal and TSA certificates (issued by the CA, never enrolled) are good", async () => {
        for (const name of ['seal', 'tsa']) {
          const r = await ocsp([
            '-cert',
            path.join(s.dataDir, 'pki', `${name}.pem`),
            '-url',
            `${s.url}/api/ocsp`,
            '-resp_text',
          ]);
          expect(r.status, r.stderr).toBe(0);
          expect(r.stderr + r.stdout).toMatch(/Response verify OK/);
          expect(r.stdout).toMatch(/: good/);
        }
      });

      it('unknown for serials the CA never issued and for another issuer claiming a known serial', async () => {
        let r = await ocsp(['-serial', '0x1234567890abcdef', '-url', `${s.url}/api/ocsp`, '-resp_text']);
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/: unknown/);
        // an attacker's CA with our CA's name, asking about a good serial: its key hash does not match
        const otherDir = path.join(work, 'other-ca');
        fs.mkdirSync(otherDir, { recursive: true });
        const otherCa = path.join(otherDir, 'ca.pem');
        execFileSync(
          'openssl',
          [
            'req',
            '-x509',
            '-newkey',
            'ec',
            '-pkeyopt',
            'ec_paramgen_curve:P-256',
            '-nodes',
            '-keyout',
            path.join(otherDir, 'key.pem'),
            '-out',
            otherCa,
            '-subj',
            '/C=CN/O=Sidian 开发测试/CN=Sidian Development Root CA',
            '-utf8',
            '-days',
            '30',
          ],
          { stdio: 'pipe' },
        );
        // (-noverify: the answer is signed by our CA, not by the CA the request names)
        r = await ocsp(
          ['-serial', `0x${good.serial}`, '-url', `${s.url}/api/ocsp`, '-resp_text', '-noverify'],
          otherCa,
        );
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/: unknown/);
        expect(r.stdout).not.toMatch(/: good/);
      });

      it('a malformed request gets malformedRequest (an OCSP response, not an HTTP error)', async () => {
        const respFile = path.join(work, 'ocsp-malformed.der');
        for (const res of [
          await fetch(`${s.url}/api/ocsp`, {
            method: 'POST',
            headers: { 'content-type': 'application/ocsp-request' },
            body: new Uint8Array([0x30, 0x03, 0x02, 0x01]) as BodyInit,
          }),
          await fetch(`${s.url}/api/ocsp`, {
            method: 'POST',
            headers: { 'content-type': 'application/ocsp-request' },
            body: new Uint8Array(0) as BodyInit,
          }),
          await fetch(`${s.url}/api/ocsp/${encodeURIComponent('MAMCAQA=')}`),
          await fetch(`${s.url}/api/ocsp/${Buffer.from('not DER at all').toString('base64')}`),
          await fetch(`${s.url}/api/ocsp/not*base64!`),
        ]) {
          expect(res.status).toBe(200);
          expect(res.headers.get('content-type')).toBe('application/ocsp-response');
          const der = new Uint8Array(await res.arrayBuffer());
          expect([...der]).toEqual([0x30, 0x03, 0x0a, 0x01, 0x01]);
          fs.writeFileSync(respFile, der);
          const r = await ocsp(['-respin', respFile, '-resp_text', '-no_nonce', '-serial', '1']);
          expect(r.stdout + r.stderr).toMatch(/malformedrequest/i);
        }
        // a path that is not even URL-encoded correctly is an HTTP error (Fastify's own 400), not a 500
        const badPath = await fetch(`${s.url}/api/ocsp/%zz`);
        expect(badPath.status).toBe(400);
        expect(await badPath.text()).not.toMatch(/\n\s+at /);
        const wrongType = await fetch(`${s.url}/api/ocsp`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        expect(wrongType.status).toBe(415);
        expect(((await wrongType.json()) as { error: string }).error).toBe('UNSUPPORTED_MEDIA_TYPE');
      });
    });
  });
}
