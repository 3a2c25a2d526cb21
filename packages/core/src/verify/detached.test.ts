import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Ca,
  type Entity,
  createCa,
  issueCertificate,
  makeTempDir,
  removeDir,
} from '../../../../tests/helpers/openssl-pki';
import { createCadesSignature } from '../cms';
import { signerFromCryptoKey } from '../signer';
import { verifyDetachedSignature } from './detached';

let dir: string;
let ca: Ca;
let citizen: Entity;
let signature: Uint8Array;
const content = new TextEncoder().encode('承诺书: the material the applicant signs');
const sha256 = async (b: Uint8Array) =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', b as Uint8Array<ArrayBuffer>));

beforeAll(async () => {
  dir = makeTempDir('sidian-detached-');
  ca = createCa(dir, { subject: '/C=CN/O=Sidian Test/CN=Sidian Test Root' });
  citizen = issueCertificate(ca, {
    name: 'citizen',
    subject: '/C=CN/CN=张三/serialNumber=110101199003071234',
  });
  const key = await crypto.subtle.importKey(
    'pkcs8',
    citizen.keyPkcs8,
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  signature = await createCadesSignature({
    signer: signerFromCryptoKey(key, citizen.certDer),
    documentDigest: await sha256(content),
    hash: 'SHA-256',
  });
});
afterAll(() => removeDir(dir));

describe('verifyDetachedSignature', () => {
  it('a signature over the content, by a trusted signer: valid, with the signer named', async () => {
    const r = await verifyDetachedSignature(
      signature,
      { sha256: await sha256(content) },
      { trustAnchors: [ca.certPem] },
    );
    expect(r.reasons).toEqual([]);
    expect(r).toMatchObject({
      status: 'valid',
      integrity: 'ok',
      trust: 'trusted',
      digestAlgorithm: 'SHA-256',
    });
    expect(r.signer?.commonName).toBe('张三');
    expect(r.signer?.subject).toContain('张三');
    expect(r.signer?.issuer).toContain('Sidian Test Root');
  });

  it('without the anchor: integrity ok, trust not established (indeterminate)', async () => {
    const r = await verifyDetachedSignature(signature, { sha256: await sha256(content) });
    expect(r).toMatchObject({ status: 'indeterminate', integrity: 'ok' });
    expect(r.trust).not.toBe('trusted');
  });

  it('other bytes: digest-mismatch, invalid', async () => {
    const other = await sha256(new TextEncoder().encode('something else'));
    const r = await verifyDetachedSignature(signature, { sha256: other }, { trustAnchors: [ca.certPem] });
    expect(r).toMatchObject({ status: 'invalid', integrity: 'digest-mismatch' });
  });

  it('a changed signature value: bad-signature; garbage: malformed', async () => {
    const bad = signature.slice();
    bad[bad.length - 5] ^= 0x01;
    const r = await verifyDetachedSignature(
      bad,
      { sha256: await sha256(content) },
      { trustAnchors: [ca.certPem] },
    );
    expect(r.status).toBe('invalid');
    expect(['bad-signature', 'malformed']).toContain(r.integrity);
    const g = await verifyDetachedSignature(new Uint8Array([1, 2, 3]), { sha256: await sha256(content) });
    expect(g).toMatchObject({ status: 'invalid', integrity: 'malformed', signer: null });
  });
});
