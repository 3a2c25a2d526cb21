/**
 * The algorithms Sidian signs and verifies with, as one table (as Go's crypto/x509
 * `signatureAlgorithmDetails`): each row is an OID, its digest, its key type and the function that
 * verifies it. Signing picks a row by (family, digest); verification looks a row up by the OID in
 * the file. Nothing outside this file branches on an algorithm: SM2-with-SM3 is one more row.
 */
import { sm2Verify } from './gm/sm2';
import { sm3 } from './gm/sm3';
import type { CertificateInfo } from './pki/certificate';
import {
  type Asn1Node,
  derAlgorithm,
  derExplicit,
  derInteger,
  derSequence,
  readInteger,
  readOid,
  toHex,
} from './pki/der';
import { OID } from './pki/oids';
import { digestSync as sha2Sync } from './pki/sha2';
import { curveFieldSize, ecdsaDerToRaw } from './signer/ecdsa';
import type { HashName, SignatureAlgorithmName } from './signer/types';

/** The digests of signing (HashName) and, for verifying old signatures only, SHA-1. */
export type DigestName = HashName | 'SHA-1';

export interface DigestAlgorithm {
  name: DigestName;
  oid: string;
  /** Output bytes. */
  length: number;
  /** Node's (OpenSSL's) name for createHash. */
  nodeName: string;
  /** WebCrypto has it (crypto.subtle.digest); otherwise `sync` is the browser's way. */
  webCrypto: boolean;
  sync(data: Uint8Array): Uint8Array;
}

export const DIGESTS: readonly DigestAlgorithm[] = [
  {
    name: 'SHA-1',
    oid: OID.sha1,
    length: 20,
    nodeName: 'sha1',
    webCrypto: true,
    sync: (d) => sha2Sync('SHA-1', d),
  },
  {
    name: 'SHA-256',
    oid: OID.sha256,
    length: 32,
    nodeName: 'sha256',
    webCrypto: true,
    sync: (d) => sha2Sync('SHA-256', d),
  },
  {
    name: 'SHA-384',
    oid: OID.sha384,
    length: 48,
    nodeName: 'sha384',
    webCrypto: true,
    sync: (d) => sha2Sync('SHA-384', d),
  },
  {
    name: 'SHA-512',
    oid: OID.sha512,
    length: 64,
    nodeName: 'sha512',
    webCrypto: true,
    sync: (d) => sha2Sync('SHA-512', d),
  },
  // GB/T 32905; GM/T 0006 OID
  { name: 'SM3', oid: OID.sm3, length: 32, nodeName: 'sm3', webCrypto: false, sync: (d) => sm3(d) },
];

/** Views of DIGESTS by name, for the places that only need an OID or a length. */
export const HASH_OID = Object.fromEntries(DIGESTS.map((d) => [d.name, d.oid])) as Record<DigestName, string>;
export const HASH_LENGTH = Object.fromEntries(DIGESTS.map((d) => [d.name, d.length])) as Record<
  DigestName,
  number
>;

/** Digest name for an OID (SHA-1 included for reading old structures), or undefined. */
export function hashNameForOid(oid: string): DigestName | undefined {
  return digestByOid(oid)?.name;
}

export function digestByName(name: DigestName): DigestAlgorithm | undefined {
  return DIGESTS.find((d) => d.name === name);
}
export function digestByOid(oid: string): DigestAlgorithm | undefined {
  return DIGESTS.find((d) => d.oid === oid);
}

/** The key a row verifies with, as parsed from the certificate's SubjectPublicKeyInfo. */
export type KeyType = 'rsa' | 'ec' | 'sm2';

export function keyTypeOf(cert: Pick<CertificateInfo, 'publicKey'>): KeyType | undefined {
  const pk = cert.publicKey;
  if (pk.kind === 'rsa') return 'rsa';
  if (pk.kind === 'ec') return pk.curveOid === OID.sm2Curve ? 'sm2' : 'ec';
  return undefined;
}

type Verify = (
  cert: Pick<CertificateInfo, 'publicKey' | 'spki'>,
  sigAlg: Asn1Node,
  hash: DigestName,
  data: Uint8Array,
  signature: Uint8Array,
) => Promise<boolean | undefined>;

export interface SignatureAlgorithm {
  oid: string;
  family: SignatureAlgorithmName;
  /** The digest the OID names; undefined when it comes from the parameters or the SignerInfo. */
  hash?: DigestName;
  key: KeyType;
  /** The name in verification reports: RSA-SHA256, ECDSA-SHA256, SM2-SM3, ... */
  label(hash: DigestName): string;
  verify: Verify;
  /** AlgorithmIdentifier DER for signing with `hash`; absent for rows that are read, never written. */
  encode?(hash: HashName): Uint8Array;
}

const plain = (h: DigestName) => h.replace('-', '');

/**
 * Imported public keys by algorithm and SubjectPublicKeyInfo: a server verifying thousands of
 * documents sealed by the same few departments imports each key once (bounded, oldest dropped).
 */
const keyCache = new Map<string, Promise<CryptoKey>>();
function importCached(spki: Uint8Array, alg: RsaHashedImportParams | EcKeyImportParams): Promise<CryptoKey> {
  const id = `${alg.name}:${'hash' in alg ? String(alg.hash) : (alg as EcKeyImportParams).namedCurve}:${toHex(spki)}`;
  let k = keyCache.get(id);
  if (!k) {
    k = crypto.subtle.importKey('spki', spki as Uint8Array<ArrayBuffer>, alg, false, ['verify']);
    k.catch(() => keyCache.delete(id));
    if (keyCache.size >= 512) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(id, k);
  }
  return k;
}

const webHash = (h: DigestName | undefined) => (h && digestByName(h)?.webCrypto ? h : undefined);

/** RSASSA-PKCS1-v1_5 (RFC 8017 §8.2) with the row's digest, or the SignerInfo's for rsaEncryption. */
function rsaPkcs1(rowHash?: DigestName): Verify {
  return async (cert, _sigAlg, digestHash, data, signature) => {
    const hash = webHash(rowHash ?? digestHash);
    if (!hash) return undefined;
    const key = await importCached(cert.spki, { name: 'RSASSA-PKCS1-v1_5', hash });
    return crypto.subtle.verify(
      'RSASSA-PKCS1-v1_5',
      key,
      signature as Uint8Array<ArrayBuffer>,
      data as Uint8Array<ArrayBuffer>,
    );
  };
}

/** RSASSA-PSS with RSASSA-PSS-params (RFC 4055 §3.1; defaults SHA-1 and salt 20). */
const rsaPss: Verify = async (cert, sigAlg, _digestHash, data, signature) => {
  let hash: DigestName | undefined = 'SHA-1';
  let salt = 20;
  for (const p of sigAlg.children[1]?.children ?? []) {
    if (p.isContext(0)) hash = digestByOid(readOid(p.child(0).child(0)))?.name;
    if (p.isContext(2)) salt = Number(readInteger(p.child(0)));
  }
  if (!webHash(hash)) return undefined;
  const key = await importCached(cert.spki, { name: 'RSA-PSS', hash: hash! });
  return crypto.subtle.verify(
    { name: 'RSA-PSS', saltLength: salt },
    key,
    signature as Uint8Array<ArrayBuffer>,
    data as Uint8Array<ArrayBuffer>,
  );
};

/** ECDSA (FIPS 186-5) on the NIST curves WebCrypto has; the DER signature becomes r||s. */
function ecdsa(rowHash?: DigestName): Verify {
  return async (cert, _sigAlg, digestHash, data, signature) => {
    const pk = cert.publicKey;
    const hash = webHash(rowHash ?? digestHash);
    if (pk.kind !== 'ec' || !pk.curve || !hash) return undefined;
    const raw = ecdsaDerToRaw(signature, curveFieldSize(pk.curve));
    if (!raw) return false;
    const key = await importCached(cert.spki, { name: 'ECDSA', namedCurve: pk.curve });
    return crypto.subtle.verify(
      { name: 'ECDSA', hash },
      key,
      raw as Uint8Array<ArrayBuffer>,
      data as Uint8Array<ArrayBuffer>,
    );
  };
}

/**
 * SM2 with SM3 (GB/T 32918.2, GM/T 0009): e = SM3(Z || data), Z over the default identifier
 * 1234567812345678 (GM/T 0009 §10; CMS per GM/T 0010 carries no identifier).
 */
function sm2(rowHash?: DigestName): Verify {
  return async (cert, _sigAlg, digestHash, data, signature) => {
    const pk = cert.publicKey;
    if (pk.kind !== 'ec' || pk.curveOid !== OID.sm2Curve || (rowHash ?? digestHash) !== 'SM3')
      return undefined;
    return sm2Verify(pk.point, data, signature);
  };
}

const RSA_OIDS = {
  'SHA-256': OID.sha256WithRSAEncryption,
  'SHA-384': OID.sha384WithRSAEncryption,
  'SHA-512': OID.sha512WithRSAEncryption,
} as const;
const ECDSA_OIDS = {
  'SHA-256': OID.ecdsaWithSHA256,
  'SHA-384': OID.ecdsaWithSHA384,
  'SHA-512': OID.ecdsaWithSHA512,
} as const;

const PSS_LABEL = (h: DigestName) => `RSA-PSS-${plain(h)}`;

export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = [
  ...(['SHA-256', 'SHA-384', 'SHA-512'] as const).map((hash): SignatureAlgorithm => {
    const oid = RSA_OIDS[hash];
    // NULL parameters (RFC 4055 §5)
    const encode = () => derAlgorithm(oid, 'null');
    return {
      oid,
      family: 'RSASSA-PKCS1-v1_5',
      hash,
      key: 'rsa',
      label: () => `RSA-${plain(hash)}`,
      verify: rsaPkcs1(hash),
      encode,
    };
  }),
  {
    oid: OID.sha1WithRSAEncryption,
    family: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-1',
    key: 'rsa',
    label: () => 'RSA-SHA1',
    verify: rsaPkcs1('SHA-1'),
  },
  // rsaEncryption as a signature algorithm: the digest is the SignerInfo's (seen in the wild)
  {
    oid: OID.rsaEncryption,
    family: 'RSASSA-PKCS1-v1_5',
    key: 'rsa',
    label: (h) => `RSA-${plain(h)}`,
    verify: rsaPkcs1(),
  },
  {
    oid: OID.rsassaPss,
    family: 'RSA-PSS',
    key: 'rsa',
    label: PSS_LABEL,
    verify: rsaPss,
    // RSASSA-PSS-params {hash, MGF1(hash), salt = hash length, trailer 1 omitted} (RFC 4055 §3.1)
    encode: (hash) => {
      const hashAlg = derAlgorithm(digestByName(hash)!.oid, 'null');
      return derAlgorithm(
        OID.rsassaPss,
        derSequence(
          derExplicit(0, hashAlg),
          derExplicit(1, derAlgorithm(OID.mgf1, hashAlg)),
          derExplicit(2, derInteger(digestByName(hash)!.length)),
        ),
      );
    },
  },
  ...(['SHA-256', 'SHA-384', 'SHA-512'] as const).map((hash): SignatureAlgorithm => {
    const oid = ECDSA_OIDS[hash];
    // no parameters (RFC 5758 §3.2)
    return {
      oid,
      family: 'ECDSA',
      hash,
      key: 'ec',
      label: () => `ECDSA-${plain(hash)}`,
      verify: ecdsa(hash),
      encode: () => derAlgorithm(oid),
    };
  }),
  {
    oid: OID.ecdsaWithSHA1,
    family: 'ECDSA',
    hash: 'SHA-1',
    key: 'ec',
    label: () => 'ECDSA-SHA1',
    verify: ecdsa('SHA-1'),
  },
  { oid: OID.ecPublicKey, family: 'ECDSA', key: 'ec', label: (h) => `ECDSA-${plain(h)}`, verify: ecdsa() },
  // SM2-with-SM3 (GM/T 0006): the OID X.509 and GM/T 0010 SignerInfos write; no parameters
  {
    oid: OID.sm2WithSm3,
    family: 'SM2',
    hash: 'SM3',
    key: 'sm2',
    label: () => 'SM2-SM3',
    verify: sm2('SM3'),
    encode: () => derAlgorithm(OID.sm2WithSm3),
  },
  // sm2sign (GM/T 0006 1.2.156.10197.1.301.1), which some GM/T 0010 SignerInfos carry; the digest is the SignerInfo's
  { oid: OID.sm2Sign, family: 'SM2', key: 'sm2', label: () => 'SM2-SM3', verify: sm2() },
];

export function signatureAlgorithmByOid(oid: string): SignatureAlgorithm | undefined {
  return SIGNATURE_ALGORITHMS.find((a) => a.oid === oid);
}

/** The row a signer writes for (family, digest); undefined when Sidian does not sign so. */
export function signatureAlgorithmFor(
  family: SignatureAlgorithmName,
  hash: HashName,
): SignatureAlgorithm | undefined {
  return SIGNATURE_ALGORITHMS.find(
    (a) =>
      a.family === family &&
      a.encode &&
      (a.hash === hash || (a.hash === undefined && digestByName(hash)?.webCrypto === true)),
  );
}
