/**
 * The seal authority (制章者): the SM2 key with which the server makes GB/T 38540 seals (SESeal).
 * GB/T 38540 §5 requires SM2, so this is not the department seal key of pki/dev-pki.ts (ECDSA
 * P-256, for PAdES seals) nor the enrolment CA: it is its own key, with its own certificate.
 *
 * Development: made on first start in `<data>/pki/seal-maker/` — a self-signed SM2 root
 * ("Sidian Development Seal Authority Root") and the maker's certificate issued by it, SM2 with SM3.
 * Production: `SIDIAN_SEAL_MAKER_KEY` (unencrypted PKCS#8 PEM of the SM2 key) and
 * `SIDIAN_SEAL_MAKER_CERT` (PEM: the maker's certificate, then its issuers; the last one is the
 * anchor seals are verified against unless `SIDIAN_SEAL_MAKER_TRUST` names another PEM file).
 * Without them a production server makes no seals (the routes answer 503 SEALS_UNAVAILABLE).
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  sm2PublicKey,
  sm2RandomPrivateKey,
  sm2Sign,
  sm2Spki,
  sm2Pkcs8,
} from '../../../packages/core/src/gm/sm2';
import {
  derBoolean,
  derInteger,
  derOctetString,
  derOid,
  derSequence,
  derSetOf,
  tlv,
} from '../../../packages/core/src/pki/der';
import { OID } from '../../../packages/core/src/pki/oids';
import { signerFromSm2, type Signer } from '@sidian/core';
import { fromPem, toPem } from '../pki/x509';

/**
 * The seal authority's anchors (DER) of each running server, set by the seal routes when they load
 * it, so that verification outside them (`POST /api/verify`, verify/cache.ts) trusts the same makers.
 */
export const sealAnchorsOf = new WeakMap<object, Uint8Array[]>();

/**
 * The maker certificates (DER) of each running server's seal authority, set beside `sealAnchorsOf`:
 * the registry is complete for the seals their keys make (seals/registry.ts).
 */
export const sealMakersOf = new WeakMap<object, Uint8Array[]>();

export interface SealAuthorityConfig {
  keyFile: string;
  certFile: string;
  trustFile?: string;
}

export interface SealAuthority {
  signer: Signer;
  certificate: Uint8Array;
  chain: Uint8Array[];
  /** Anchors against which the seals this server makes verify (DER). */
  anchors: Uint8Array[];
}

const YEAR = 365 * 24 * 3600 * 1000;

/** Name ::= SEQUENCE OF RDN, one attribute per RDN, UTF8String values (RFC 5280 §4.1.2.4). */
function name(attrs: [string, string][]): Uint8Array {
  return derSequence(
    ...attrs.map(([oid, value]) =>
      derSetOf([derSequence(derOid(oid), tlv(0x0c, new TextEncoder().encode(value)))]),
    ),
  );
}

/** GeneralizedTime (RFC 5280 §4.1.2.5: UTCTime before 2050). */
function time(d: Date): Uint8Array {
  const s = d.toISOString().replace(/[-:T]|\.\d{3}/g, '');
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, new TextEncoder().encode(s.slice(2)))
    : tlv(0x18, new TextEncoder().encode(s));
}

/** A certificate signed with SM2 over SM3 (GM/T 0015), with basicConstraints and keyUsage. */
function sm2Certificate(o: {
  issuer: Uint8Array;
  subject: Uint8Array;
  publicKey: Uint8Array;
  issuerKey: Uint8Array;
  issuerPublicKey: Uint8Array;
  ca: boolean;
  validityMs: number;
}): Uint8Array {
  const now = Date.now();
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = serial[0]! & 0x7f;
  const alg = derSequence(derOid(OID.sm2WithSm3));
  // keyUsage: CA keyCertSign|cRLSign (bits 5, 6); maker digitalSignature|nonRepudiation (bits 0, 1)
  const keyUsage = o.ca ? Uint8Array.of(0x03, 0x02, 0x01, 0x06) : Uint8Array.of(0x03, 0x02, 0x06, 0xc0);
  const ext = (oid: string, critical: boolean, value: Uint8Array) =>
    derSequence(derOid(oid), ...(critical ? [derBoolean(true)] : []), derOctetString(value));
  const tbs = derSequence(
    tlv(0xa0, derInteger(2)),
    derInteger(serial),
    alg,
    o.issuer,
    derSequence(time(new Date(now - 3600_000)), time(new Date(now + o.validityMs))),
    o.subject,
    sm2Spki(o.publicKey),
    tlv(
      0xa3,
      derSequence(
        ext('2.5.29.19', true, o.ca ? derSequence(derBoolean(true)) : derSequence()),
        ext('2.5.29.15', true, keyUsage),
      ),
    ),
  );
  const signature = sm2Sign(o.issuerKey, tbs, { publicKey: o.issuerPublicKey });
  return derSequence(tbs, alg, tlv(0x03, Uint8Array.of(0), signature));
}

/** Makes the development seal authority's files in `dir` (root, maker certificate and key). */
export function createDevSealAuthority(dir: string): void {
  const rootKey = sm2RandomPrivateKey();
  const rootPub = sm2PublicKey(rootKey);
  const rootName = name([
    ['2.5.4.6', 'CN'],
    ['2.5.4.10', 'Sidian 开发测试'],
    ['2.5.4.3', 'Sidian Development Seal Authority Root'],
  ]);
  const root = sm2Certificate({
    issuer: rootName,
    subject: rootName,
    publicKey: rootPub,
    issuerKey: rootKey,
    issuerPublicKey: rootPub,
    ca: true,
    validityMs: 10 * YEAR,
  });
  const makerKey = sm2RandomPrivateKey();
  const maker = sm2Certificate({
    issuer: rootName,
    subject: name([
      ['2.5.4.6', 'CN'],
      ['2.5.4.10', 'Sidian 开发测试'],
      ['2.5.4.3', 'Sidian 开发测试制章者 Development Seal Maker'],
    ]),
    publicKey: sm2PublicKey(makerKey),
    issuerKey: rootKey,
    issuerPublicKey: rootPub,
    ca: false,
    validityMs: 5 * YEAR,
  });
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(tmp, 'maker.pem'), toPem(maker, 'CERTIFICATE') + toPem(root, 'CERTIFICATE'));
  fs.writeFileSync(path.join(tmp, 'maker.key.pem'), toPem(sm2Pkcs8(makerKey), 'PRIVATE KEY'), {
    mode: 0o600,
  });
  fs.writeFileSync(path.join(tmp, 'root.pem'), toPem(root, 'CERTIFICATE'));
  try {
    fs.renameSync(tmp, dir); // atomic: a crash leaves no half-made authority
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(path.join(dir, 'maker.pem'))) throw e;
  }
}

/** Reads a seal authority from its PEM files; throws when the key is not SM2 or not the certificate's. */
export function readSealAuthority(c: SealAuthorityConfig): SealAuthority {
  const [key] = fromPem(fs.readFileSync(c.keyFile, 'utf8'), 'PRIVATE KEY');
  const certs = fromPem(fs.readFileSync(c.certFile, 'utf8'), 'CERTIFICATE');
  if (!key)
    throw new Error(`seal maker key: ${c.keyFile} holds no PEM PRIVATE KEY (an unencrypted SM2 PKCS#8)`);
  const [certificate, ...chain] = certs;
  if (!certificate) throw new Error(`seal maker certificate: ${c.certFile} holds no PEM CERTIFICATE`);
  const signer = signerFromSm2(key, certificate, chain);
  const anchors = c.trustFile
    ? fromPem(fs.readFileSync(c.trustFile, 'utf8'), 'CERTIFICATE')
    : chain.length
      ? [chain[chain.length - 1]!]
      : [certificate];
  return { signer, certificate, chain, anchors };
}

/**
 * The configured seal authority: `config` (or the SIDIAN_SEAL_MAKER_* environment) when given;
 * in development the one in `<data>/pki/seal-maker`, made on first start; otherwise none.
 */
export function loadSealAuthority(o: {
  dataDir: string;
  devMode: boolean;
  config?: SealAuthorityConfig;
  env?: NodeJS.ProcessEnv;
}): SealAuthority | undefined {
  const env = o.env ?? process.env;
  const config =
    o.config ??
    (env.SIDIAN_SEAL_MAKER_KEY && env.SIDIAN_SEAL_MAKER_CERT
      ? {
          keyFile: env.SIDIAN_SEAL_MAKER_KEY,
          certFile: env.SIDIAN_SEAL_MAKER_CERT,
          trustFile: env.SIDIAN_SEAL_MAKER_TRUST || undefined,
        }
      : undefined);
  if (config) return readSealAuthority(config);
  if (!o.devMode) return undefined;
  const dir = path.join(o.dataDir, 'pki', 'seal-maker');
  if (!fs.existsSync(path.join(dir, 'maker.pem'))) {
    fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
    createDevSealAuthority(dir);
  }
  return readSealAuthority({
    keyFile: path.join(dir, 'maker.key.pem'),
    certFile: path.join(dir, 'maker.pem'),
    trustFile: path.join(dir, 'root.pem'),
  });
}
