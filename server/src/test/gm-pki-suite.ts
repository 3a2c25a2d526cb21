/**
 * The 国密 (SM2) PKI of the server (issue 17), run against SQLite and PostgreSQL like the rest of the
 * server suite: the SM2 root beside the P-256 one in `/api/trust`, SM2 CSRs enrolled with proof of
 * possession, the SM2-signed CRL, SM2-signed time stamps for SM3 requests; each checked by OpenSSL 3
 * (with the SM2 default ID) or by @sidian/core, and each with an attacker who tries without the right.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCms, signPdf } from '@sidian/core';
import { sm2Sign, sm2Spki, sm2Verify } from '../../../packages/core/src/gm/sm2';
import { sm3 } from '../../../packages/core/src/gm/sm3';
import { buildTimestampRequest, parseTimestampResponse } from '../../../packages/core/src/cms/tsa';
import { createCadesSignature } from '../../../packages/core/src/cms/cades';
import { parseTstInfo } from '../../../packages/core/src/cms/parse';
import { parseCertificate } from '../../../packages/core/src/pki/certificate';
import { parseDer, readOid } from '../../../packages/core/src/pki/der';
import { OID } from '../../../packages/core/src/pki/oids';
import { parseCrl } from '../../../packages/core/src/pki/path-crl';
import { createSm2CertificationRequest } from '../../../packages/core/src/pki/csr';
import { createSm2Key, signerFromSm2 } from '../../../packages/core/src/signer/sm2';
import { createSm2Ca, DEMO_DEPARTMENT, generateDevPki, issueCertificate, writeDevPki } from '../pki/dev-pki';
import { fromPem, toPem, x509 } from '../pki/x509';
import { devToken, startTestServer, tempDir, type TestServer } from './harness';
import { minimalPdf } from './pdfs';
import type { DbEnv } from './suite';

const DISTID = 'distid:1234567812345678';
const pemDer = (pem: string) => fromPem(pem)[0]!;

interface Report {
  status: string;
  signatures: {
    trust: string;
    status: string;
    level: string | null;
    algorithm?: string;
    reasons: string[];
  }[];
}

function openssl(args: string[]) {
  return spawnSync('openssl', args, { encoding: 'utf8' });
}

async function enrolCsr(url: string, csr: Uint8Array | string, idNumber = '110101199003074477') {
  const token = await devToken(url, '张三', idNumber);
  const r = await fetch(`${url}/api/enrol`, {
    method: 'POST',
    headers:
      typeof csr === 'string'
        ? { 'content-type': 'application/json', authorization: `Bearer ${token}` }
        : { 'content-type': 'application/pkcs10', authorization: `Bearer ${token}` },
    body: (typeof csr === 'string' ? JSON.stringify({ csr }) : csr) as BodyInit,
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown>, token };
}

async function verify(url: string, pdf: Uint8Array): Promise<Report> {
  const r = await fetch(`${url}/api/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/pdf' },
    body: pdf as BodyInit,
  });
  expect(r.status).toBe(200);
  return (await r.json()) as Report;
}

/** The SM2 public point of a certificate. */
function pointOf(certDer: Uint8Array): Uint8Array {
  const pk = parseCertificate(certDer).publicKey;
  if (pk.kind !== 'ec') throw new Error('not an EC key');
  return pk.point;
}

export function defineGmPkiSuite(env: DbEnv): void {
  describe('国密 SM2 PKI', () => {
    let s: TestServer;
    let work: string;
    let sm2RootPem: string;
    let p256RootPem: string;

    beforeAll(async () => {
      s = await startTestServer({
        databaseUrl: await env.newDatabaseUrl(),
        limits: { enrolPerMinute: 1000 },
      });
      work = tempDir('sidian-gm-pki-');
      sm2RootPem = fs.readFileSync(path.join(s.dataDir, 'pki', 'sm2-ca.pem'), 'utf8');
      p256RootPem = fs.readFileSync(path.join(s.dataDir, 'pki', 'ca.pem'), 'utf8');
      fs.writeFileSync(path.join(work, 'sm2-root.pem'), sm2RootPem);
    });
    afterAll(async () => {
      await s?.close();
    });

    /** An SM2 key enrolled through POST /api/enrol with a CSR made by @sidian/core. */
    async function enrolSm2(idNumber?: string) {
      const key = createSm2Key();
      const r = await enrolCsr(s.url, createSm2CertificationRequest(key, { commonName: '张三' }), idNumber);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      const certPem = r.body.certificate as string;
      const chain = (r.body.chain as string[]).map(pemDer);
      return { key, certPem, certDer: pemDer(certPem), chain, serial: r.body.serialNumber as string };
    }

    it('/api/trust serves the P-256 root first, then the SM2 root, then a CRL of each (same CRL number)', async () => {
      const r = await fetch(`${s.url}/api/trust`);
      expect(r.status).toBe(200);
      const text = await r.text();
      const certs = fromPem(text, 'CERTIFICATE');
      expect(certs.map((c) => toPem(c, 'CERTIFICATE'))).toEqual([p256RootPem, sm2RootPem]);
      const sm2Root = new x509.X509Certificate(certs[1]!);
      expect(sm2Root.signatureAlgorithm.name).toBe(OID.sm2WithSm3);
      const crls = fromPem(text, 'X509 CRL').map((d) => parseCrl(d)!);
      expect(crls).toHaveLength(2);
      expect(crls[0]!.crlNumber).toBe(crls[1]!.crlNumber);
      expect(String(crls[0]!.crlNumber)).toBe(r.headers.get('sidian-crl-number'));
      // the second CRL is the SM2 CA's, signed with SM2-with-SM3 by the SM2 root's key
      expect(readOid(crls[1]!.sigAlg.child(0))).toBe(OID.sm2WithSm3);
      expect(readOid(crls[0]!.sigAlg.child(0))).toBe('1.2.840.10045.4.3.2');
      expect(sm2Verify(pointOf(certs[1]!), crls[1]!.tbs, crls[1]!.signature)).toBe(true);
      expect(sm2Verify(pointOf(certs[1]!), crls[0]!.tbs, crls[0]!.signature)).toBe(false);
      // ?crl=0: the anchors alone, as before
      const only = await (await fetch(`${s.url}/api/trust?crl=0`)).text();
      expect(only).toBe(p256RootPem + sm2RootPem);
    });

    it('enrols an SM2 CSR made by Sidian: the SM2 root issues an SM2-with-SM3 certificate that openssl verify accepts with the SM2 ID', async () => {
      const e = await enrolSm2();
      const cert = new x509.X509Certificate(e.certDer);
      expect(cert.signatureAlgorithm.name).toBe(OID.sm2WithSm3);
      expect(e.chain.map((c) => toPem(c, 'CERTIFICATE'))).toEqual([sm2RootPem]);
      expect(pointOf(e.certDer)).toEqual(e.key.publicKey);
      const f = path.join(work, `enrolled-${e.serial}.pem`);
      fs.writeFileSync(f, e.certPem);
      const ok = openssl(['verify', '-vfyopt', DISTID, '-CAfile', path.join(work, 'sm2-root.pem'), f]);
      expect(ok.stdout, ok.stderr).toContain(': OK');
      // OpenSSL 3.0 uses an empty ID when told none: the signature is over the GM/T 0009 default ID
      expect(openssl(['verify', '-CAfile', path.join(work, 'sm2-root.pem'), f]).status).not.toBe(0);
      // and the P-256 root does not vouch for it
      fs.writeFileSync(path.join(work, 'p256-root.pem'), p256RootPem);
      expect(
        openssl(['verify', '-vfyopt', DISTID, '-CAfile', path.join(work, 'p256-root.pem'), f]).status,
      ).not.toBe(0);
    });

    it('enrols an SM2 CSR made by openssl req -sm3 -sigopt distid:1234567812345678 (PEM in JSON)', async () => {
      const key = path.join(work, 'ossl-sm2.key');
      const csr = path.join(work, 'ossl-sm2.csr');
      expect(
        openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', key]).status,
      ).toBe(0);
      const made = openssl([
        'req',
        '-new',
        '-key',
        key,
        '-sm3',
        '-sigopt',
        DISTID,
        '-subj',
        '/CN=x',
        '-out',
        csr,
      ]);
      expect(made.status, made.stderr).toBe(0);
      const r = await enrolCsr(s.url, fs.readFileSync(csr, 'utf8'), '110101199003071234');
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      const cert = new x509.X509Certificate(pemDer(r.body.certificate as string));
      expect(cert.signatureAlgorithm.name).toBe(OID.sm2WithSm3);
    });

    it('attack: an SM2 CSR without proof of possession is refused with CSR_POP_FAILED (another key signed it; a changed signature; the empty ID)', async () => {
      const victim = createSm2Key();
      const attacker = createSm2Key();
      const good = createSm2CertificationRequest(victim, { commonName: '张三' });
      const n = parseDer(good);
      const tbs = n.child(0).raw;
      const sigAlg = n.child(1).raw;
      const assemble = (sig: Uint8Array) => {
        const bits = Uint8Array.of(0x03, ...derLength(sig.length + 1), 0, ...sig);
        const body = Uint8Array.from([...tbs, ...sigAlg, ...bits]);
        return Uint8Array.of(0x30, ...derLength(body.length), ...body);
      };
      // the victim's public key, signed by the attacker's key
      const foreign = assemble(sm2Sign(attacker.privateKey, tbs));
      // the victim's own signature with one byte changed
      const sig = n.child(2).content.subarray(1).slice();
      sig[sig.length - 1]! ^= 1;
      const flipped = assemble(sig);
      // signed by the right key, but over Z with the empty ID (as openssl req -sm3 does without -sigopt)
      const emptyId = assemble(sm2Sign(victim.privateKey, tbs, { id: '' }));
      for (const csr of [foreign, flipped, emptyId]) {
        const r = await enrolCsr(s.url, csr);
        expect(r.status).toBe(422);
        expect(r.body.error).toBe('CSR_POP_FAILED');
        expect(r.body.message).toMatch(/1234567812345678/);
        expect(JSON.stringify(r.body)).not.toMatch(/\n\s+at /);
      }
      expect((await enrolCsr(s.url, good)).status).toBe(201); // the unchanged request is fine
    });

    it('a department enrols its SM2 seal key with its API key: the certificate names the department (O, CN, credit code), not what the CSR claims; an unknown key is refused', async () => {
      const key = createSm2Key();
      // the request claims another organisation: the CA takes the names from the API key
      const csr = createSm2CertificationRequest(key, { commonName: '别的单位', organization: '别的单位' });
      const post = (headers: Record<string, string>) =>
        fetch(`${s.url}/api/enrol`, {
          method: 'POST',
          headers: { 'content-type': 'application/pkcs10', ...headers },
          body: csr as BodyInit,
        });
      const r = await post({ 'x-api-key': s.apiKey });
      const body = (await r.json()) as { certificate: string; chain: string[] };
      expect(r.status, JSON.stringify(body)).toBe(201);
      const cert = new x509.X509Certificate(pemDer(body.certificate));
      expect(cert.signatureAlgorithm.name).toBe(OID.sm2WithSm3);
      expect(body.chain).toEqual([sm2RootPem]);
      expect(pointOf(pemDer(body.certificate))).toEqual(key.publicKey);
      expect(cert.subjectName.getField('O')).toEqual([DEMO_DEPARTMENT.name]);
      expect(cert.subjectName.getField('CN')).toEqual([DEMO_DEPARTMENT.name]);
      expect(cert.subjectName.getField('2.5.4.97')).toEqual([DEMO_DEPARTMENT.creditCode]);
      expect(cert.subject).not.toContain('别的单位');
      // a made-up API key, or none at all: no certificate
      const forged = await post({ 'x-api-key': 'sk_' + 'x'.repeat(40) });
      expect(forged.status).toBe(401);
      expect(((await forged.json()) as { error: string }).error).toBe('API_KEY_INVALID');
      const none = await post({});
      expect(none.status).toBe(401);
      expect(((await none.json()) as { error: string }).error).toBe('TOKEN_REQUIRED');
    });

    it('an SM2-signed PDF with an enrolled certificate is valid and trusted; once revoked, the SM2 CRL lists it and /api/verify says revoked', async () => {
      const e = await enrolSm2('110101199003075555');
      const signer = signerFromSm2(e.key, e.certDer, e.chain);
      const pdf = await signPdf(minimalPdf(), { signer, reason: '国密签章' });
      const before = await verify(s.url, pdf);
      expect(before.status, JSON.stringify(before)).toBe('valid');
      expect(before.signatures[0]).toMatchObject({ trust: 'trusted', algorithm: 'SM2-SM3' });

      const token = await devToken(s.url, '张三', '110101199003075555');
      const rv = await fetch(`${s.url}/api/certificates/${e.serial}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ reason: 1 }),
      });
      expect(rv.status).toBe(200);

      const sm2Crl = await fetch(`${s.url}/api/crl/sm2`);
      expect(sm2Crl.status).toBe(200);
      const der = new Uint8Array(await sm2Crl.arrayBuffer());
      const crl = parseCrl(der)!;
      expect(crl.entries.map((x) => x.serialHex)).toContain(e.serial);
      expect(String(crl.crlNumber)).toBe(sm2Crl.headers.get('sidian-crl-number'));
      // signed by the SM2 root (SM2-with-SM3), as OpenSSL checks it over the tbsCertList with the SM2 ID
      const root = pemDer(sm2RootPem);
      expect(sm2Verify(pointOf(root), crl.tbs, crl.signature)).toBe(true);
      const tbsFile = path.join(work, 'crl-tbs.der');
      const sigFile = path.join(work, 'crl-sig.der');
      const pubFile = path.join(work, 'sm2-root-pub.der');
      fs.writeFileSync(tbsFile, crl.tbs);
      fs.writeFileSync(sigFile, crl.signature);
      fs.writeFileSync(pubFile, sm2Spki(pointOf(root)));
      const v = openssl([
        'pkeyutl', '-verify', '-pubin', '-keyform', 'DER', '-inkey', pubFile, '-rawin', '-digest', 'sm3',
        '-pkeyopt', DISTID, '-in', tbsFile, '-sigfile', sigFile,
      ]); // prettier-ignore
      expect(v.stdout, v.stderr).toContain('Signature Verified Successfully');
      // the P-256 CA's CRL does not carry the SM2 CA's serials (RFC 5280 §5: a CRL is its issuer's)
      const p256 = parseCrl(new Uint8Array(await (await fetch(`${s.url}/api/crl`)).arrayBuffer()))!;
      expect(p256.entries.map((x) => x.serialHex)).not.toContain(e.serial);
      expect(p256.crlNumber).toBe(crl.crlNumber);

      const after = await verify(s.url, pdf);
      expect(after.signatures[0]!.trust).toBe('revoked');
      expect(after.status).not.toBe('valid');
    });

    it('OCSP: the SM2 CA answers for its certificates with SM2-signed responses (good, then revoked); the P-256 CA says unknown', async () => {
      const e = await enrolSm2('110101199003077777');
      const certFile = path.join(work, `ocsp-${e.serial}.pem`);
      fs.writeFileSync(certFile, e.certPem);
      fs.writeFileSync(path.join(work, 'p256-root.pem'), p256RootPem);
      const ask = async (issuer: string) => {
        const req = path.join(work, `ocsp-req-${Math.random()}.der`);
        const made = openssl(['ocsp', '-issuer', issuer, '-cert', certFile, '-no_nonce', '-reqout', req]);
        expect(made.status, made.stderr).toBe(0);
        const r = await fetch(`${s.url}/api/ocsp`, {
          method: 'POST',
          headers: { 'content-type': 'application/ocsp-request' },
          body: fs.readFileSync(req) as BodyInit,
        });
        const der = new Uint8Array(await r.arrayBuffer());
        const resp = path.join(work, `ocsp-resp-${Math.random()}.der`);
        fs.writeFileSync(resp, der);
        // -noverify: OpenSSL 3.0 would check the SM2 signature over the empty ID; core checks it below
        const text = openssl([
          'ocsp',
          '-respin',
          resp,
          '-resp_text',
          '-noverify',
          '-issuer',
          issuer,
          '-cert',
          certFile,
        ]);
        expect(text.status, text.stderr).toBe(0);
        // OCSPResponse -> responseBytes [0] -> { id-pkix-ocsp-basic, OCTET STRING BasicOCSPResponse }
        const basic = parseDer(parseDer(der).child(1).child(0).child(1).content);
        return {
          text: text.stdout,
          tbs: basic.child(0).raw,
          sigAlg: readOid(basic.child(1).child(0)),
          sig: basic.child(2).content.subarray(1),
        };
      };
      const root = pemDer(sm2RootPem);
      const good = await ask(path.join(work, 'sm2-root.pem'));
      expect(good.text).toMatch(new RegExp(`${certFile}: good`));
      expect(good.sigAlg).toBe(OID.sm2WithSm3);
      expect(sm2Verify(pointOf(root), good.tbs, good.sig)).toBe(true);
      // the same serial asked of the P-256 CA: not its certificate
      const other = await ask(path.join(work, 'p256-root.pem'));
      expect(other.text).toMatch(new RegExp(`${certFile}: unknown`));

      const token = await devToken(s.url, '张三', '110101199003077777');
      const rv = await fetch(`${s.url}/api/certificates/${e.serial}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ reason: 4 }),
      });
      expect(rv.status).toBe(200);
      const revoked = await ask(path.join(work, 'sm2-root.pem'));
      expect(revoked.text).toMatch(new RegExp(`${certFile}: revoked`));
      expect(sm2Verify(pointOf(root), revoked.tbs, revoked.sig)).toBe(true);
    });

    it('attack: an SM2 certificate from a self-made SM2 CA with the same name as the server SM2 root is untrusted', async () => {
      const serverRoot = new x509.X509Certificate(pemDer(sm2RootPem));
      const fake = await createSm2Ca(serverRoot.subject);
      expect(fake.cert.subject).toBe(serverRoot.subject);
      const key = createSm2Key();
      const cert = await issueCertificate(fake, {
        subject: 'C=CN, CN=张三',
        publicKey: new x509.PublicKey(new Uint8Array(key.spki)),
        profile: 'signer',
        validityMs: 3600_000,
      });
      const signer = signerFromSm2(key, new Uint8Array(cert.rawData), [fake.der]);
      const report = await verify(s.url, await signPdf(minimalPdf(), { signer }));
      expect(report.signatures[0]!.trust).toBe('untrusted');
      expect(report.status).not.toBe('valid');
    });

    it('a <data>/pki made before the SM2 set gets it added on start; the P-256 files stay as they were', async () => {
      const dataDir = tempDir('sidian-old-pki-');
      const pki = path.join(dataDir, 'pki');
      writeDevPki(pki, await generateDevPki());
      for (const f of fs.readdirSync(pki)) if (f.startsWith('sm2-')) fs.rmSync(path.join(pki, f));
      const caBefore = fs.readFileSync(path.join(pki, 'ca.pem'), 'utf8');
      const old = await startTestServer({ dataDir, databaseUrl: await env.newDatabaseUrl() });
      try {
        const trust = await (await fetch(`${old.url}/api/trust?crl=0`)).text();
        const sm2 = fs.readFileSync(path.join(pki, 'sm2-ca.pem'), 'utf8');
        expect(trust).toBe(caBefore + sm2);
        expect(fs.statSync(path.join(pki, 'sm2-ca.key.pem')).mode & 0o077).toBe(0);
      } finally {
        await old.close();
      }
    });

    it('SM3 time-stamp requests get an SM2-signed token (SM3 digest, SM2-with-SM3, ESSCertIDv2 over SM3); SHA-256 ones still ECDSA', async () => {
      const imprint = sm3(new TextEncoder().encode('国密时间戳'));
      const ask = async (digest: Uint8Array, hash: 'SM3' | 'SHA-256') => {
        const r = await fetch(`${s.url}/api/tsa`, {
          method: 'POST',
          headers: { 'content-type': 'application/timestamp-query' },
          body: buildTimestampRequest(digest, hash, { nonce: 7n, certReq: true }) as BodyInit,
        });
        expect(r.status).toBe(200);
        const resp = parseTimestampResponse(new Uint8Array(await r.arrayBuffer()));
        expect(resp.status).toBe(0);
        return parseCms(resp.token!);
      };
      const cms = await ask(imprint, 'SM3');
      const si = cms.signerInfos[0]!;
      expect(si.digestAlgorithm).toBe(OID.sm3);
      expect(si.signatureAlgorithm.oid).toBe(OID.sm2WithSm3);
      const tst = parseTstInfo(cms.content!);
      expect(tst.messageImprint.hashAlgorithm).toBe(OID.sm3);
      expect(tst.messageImprint.hashedMessage).toEqual(imprint);
      expect(tst.nonce).toBe(7n);
      const tsaCert = fs.readFileSync(path.join(s.dataDir, 'pki', 'sm2-tsa.pem'), 'utf8');
      expect(cms.certificates.map((c) => toPem(c, 'CERTIFICATE'))).toContain(tsaCert);
      expect(sm2Verify(pointOf(pemDer(tsaCert)), si.signedAttrs!, si.signature)).toBe(true);
      const other = await ask(new Uint8Array(32), 'SHA-256');
      expect(other.signerInfos[0]!.signatureAlgorithm.oid).toBe('1.2.840.10045.4.3.2');
    });

    it('an SM2 signer with a bare TSA URL gets an SM3 time-stamp signed with SM2; the PDF is B-T, valid and trusted', async () => {
      const e = await enrolSm2('110101199003077777');
      const signer = signerFromSm2(e.key, e.certDer, e.chain);
      const cms = await createCadesSignature({
        signer,
        documentDigest: sm3(new Uint8Array([1, 2, 3])),
        tsa: `${s.url}/api/tsa`,
      });
      const token = parseCms(cms).signerInfos[0]!.unsignedAttributes.find(
        (a) => a.type === OID.signatureTimeStampToken,
      )!;
      const tsaSi = parseCms(token.values[0]!).signerInfos[0]!;
      expect(tsaSi.signatureAlgorithm.oid).toBe(OID.sm2WithSm3);
      expect(parseTstInfo(parseCms(token.values[0]!).content!).messageImprint.hashAlgorithm).toBe(OID.sm3);
      const pdf = await signPdf(minimalPdf(), { signer, tsa: `${s.url}/api/tsa` });
      const report = await verify(s.url, pdf);
      expect(report.status, JSON.stringify(report)).toBe('valid');
      expect(report.signatures[0]).toMatchObject({ level: 'B-T', trust: 'trusted' });
    });

    it('an SM2 signature timestamped by the SM2 TSA (tsa.hash SM3) is B-T, valid and trusted in /api/verify', async () => {
      const e = await enrolSm2('110101199003076666');
      const signer = signerFromSm2(e.key, e.certDer, e.chain);
      const pdf = await signPdf(minimalPdf(), { signer, tsa: { url: `${s.url}/api/tsa`, hash: 'SM3' } });
      const report = await verify(s.url, pdf);
      expect(report.status, JSON.stringify(report)).toBe('valid');
      expect(report.signatures[0]).toMatchObject({ level: 'B-T', trust: 'trusted' });
    });
  });
}

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v >>= 8) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}
