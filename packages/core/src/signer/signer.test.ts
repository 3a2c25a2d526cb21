import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type Ca,
  type Entity,
  type KeySpec,
  createCa,
  issueCertificate,
  makePkcs12,
  makeTempDir,
  openssl,
  removeDir,
  writeFile,
} from '../../../../tests/helpers/openssl-pki';
import { SidianError } from '../errors';
import { fromHex, toHex } from '../pki/der';
import {
  ecdsaDerToRaw,
  ecdsaRawToDer,
  normalizeEcdsaSignature,
  signerFromCryptoKey,
  signerFromPkcs12,
  signerFromRemote,
  type Signer,
} from './index';

let dir: string;
let ca: Ca;
const leaves = {} as Record<KeySpec, Entity>;
const SPECS: KeySpec[] = ['rsa-2048', 'rsa-4096', 'p-256', 'p-384'];
const data = new TextEncoder().encode('signed attributes stand-in: 项城市市场监督管理局');

beforeAll(() => {
  dir = makeTempDir();
  ca = createCa(dir, { key: 'p-256' });
  for (const spec of SPECS)
    leaves[spec] = issueCertificate(ca, { name: `leaf-${spec}`, subject: `/CN=Signer ${spec}`, key: spec });
});
afterAll(() => removeDir(dir));

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(SidianError);
    return (e as SidianError).code;
  }
  return 'no error';
}

/** Verifies `sig` over `data` with openssl dgst and the certificate's public key. */
function opensslVerifies(entity: Entity, sig: Uint8Array, hash: string, pss = false): boolean {
  const pub = writeFile(
    entity.dir,
    'pub.pem',
    openssl(['x509', '-in', entity.certFile, '-noout', '-pubkey']),
  );
  const sigFile = writeFile(entity.dir, 'sig.bin', sig);
  const dataFile = writeFile(entity.dir, 'data.bin', data);
  const args = ['dgst', `-${hash}`, '-verify', pub, '-signature', sigFile];
  if (pss)
    args.push('-sigopt', 'rsa_padding_mode:pss', '-sigopt', `rsa_pss_saltlen:${hash === 'sha256' ? 32 : 48}`);
  try {
    return openssl([...args, dataFile])
      .toString()
      .includes('Verified OK');
  } catch {
    return false;
  }
}

describe('ECDSA signature encodings', () => {
  it('converts r||s to minimal DER and back, including high bits and leading zeros', () => {
    const raw = fromHex('00'.repeat(3) + '7f' + 'ab'.repeat(28) + '80' + '11'.repeat(31));
    const der = ecdsaRawToDer(raw);
    expect(toHex(der)).toBe('3042' + '021d7f' + 'ab'.repeat(28) + '022100' + '80' + '11'.repeat(31));
    expect(ecdsaDerToRaw(der, 32)).toEqual(raw);
    expect(normalizeEcdsaSignature(raw, 32)).toEqual(der);
    expect(normalizeEcdsaSignature(der, 32)).toEqual(der);
    expect(ecdsaDerToRaw(fromHex('300602020080020101'), 32)).toBeNull(); // non-minimal INTEGER
    expect(() => normalizeEcdsaSignature(new Uint8Array(63), 32)).toThrow(SidianError);
  });
});

describe('signerFromPkcs12', () => {
  for (const spec of SPECS) {
    for (const legacy of [false, true]) {
      it(`signs with ${spec} from a ${legacy ? '-legacy' : 'default'} PKCS#12 (openssl verifies)`, async () => {
        const leaf = leaves[spec];
        const p12 = makePkcs12(leaf, { password: 'pw', chain: [ca], legacy });
        const importKey = vi.spyOn(crypto.subtle, 'importKey');
        const signer = await signerFromPkcs12(p12.bytes, 'pw');
        expect(importKey.mock.calls.some((c) => c[0] === 'pkcs8' && c[3] === false)).toBe(true);
        expect(importKey.mock.calls.some((c) => c[0] === 'pkcs8' && c[3] === true)).toBe(false);
        importKey.mockRestore();
        expect(signer.certificate).toEqual(leaf.certDer);
        expect(signer.chain).toEqual([ca.certDer]);
        const rsa = spec.startsWith('rsa');
        expect(signer.algorithm).toBe(rsa ? 'RSASSA-PKCS1-v1_5' : 'ECDSA');
        expect(signer.hash).toBe(spec === 'p-384' ? 'SHA-384' : 'SHA-256');
        const sig = await signer.sign(data);
        if (!rsa) expect(sig[0]).toBe(0x30); // DER, not r||s
        expect(opensslVerifies(leaf, sig, spec === 'p-384' ? 'sha384' : 'sha256')).toBe(true);
      });
    }
  }

  it('signs RSA-PSS on request', async () => {
    const leaf = leaves['rsa-2048'];
    const p12 = makePkcs12(leaf, { password: 'pw', file: `${leaf.dir}/pss.p12` });
    const signer = await signerFromPkcs12(p12.bytes, 'pw', { rsaScheme: 'pss' });
    expect(signer.algorithm).toBe('RSA-PSS');
    expect(opensslVerifies(leaf, await signer.sign(data), 'sha256', true)).toBe(true);
  });

  it('reports wrong passwords and garbage', async () => {
    const p12 = makePkcs12(leaves['p-256'], { password: 'pw', file: `${dir}/x.p12` });
    expect(await codeOf(signerFromPkcs12(p12.bytes, 'nope'))).toBe('P12_BAD_PASSWORD');
    expect(await codeOf(signerFromPkcs12(new Uint8Array([1, 2, 3]), 'pw'))).toBe('P12_MALFORMED');
  });
});

describe('signerFromCryptoKey', () => {
  const importPkcs8 = (e: Entity, alg: RsaHashedImportParams | EcKeyImportParams) =>
    crypto.subtle.importKey('pkcs8', e.keyPkcs8, alg, false, ['sign']);

  it('signs with RSA-PSS SHA-384 keys (salt = hash length)', async () => {
    const leaf = leaves['rsa-4096'];
    const key = await importPkcs8(leaf, { name: 'RSA-PSS', hash: 'SHA-384' });
    const signer = signerFromCryptoKey(key, leaf.certDer);
    expect(signer).toMatchObject({ algorithm: 'RSA-PSS', hash: 'SHA-384', chain: [] });
    expect(opensslVerifies(leaf, await signer.sign(data), 'sha384', true)).toBe(true);
  });

  it('rejects keys that do not fit the certificate or the policy', async () => {
    const p256 = await importPkcs8(leaves['p-256'], { name: 'ECDSA', namedCurve: 'P-256' });
    expect(await codeOf(() => signerFromCryptoKey(p256, leaves['p-384'].certDer))).toBe('KEY_UNSUPPORTED');
    expect(await codeOf(() => signerFromCryptoKey(p256, leaves['rsa-2048'].certDer))).toBe('KEY_UNSUPPORTED');
    const rsa4096 = await importPkcs8(leaves['rsa-4096'], { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' });
    expect(await codeOf(() => signerFromCryptoKey(rsa4096, leaves['rsa-2048'].certDer))).toBe(
      'KEY_UNSUPPORTED',
    );
    const small = await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 1024,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      false,
      ['sign', 'verify'],
    );
    expect(await codeOf(() => signerFromCryptoKey(small.privateKey, leaves['rsa-2048'].certDer))).toBe(
      'KEY_UNSUPPORTED',
    );
    expect(await codeOf(() => signerFromCryptoKey(small.publicKey, leaves['rsa-2048'].certDer))).toBe(
      'KEY_UNSUPPORTED',
    );
    expect(await codeOf(() => signerFromCryptoKey(p256, new Uint8Array(5)))).toBe('CERT_MALFORMED');
  });
});

describe('signerFromRemote', () => {
  /** An "HSM" that signs digests: openssl pkeyutl over the digest (DER for ECDSA, PKCS#1 v1.5 for RSA). */
  const pkeyutl = (e: Entity, hash: string) => async (digest: Uint8Array) => {
    const f = writeFile(e.dir, 'digest.bin', digest);
    return new Uint8Array(
      openssl(['pkeyutl', '-sign', '-inkey', e.keyFile, '-pkeyopt', `digest:${hash}`, '-in', f]),
    );
  };

  it('hands out the digest and accepts DER ECDSA signatures', async () => {
    const leaf = leaves['p-384'];
    const seen: Uint8Array[] = [];
    const signer = signerFromRemote({
      certificate: leaf.certDer,
      chain: [ca.certDer],
      signDigest: async (digest, info) => {
        seen.push(digest);
        expect(info).toMatchObject({ algorithm: 'ECDSA', hash: 'SHA-384' });
        return pkeyutl(leaf, 'sha384')(digest);
      },
    });
    expect(signer.hash).toBe('SHA-384');
    const sig = await signer.sign(data);
    expect(seen[0]).toEqual(new Uint8Array(await crypto.subtle.digest('SHA-384', data)));
    expect(opensslVerifies(leaf, sig, 'sha384')).toBe(true);
  });

  it('accepts r||s and normalises it to DER', async () => {
    const leaf = leaves['p-256'];
    const key = await crypto.subtle.importKey(
      'pkcs8',
      leaf.keyPkcs8,
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign'],
    );
    const signer = signerFromRemote({
      certificate: leaf.certDer,
      // a UKey middleware that wants the data rather than the digest can use info.signedAttributes
      signDigest: async (_d, info) =>
        new Uint8Array(
          await crypto.subtle.sign(
            { name: 'ECDSA', hash: 'SHA-256' },
            key,
            new Uint8Array(info.signedAttributes),
          ),
        ),
    });
    const sig = await signer.sign(data);
    expect(sig[0]).toBe(0x30);
    expect(opensslVerifies(leaf, sig, 'sha256')).toBe(true);
  });

  it('signs RSA PKCS#1 v1.5 digests and offers the DigestInfo', async () => {
    const leaf = leaves['rsa-2048'];
    let digestInfo: Uint8Array | undefined;
    const signer = signerFromRemote({
      certificate: leaf.certDer,
      signDigest: async (digest, info) => {
        digestInfo = info.digestInfo;
        return pkeyutl(leaf, 'sha256')(digest);
      },
    });
    const sig = await signer.sign(data);
    expect(toHex(digestInfo!).startsWith('3031300d060960864801650304020105000420')).toBe(true);
    expect(opensslVerifies(leaf, sig, 'sha256')).toBe(true);
  });

  it('refuses signatures that do not verify, and wraps callback failures', async () => {
    const other = leaves['p-256'];
    const wrongKey: Signer = signerFromRemote({
      certificate: leaves['p-384'].certDer,
      hash: 'SHA-384',
      signDigest: pkeyutl(other, 'sha384'),
    });
    expect(await codeOf(wrongKey.sign(data))).toBe('SIGNER_FAILED');
    await expect(wrongKey.sign(data)).rejects.toThrow(/does not verify/);
    const failing = signerFromRemote({
      certificate: other.certDer,
      signDigest: async () => {
        throw new Error('UKey removed');
      },
    });
    await expect(failing.sign(data)).rejects.toThrow(/UKey removed/);
    expect(await codeOf(failing.sign(data))).toBe('SIGNER_FAILED');
    expect(
      await codeOf(() =>
        signerFromRemote({ certificate: other.certDer, algorithm: 'RSA-PSS', signDigest: async () => data }),
      ),
    ).toBe('KEY_UNSUPPORTED');
  });
});
