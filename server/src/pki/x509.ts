/** @peculiar/x509 set up for Node's WebCrypto, plus small PEM/DER helpers. */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, webcrypto } from 'node:crypto';
import { SM2_DEFAULT_ID, sm2PublicKey, sm2Sign } from '../../../packages/core/src/gm/sm2';

/**
 * Private keys that live outside WebCrypto (an HSM through PKCS#11): a CryptoKey-shaped handle whose
 * signatures come from `sign(digest)` — the SHA-256 of the data, signed as PKCS#11 CKM_ECDSA does,
 * giving r||s, the form WebCrypto's ECDSA returns. Everything that signs through `subtle` below (the
 * CA, the CRL, the TSA) works with either kind of key unchanged.
 */
const externalKeys = new WeakMap<object, (digest: Uint8Array) => Promise<Uint8Array>>();

export function externalEcKey(sign: (digest: Uint8Array) => Promise<Uint8Array>): CryptoKey {
  const key = Object.freeze({
    type: 'private',
    extractable: false,
    algorithm: Object.freeze({ name: 'ECDSA', namedCurve: 'P-256' }),
    usages: Object.freeze(['sign']),
  }) as unknown as CryptoKey;
  externalKeys.set(key, sign);
  return key;
}

/**
 * SM2 private keys (国密): WebCrypto has no SM2, so the CA, CRL and TSA keys of the SM2 hierarchy
 * are CryptoKey-shaped handles whose signatures come from @sidian/core's SM2 (GB/T 32918.2) over
 * the data with the default identifier 1234567812345678 (GM/T 0009 §10), DER SEQUENCE {r, s} as
 * X.509 and CMS carry it (GM/T 0009 §7.3). The scalar stays in this closure, never exported.
 */
const sm2Keys = new WeakMap<object, { sign: (data: Uint8Array) => Uint8Array; publicKey: Uint8Array }>();

/** SM2 with SM3 (GM/T 0006 1.2.156.10197.1.501), no parameters (GM/T 0015 §7.1). */
export const OID_SM2_WITH_SM3 = '1.2.156.10197.1.501';
/**
 * The signing algorithm for @peculiar/x509's generators with an SM2 handle: an algorithm named by
 * its OID is written as that OID with absent parameters, and the DER signature as it comes.
 */
export const SM2_SM3 = { name: OID_SM2_WITH_SM3 } as const;

export function sm2PrivateKey(d: Uint8Array): CryptoKey {
  const scalar = new Uint8Array(d);
  const publicKey = sm2PublicKey(scalar);
  const key = Object.freeze({
    type: 'private',
    extractable: false,
    // @peculiar/x509's generators take the signing key's algorithm name over signingAlgorithm: the OID
    algorithm: Object.freeze({ name: OID_SM2_WITH_SM3 }),
    usages: Object.freeze(['sign']),
  }) as unknown as CryptoKey;
  sm2Keys.set(key, {
    publicKey,
    sign: (data) => sm2Sign(scalar, data, { publicKey, id: SM2_DEFAULT_ID }),
  });
  return key;
}

/** True for the SM2 handles made by sm2PrivateKey. */
export function isSm2Key(key: CryptoKey): boolean {
  return sm2Keys.has(key);
}

/** The public point (04 || x || y) of an SM2 handle. */
export function sm2PublicPoint(key: CryptoKey): Uint8Array | undefined {
  return sm2Keys.get(key)?.publicKey;
}

const nodeSubtle = webcrypto.subtle as unknown as SubtleCrypto;

async function sign(
  algorithm: AlgorithmIdentifier | EcdsaParams,
  key: CryptoKey,
  data: BufferSource,
): Promise<ArrayBuffer> {
  const sm2 = sm2Keys.get(key);
  if (sm2) {
    const bytes =
      data instanceof ArrayBuffer
        ? new Uint8Array(data)
        : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return sm2.sign(bytes).slice().buffer;
  }
  const external = externalKeys.get(key);
  if (!external) return nodeSubtle.sign(algorithm, key, data);
  const a = algorithm as EcdsaParams;
  const hash = typeof a.hash === 'string' ? a.hash : (a.hash as Algorithm | undefined)?.name;
  if (a.name !== 'ECDSA' || hash !== 'SHA-256')
    throw new Error(`an HSM key signs ECDSA with SHA-256 only, not ${a.name}/${hash}`);
  const bytes =
    data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const signature = await external(new Uint8Array(createHash('sha256').update(bytes).digest()));
  return signature.slice().buffer;
}

/** WebCrypto's SubtleCrypto, with `sign` also accepting the external keys above. */
export const subtle: SubtleCrypto = new Proxy(nodeSubtle, {
  get(target, prop) {
    if (prop === 'sign') return sign;
    const v = Reflect.get(target, prop, target) as unknown;
    return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
  },
});

x509.cryptoProvider.set({
  subtle,
  getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
  randomUUID: webcrypto.randomUUID.bind(webcrypto),
} as unknown as Crypto);

export { x509 };

export const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

// PEM text in a module of its own: the CLI reads PEM without loading @peculiar/x509 (~110 ms)
export { fromPem, toPem } from './pem';

export function randomSerial(): string {
  const b = new Uint8Array(16);
  webcrypto.getRandomValues(b);
  b[0] = (b[0]! & 0x7f) | 0x40; // positive, fixed length
  return Buffer.from(b).toString('hex');
}

export async function importEcPrivateKey(pkcs8: Uint8Array, extractable = false): Promise<CryptoKey> {
  return subtle.importKey('pkcs8', new Uint8Array(pkcs8), EC_P256, extractable, ['sign']);
}

export async function sha256(data: Uint8Array | string): Promise<Uint8Array> {
  const b = typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data);
  return new Uint8Array(await subtle.digest('SHA-256', b));
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
