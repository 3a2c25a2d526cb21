/**
 * The forged-authority attack (issue 14), end to end against the real server on SQLite and the
 * real CLI: a citizen enrols (POST /api/enrol), then uses their own end-entity certificate
 * (CA:FALSE, no keyCertSign) as an issuer — for a "bureau" seal certificate named
 * 项城市市场监督管理局, for a time-stamp authority (critical timeStamping EKU, one variant whose
 * clock says a time in the future), and for a certificate in another citizen's name. Every
 * verdict built on those must be "not trusted", naming why; the citizen's own, honestly used
 * certificate stays trusted (the control that shows the check can pass).
 */
import { webcrypto } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCadesSignature,
  createCertificationRequest,
  embedLicence,
  signPdf,
  signerFromCryptoKey,
  type Signer,
} from '@sidian/core';
import { type Credential, issueCertificate } from './pki/dev-pki';
import { x509 } from './pki/x509';
import { minimalPdf, sampleLicence } from './test/pdfs';
import { devToken, runCli, startTestServer, tempDir, type TestServer } from './test/harness';
import { TsaResponder } from './tsa/responder';

const pemDer = (pem: string) => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const DAY = 86400_000;

interface Verdict {
  status: string;
  signatures: {
    trust: string;
    status: string;
    level: string | null;
    timestampTime: string | null;
    integrity: string;
    reasons: string[];
  }[];
}

let s: TestServer;
let work: string;
let trustPemFile: string;
/** The citizen: their enrolled certificate and key, usable as an (illegitimate) issuer. */
let citizen: Credential & { signer: Signer };
let licencePdf: Uint8Array;

async function enrol(name: string, idNumber: string): Promise<Credential & { signer: Signer }> {
  const token = await devToken(s.url, name, idNumber);
  const keys = (await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await createCertificationRequest(keys, { commonName: 'ignored' });
  const r = await fetch(`${s.url}/api/enrol`, {
    method: 'POST',
    headers: { 'content-type': 'application/pkcs10', authorization: `Bearer ${token}` },
    body: csr as BodyInit,
  });
  expect(r.status).toBe(201);
  const body = (await r.json()) as { certificate: string; chain: string[] };
  const der = pemDer(body.certificate);
  return {
    cert: new x509.X509Certificate(der),
    der,
    key: keys.privateKey,
    signer: signerFromCryptoKey(keys.privateKey, der, body.chain.map(pemDer)),
  };
}

/** A certificate the citizen issues with their own key, and a signer for it (chain: the citizen's certificate). */
async function forge(subject: string, profile: 'tsa' | 'signer') {
  const keys = (await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await issueCertificate(citizen, {
    subject,
    publicKey: keys.publicKey,
    profile,
    validityMs: 365 * DAY,
  });
  const der = new Uint8Array(cert.rawData);
  return {
    cert,
    der,
    key: keys.privateKey,
    signer: signerFromCryptoKey(keys.privateKey, der, [citizen.der]),
  };
}

/** An RFC 3161 responder (the project's own) run by the attacker with the forged TSA certificate. */
async function fakeTsa(now?: () => Date) {
  const tsa = await forge('C=CN, O=项城市市场监督管理局, CN=项城市时间戳服务', 'tsa');
  let serial = 1n;
  const responder = new TsaResponder({
    signer: { certificate: tsa.der, chain: [citizen.der], key: tsa.key },
    nextSerial: async () => serial++,
    includeChain: true,
    now,
  });
  return async (query: Uint8Array) => (await responder.respond(query)).reply;
}

async function verifyOnServer(pdf: Uint8Array): Promise<Verdict> {
  const r = await fetch(`${s.url}/api/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/pdf' },
    body: pdf as BodyInit,
  });
  expect(r.status).toBe(200);
  return (await r.json()) as Verdict;
}

function verifyWithCli(pdf: Uint8Array, name: string): { code: number; report: Verdict } {
  const file = path.join(work, name);
  fs.writeFileSync(file, pdf);
  const out = runCli(['verify', file, '--trust', trustPemFile, '--json']);
  return { code: out.code, report: JSON.parse(out.stdout) as Verdict };
}

beforeAll(async () => {
  s = await startTestServer();
  work = tempDir('sidian-forged-');
  trustPemFile = path.join(work, 'trust.pem');
  fs.writeFileSync(trustPemFile, await (await fetch(`${s.url}/api/trust`)).text());
  citizen = await enrol('张三', '110101199003074477');
  licencePdf = embedLicence(minimalPdf(), sampleLicence());
});

afterAll(async () => {
  await s?.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('a citizen acting as a certificate authority', () => {
  it('control: the citizen signing with their own enrolled certificate is trusted (server and CLI)', async () => {
    const pdf = await signPdf(licencePdf, { signer: citizen.signer });
    const r = await verifyOnServer(pdf);
    expect(r.signatures[0]).toMatchObject({ trust: 'trusted', status: 'valid' });
    const cli = verifyWithCli(pdf, 'own.pdf');
    expect(cli.code).toBe(0);
    expect(cli.report.signatures[0]!.trust).toBe('trusted');
  });

  it('a "bureau" seal certificate issued by the citizen, with a time-stamp from a TSA the citizen issued: not trusted, naming basicConstraints', async () => {
    const bureau = await forge('C=CN, O=项城市市场监督管理局, CN=项城市市场监督管理局', 'signer');
    const pdf = await signPdf(licencePdf, {
      signer: bureau.signer,
      tsa: await fakeTsa(),
      certify: 2,
      reason: '电子证照签发',
    });

    const r = await verifyOnServer(pdf);
    const sig = r.signatures[0]!;
    expect(r.status).not.toBe('valid');
    expect(sig.trust).toBe('untrusted');
    expect(sig.status).toBe('indeterminate');
    expect(sig.reasons.join('\n')).toMatch(
      /issuer certificate "CN=张三[^"]*" is not a CA \(basicConstraints/,
    );
    // the fake TSA's time is not taken as proof of when the signature existed
    expect(sig.reasons.join('\n')).toMatch(
      /signature timestamp: .*is not a CA \(basicConstraints.*not used as the validation time/,
    );

    const cli = verifyWithCli(pdf, 'bureau.pdf');
    expect(cli.code).toBe(2); // indeterminate
    expect(cli.report.signatures[0]!.trust).toBe('untrusted');
    expect(cli.report.signatures[0]!.reasons.join('\n')).toMatch(/is not a CA \(basicConstraints/);
    // the human-readable output names it too
    const text = runCli(['verify', path.join(work, 'bureau.pdf'), '--trust', trustPemFile]);
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/is not a CA \(basicConstraints/);
  });

  it('the fake TSA dating its token in the future (2027): the time-stamp is invalid, the signature too', async () => {
    const bureau = await forge('C=CN, O=项城市市场监督管理局, CN=项城市市场监督管理局', 'signer');
    const future = new Date(Date.now() + 400 * DAY);
    const pdf = await signPdf(licencePdf, { signer: bureau.signer, tsa: await fakeTsa(() => future) });

    const r = await verifyOnServer(pdf);
    const sig = r.signatures[0]!;
    expect(sig.status).toBe('invalid');
    expect(sig.level).not.toBe('B-T');
    expect(sig.timestampTime).toBeNull();
    expect(sig.reasons.join('\n')).toMatch(/time-stamp says .* later than now/);
    expect(sig.trust).not.toBe('trusted');

    const cli = verifyWithCli(pdf, 'future.pdf');
    expect(cli.code).toBe(1); // invalid
    expect(cli.report.signatures[0]!.reasons.join('\n')).toMatch(/later than now/);
  });

  it("a material signature with a certificate the citizen issued in another citizen's name is recorded as not trusted", async () => {
    const token = await devToken(s.url, '张三', '110101199003074477');
    const lisi = await forge('C=CN, CN=李四', 'signer');
    const material = new TextEncoder().encode('%PDF-1.7\n% 李四的承诺书\n');
    const upload = await fetch(`${s.url}/api/materials/uploads`, {
      method: 'POST',
      headers: {
        'tus-resumable': '1.0.0',
        'upload-length': String(material.length),
        'upload-metadata': `filename ${Buffer.from('承诺书.pdf').toString('base64')},filetype ${Buffer.from('application/pdf').toString('base64')}`,
        authorization: `Bearer ${token}`,
      },
    });
    expect(upload.status).toBe(201);
    const patch = await fetch(`${s.url}${upload.headers.get('location')!}`, {
      method: 'PATCH',
      headers: {
        'tus-resumable': '1.0.0',
        'upload-offset': '0',
        'content-type': 'application/offset+octet-stream',
        authorization: `Bearer ${token}`,
      },
      body: material as BodyInit,
    });
    expect(patch.status).toBe(204);
    const id = patch.headers.get('x-material-id')!;
    const digest = new Uint8Array(await webcrypto.subtle.digest('SHA-256', material));
    const cms = await createCadesSignature({ signer: lisi.signer, documentDigest: digest });
    const r = await fetch(`${s.url}/api/materials/${id}/signatures`, {
      method: 'POST',
      headers: { 'content-type': 'application/pkcs7-signature', authorization: `Bearer ${token}` },
      body: cms as BodyInit,
    });
    expect(r.status).toBe(201);
    const sig = (await r.json()) as {
      trust: string;
      status: string;
      reasons: string[];
      signer: { commonName: string };
    };
    expect(sig.signer.commonName).toBe('李四');
    expect(sig.trust).toBe('untrusted');
    expect(sig.status).toBe('indeterminate');
    expect(sig.reasons.join('\n')).toMatch(/is not a CA \(basicConstraints/);
  });
});
