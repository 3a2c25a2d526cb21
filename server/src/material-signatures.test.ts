/**
 * Applicants' signatures over their materials (POST /api/materials/:id/signatures), against the real
 * server on SQLite: a detached CMS over the material's SHA-256, as <material-uploader> makes it, is
 * verified on arrival; a good one is recorded with its signer and shown in the material's metadata,
 * a bad one is refused with 422 and leaves nothing stored.
 */
import { createHash, webcrypto } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCadesSignature, createCertificationRequest, signerFromCryptoKey } from '@sidian/core';
import { createCa, issueCertificate, makeTempDir, removeDir } from '../../tests/helpers/openssl-pki';
import { devToken, startTestServer, type TestServer } from './test/harness';

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const pemDer = (pem: string) => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));

let s: TestServer;
let token: string;
let signer: Awaited<ReturnType<typeof enrolledSigner>>;

/** A citizen certificate from the server's own enrolment CA (POST /api/enrol), key in WebCrypto. */
async function enrolledSigner(tok: string) {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const csr = await createCertificationRequest(keys, { commonName: 'ignored' });
  const r = await fetch(`${s.url}/api/enrol`, {
    method: 'POST',
    headers: { 'content-type': 'application/pkcs10', authorization: `Bearer ${tok}` },
    body: csr as BodyInit,
  });
  if (r.status !== 201) throw new Error(`enrol: ${r.status} ${await r.text()}`);
  const body = (await r.json()) as { certificate: string; chain: string[] };
  return signerFromCryptoKey(keys.privateKey, pemDer(body.certificate), body.chain.map(pemDer));
}

/** One tus upload in one PATCH; resolves with the material id. */
async function upload(tok: string, data: Uint8Array, filename = '承诺书.pdf'): Promise<string> {
  const md = Object.entries({ filename, filetype: 'application/pdf', requirement: 'pledge' })
    .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
    .join(',');
  const c = await fetch(`${s.url}/api/materials/uploads`, {
    method: 'POST',
    headers: {
      'tus-resumable': '1.0.0',
      'upload-length': String(data.length),
      'upload-metadata': md,
      authorization: `Bearer ${tok}`,
    },
  });
  expect(c.status).toBe(201);
  const loc = c.headers.get('location')!;
  const p = await fetch(`${s.url}${loc}`, {
    method: 'PATCH',
    headers: {
      'tus-resumable': '1.0.0',
      'upload-offset': '0',
      'content-type': 'application/offset+octet-stream',
      authorization: `Bearer ${tok}`,
    },
    body: data as BodyInit,
  });
  expect(p.status).toBe(204);
  return p.headers.get('x-material-id')!;
}

const postSignature = (id: string, cms: Uint8Array, tok = token) =>
  fetch(`${s.url}/api/materials/${id}/signatures`, {
    method: 'POST',
    headers: { 'content-type': 'application/pkcs7-signature', authorization: `Bearer ${tok}` },
    body: cms as BodyInit,
  });
const getMaterial = async (id: string, tok = token) =>
  (await (
    await fetch(`${s.url}/api/materials/${id}`, { headers: { authorization: `Bearer ${tok}` } })
  ).json()) as {
    sha256: string;
    signatures: {
      id: string;
      signer: { subject: string; commonName: string };
      integrity: string;
      trust: string;
      status: string;
    }[];
  };
const counts = async () => ({
  materials: (await s.server.ctx.db.selectFrom('materials').select('id').execute()).length,
  signatures: (await s.server.ctx.db.selectFrom('material_signatures').select('id').execute()).length,
  blobs: (await s.server.ctx.db.selectFrom('blobs').select('sha256').execute()).length,
  blobFiles: fs.readdirSync(path.join(s.dataDir, 'blobs'), { recursive: true }).length,
});

beforeAll(async () => {
  s = await startTestServer();
  token = await devToken(s.url, '王五', '110101199003071234');
  signer = await enrolledSigner(token);
});
afterAll(async () => {
  await s?.close();
  if (s) fs.rmSync(s.dataDir, { recursive: true, force: true });
});

describe('material signatures (材料签名)', () => {
  it('accepts a detached CMS over the material, records the signer and shows it in the metadata', async () => {
    const data = new TextEncoder().encode('%PDF-1.7 承诺书 ' + 'x'.repeat(100_000));
    const id = await upload(token, data);
    const cms = await createCadesSignature({ signer, documentDigest: sha256(data), hash: 'SHA-256' });
    const r = await postSignature(id, cms);
    expect(r.status).toBe(201);
    const sig = (await r.json()) as {
      id: string;
      signer: { commonName: string; subject: string };
      integrity: string;
      trust: string;
      status: string;
    };
    expect(sig).toMatchObject({ integrity: 'ok', trust: 'trusted', status: 'valid' });
    expect(sig.signer.commonName).toBe('王五');
    expect(sig.signer.subject).toContain('王五');
    const m = await getMaterial(id);
    expect(m.signatures).toHaveLength(1);
    expect(m.signatures[0]).toMatchObject({
      id: sig.id,
      integrity: 'ok',
      trust: 'trusted',
      status: 'valid',
      signer: { commonName: '王五' },
    });
    // the CMS is stored as a material of its own, byte for byte
    const content = await fetch(`${s.url}/api/materials/${sig.id}/content`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(new Uint8Array(await content.arrayBuffer())).toEqual(cms);
    // sent again (a retry): the recorded signature, nothing new
    const before = await counts();
    const again = await postSignature(id, cms);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(sig.id);
    expect(await counts()).toEqual(before);
    // the audit trail has the signing act
    const audit = await s.server.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'material.sign')
      .execute();
    expect(audit.some((a) => String(a.subject).includes(sig.id))).toBe(true);
  });

  it('refuses a signature over other bytes (422, JSON) and stores nothing', async () => {
    const data = new TextEncoder().encode('%PDF-1.7 the real material ' + 'y'.repeat(50_000));
    const id = await upload(token, data);
    const other = new TextEncoder().encode('%PDF-1.7 something else');
    const cms = await createCadesSignature({ signer, documentDigest: sha256(other), hash: 'SHA-256' });
    const before = await counts();
    const r = await postSignature(id, cms);
    expect(r.status).toBe(422);
    const body = (await r.json()) as { error: string; message: string };
    expect(body.error).toBe('SIGNATURE_INVALID');
    expect(body.message).toMatch(/not over this material/);
    expect(JSON.stringify(body)).not.toMatch(/\n\s+at /);
    expect(await counts()).toEqual(before);
    expect(s.server.ctx.blobs.has(hex(sha256(cms)))).toBe(false);
    expect((await getMaterial(id)).signatures).toEqual([]);
    // a damaged signature value and garbage fare no better
    const damaged = (
      await createCadesSignature({ signer, documentDigest: sha256(data), hash: 'SHA-256' })
    ).slice();
    damaged[damaged.length - 3] ^= 0x40;
    const d = await postSignature(id, damaged);
    expect(d.status).toBe(422);
    expect(((await d.json()) as { error: string }).error).toBe('SIGNATURE_INVALID');
    const g = await postSignature(id, new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]));
    expect(g.status).toBe(422);
    expect(await counts()).toEqual(before);
  });

  it('a signer the server does not trust: recorded as indeterminate, not refused', async () => {
    const dir = makeTempDir('sidian-matsig-');
    try {
      const ca = createCa(dir, { subject: '/C=CN/O=Elsewhere/CN=Elsewhere Root' });
      const who = issueCertificate(ca, { name: 'who', subject: '/C=CN/CN=赵六' });
      const key = await webcrypto.subtle.importKey(
        'pkcs8',
        who.keyPkcs8,
        { name: 'ECDSA', namedCurve: 'P-256' },
        false,
        ['sign'],
      );
      const data = new TextEncoder().encode('%PDF-1.7 signed by a stranger');
      const id = await upload(token, data);
      const cms = await createCadesSignature({
        signer: signerFromCryptoKey(key as CryptoKey, who.certDer, [ca.certDer]),
        documentDigest: sha256(data),
        hash: 'SHA-256',
      });
      const r = await postSignature(id, cms);
      expect(r.status).toBe(201);
      expect(await r.json()).toMatchObject({
        integrity: 'ok',
        trust: 'untrusted',
        status: 'indeterminate',
        signer: { commonName: '赵六' },
      });
    } finally {
      removeDir(dir);
    }
  });

  it('only the applicant signs their material', async () => {
    const data = new TextEncoder().encode('%PDF-1.7 mine');
    const id = await upload(token, data);
    const cms = await createCadesSignature({ signer, documentDigest: sha256(data), hash: 'SHA-256' });
    const other = await devToken(s.url, '小偷', '110101199001010000');
    expect((await postSignature(id, cms, other)).status).toBe(404);
    expect(
      (
        await fetch(`${s.url}/api/materials/${id}/signatures`, {
          method: 'POST',
          body: cms as BodyInit,
          headers: { 'content-type': 'application/pkcs7-signature' },
        })
      ).status,
    ).toBe(401);
    expect((await getMaterial(id)).signatures).toEqual([]);
  });
});
