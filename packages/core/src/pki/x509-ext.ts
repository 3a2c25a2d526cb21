/**
 * What path validation reads from certificates and CRLs: names compared as RFC 5280 §7.1 asks,
 * the extensions of §4.2 that constrain a path, general names, and signatures checked with a
 * working public key (RSA and ECDSA through WebCrypto; DSA, which WebCrypto lacks, in bigint
 * arithmetic, for the PKITS DSA cases and old CAs).
 */
import { digestChunks } from '../digest';
import { verifySignature } from '../verify/cms-verify';
import type { CertificateInfo, PublicKeyInfo } from './certificate';
import {
  type Asn1Node,
  bytesEqual,
  parseDer,
  readBitStringBytes,
  readBoolean,
  readInteger,
  readOctets,
  readOid,
  readSmallInt,
  readString,
  tlv,
  toHex,
} from './der';

/** Extension and other OIDs path validation names (RFC 5280 §4.2, §5.2, §5.3). */
export const X509 = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  cRLNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
  holdInstructionCode: '2.5.29.23',
  invalidityDate: '2.5.29.24',
  deltaCRLIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  certificateIssuer: '2.5.29.29',
  nameConstraints: '2.5.29.30',
  cRLDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  freshestCRL: '2.5.29.46',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  subjectInfoAccess: '1.3.6.1.5.5.7.1.11',
  emailAddress: '1.2.840.113549.1.9.1',
  dsa: '1.2.840.10040.4.1',
  dsaWithSha1: '1.2.840.10040.4.3',
  dsaWithSha256: '2.16.840.1.101.3.4.3.2',
} as const;

// ---------------------------------------------------------------------------------------------
// Names (RFC 5280 §7.1: compare after the LDAP StringPrep of RFC 4518, approximated here by
// case folding and whitespace folding, which PKITS 4.3 exercises)

/** A canonical string for a Name: equal strings mean equal names. */
export function canonicalName(nameDer: Uint8Array): string {
  const name = parseDer(nameDer, { maxDepth: 8, maxNodes: 2000 });
  return name.children.map(canonicalRdn).join('/');
}

function canonicalRdn(rdn: Asn1Node): string {
  return rdn.children
    .map((atv) => {
      const type = readOid(atv.child(0));
      const value = atv.child(1);
      let v: string;
      if (isStringTag(value)) {
        v = readString(value).normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
      } else {
        v = '#' + toHex(value.raw);
      }
      return `${type}=${JSON.stringify(v)}`;
    })
    .sort()
    .join('+');
}

function isStringTag(n: Asn1Node): boolean {
  // UTF8String, NumericString, PrintableString, TeletexString, IA5String, VisibleString, UniversalString, BMPString
  return n.cls === 0 && [12, 18, 19, 20, 22, 26, 28, 30].includes(n.tagNumber);
}

export function namesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (bytesEqual(a, b)) return true;
  try {
    return canonicalName(a) === canonicalName(b);
  } catch {
    return false;
  }
}

/** The RDNs of a Name, in order, as canonical strings (for subtree checks). */
export function nameRdns(nameDer: Uint8Array): string[] {
  return parseDer(nameDer, { maxDepth: 8, maxNodes: 2000 }).children.map(canonicalRdn);
}

/** True for an empty Name (SEQUENCE of no RDNs). */
export function isEmptyName(nameDer: Uint8Array): boolean {
  return nameDer.length === 2 && nameDer[0] === 0x30 && nameDer[1] === 0x00;
}

/** The Name `base` with one more RDN appended (nameRelativeToCRLIssuer, RFC 5280 §4.2.1.13). */
export function appendRdn(base: Uint8Array, rdnDer: Uint8Array): Uint8Array {
  const node = parseDer(base, { maxDepth: 8 });
  return tlv(0x30, node.content, rdnDer);
}

// ---------------------------------------------------------------------------------------------
// General names (RFC 5280 §4.2.1.6)

export type GeneralName =
  | { kind: 'directoryName'; name: Uint8Array }
  | { kind: 'rfc822Name' | 'dNSName' | 'uniformResourceIdentifier'; value: string }
  | { kind: 'other'; tag: number; raw: Uint8Array };

export function readGeneralName(n: Asn1Node): GeneralName {
  if (n.cls === 2) {
    switch (n.tagNumber) {
      case 1:
        return { kind: 'rfc822Name', value: latin1(readOctets(n)) };
      case 2:
        return { kind: 'dNSName', value: latin1(readOctets(n)) };
      case 4:
        return { kind: 'directoryName', name: n.child(0).raw };
      case 6:
        return { kind: 'uniformResourceIdentifier', value: latin1(readOctets(n)) };
    }
  }
  return { kind: 'other', tag: n.tagNumber, raw: n.raw };
}

export function readGeneralNames(n: Asn1Node): GeneralName[] {
  return n.children.map(readGeneralName);
}

export function generalNamesMatch(a: GeneralName, b: GeneralName): boolean {
  if (a.kind === 'directoryName' && b.kind === 'directoryName') return namesEqual(a.name, b.name);
  if (a.kind === 'other' || b.kind === 'other')
    return a.kind === 'other' && b.kind === 'other' && bytesEqual(a.raw, b.raw);
  if (a.kind !== b.kind) return false;
  const av = (a as { value: string }).value;
  const bv = (b as { value: string }).value;
  return a.kind === 'uniformResourceIdentifier' ? av === bv : av.toLowerCase() === bv.toLowerCase();
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Certificate extensions

function extensionNode(cert: CertificateInfo, oid: string): Asn1Node | undefined {
  const ext = cert.extensions.get(oid);
  return ext ? parseDer(ext.value, { maxDepth: 16, maxNodes: 10_000 }) : undefined;
}

/** basicConstraints (RFC 5280 §4.2.1.9); undefined when absent. */
export function basicConstraintsOf(
  cert: CertificateInfo,
): { cA: boolean; pathLenConstraint?: number } | undefined {
  const n = extensionNode(cert, X509.basicConstraints);
  if (!n) return undefined;
  let cA = false;
  let pathLenConstraint: number | undefined;
  for (const c of n.children) {
    if (c.tag === 0x01) cA = readBoolean(c);
    else if (c.tag === 0x02) pathLenConstraint = readSmallInt(c, 1_000_000);
  }
  return { cA, pathLenConstraint };
}

export const KEY_USAGE = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

/** keyUsage bits (RFC 5280 §4.2.1.3) as a set of bit numbers; undefined when absent. */
export function keyUsageOf(cert: CertificateInfo): Set<number> | undefined {
  const n = extensionNode(cert, X509.keyUsage);
  if (!n) return undefined;
  return bitSet(n);
}

/** Named bits of a BIT STRING as bit numbers (bit 0 is the most significant of the first octet). */
export function bitSet(n: Asn1Node): Set<number> {
  n.expect(0x03, 'BIT STRING');
  const c = n.content;
  const out = new Set<number>();
  for (let i = 1; i < c.length; i++)
    for (let b = 0; b < 8; b++) if (c[i]! & (0x80 >> b)) out.add((i - 1) * 8 + b);
  return out;
}

/** extKeyUsage purposes (RFC 5280 §4.2.1.12); undefined when absent. */
export function extKeyUsageOf(cert: CertificateInfo): string[] | undefined {
  const n = extensionNode(cert, X509.extKeyUsage);
  return n ? n.children.map(readOid) : undefined;
}

export interface NameConstraints {
  permitted: GeneralName[];
  excluded: GeneralName[];
}

/** nameConstraints (RFC 5280 §4.2.1.10); undefined when absent. */
export function nameConstraintsOf(cert: CertificateInfo): NameConstraints | undefined {
  const n = extensionNode(cert, X509.nameConstraints);
  if (!n) return undefined;
  const out: NameConstraints = { permitted: [], excluded: [] };
  for (const c of n.children) {
    const list = c.isContext(0) ? out.permitted : c.isContext(1) ? out.excluded : undefined;
    // GeneralSubtree: base, minimum [0] (always 0 in this profile), maximum [1] (absent)
    for (const subtree of c.children) list?.push(readGeneralName(subtree.child(0)));
  }
  return out;
}

/** subjectAltName entries; empty when absent. */
export function subjectAltNamesOf(cert: CertificateInfo): GeneralName[] {
  const n = extensionNode(cert, X509.subjectAltName);
  return n ? readGeneralNames(n) : [];
}

export interface DistributionPoint {
  /** fullName, or nameRelativeToCRLIssuer as the RDN's DER. */
  fullName?: GeneralName[];
  relativeName?: Uint8Array;
  /** Reason flags (RFC 5280 §4.2.1.13 ReasonFlags bit numbers); undefined means all reasons. */
  reasons?: Set<number>;
  cRLIssuer?: GeneralName[];
}

/** cRLDistributionPoints (RFC 5280 §4.2.1.13); undefined when absent. */
export function distributionPointsOf(cert: CertificateInfo): DistributionPoint[] | undefined {
  const n = extensionNode(cert, X509.cRLDistributionPoints);
  if (!n) return undefined;
  return n.children.map((dp) => {
    const out: DistributionPoint = {};
    for (const f of dp.children) {
      if (f.isContext(0)) readDistributionPointName(f.child(0), out);
      else if (f.isContext(1)) out.reasons = bitSet(retagBitString(f));
      else if (f.isContext(2)) out.cRLIssuer = readGeneralNames(f);
    }
    return out;
  });
}

/** DistributionPointName: [0] fullName GeneralNames | [1] nameRelativeToCRLIssuer RDN. */
export function readDistributionPointName(
  n: Asn1Node,
  out: { fullName?: GeneralName[]; relativeName?: Uint8Array },
): void {
  if (n.isContext(0)) out.fullName = readGeneralNames(n);
  else if (n.isContext(1)) out.relativeName = tlv(0x31, n.content);
}

/** An IMPLICIT [n] BIT STRING read as a BIT STRING. */
export function retagBitString(n: Asn1Node): Asn1Node {
  return parseDer(tlv(0x03, n.content));
}

export function keyIdentifierOf(cert: CertificateInfo): Uint8Array | undefined {
  const n = extensionNode(cert, X509.subjectKeyIdentifier);
  return n ? readOctets(n) : undefined;
}

export function authorityKeyIdentifierOf(ext: Uint8Array | undefined): Uint8Array | undefined {
  if (!ext) return undefined;
  const n = parseDer(ext, { maxDepth: 8 });
  const k = n.children.find((c) => c.isContext(0));
  return k ? k.content : undefined;
}

// ---------------------------------------------------------------------------------------------
// Signatures with a working public key (RFC 5280 §6.1.1 (g)-(i): key, parameters, algorithm)

export interface WorkingPublicKey {
  spki: Uint8Array;
  key: PublicKeyInfo;
  /** DSA domain parameters (p, q, g), inherited from the issuer when the key omits them (§6.1.4 (e)). */
  dsaParams?: { p: bigint; q: bigint; g: bigint };
  /** The DSA public value y. */
  dsaY?: bigint;
}

/** The working public key of a certificate, inheriting DSA parameters from `previous`. */
export function workingKeyOf(cert: CertificateInfo, previous?: WorkingPublicKey): WorkingPublicKey {
  const wk: WorkingPublicKey = { spki: cert.spki, key: cert.publicKey };
  if (cert.publicKey.kind === 'other' && cert.publicKey.algorithmOid === X509.dsa) {
    const spki = parseDer(cert.spki, { maxDepth: 8 });
    const alg = spki.child(0);
    wk.dsaY = readInteger(parseDer(readBitStringBytes(spki.child(1))));
    const params = alg.children[1];
    if (params && params.tag === 0x30) {
      wk.dsaParams = {
        p: readInteger(params.child(0)),
        q: readInteger(params.child(1)),
        g: readInteger(params.child(2)),
      };
    } else {
      wk.dsaParams = previous?.dsaParams;
    }
  }
  return wk;
}

/** Signature results: the same chains come back document after document (bounded). */
const signatureCache = new Map<string, boolean>();

/**
 * True when `signature` over `tbs` verifies with the working public key; false when it does not
 * or the algorithm is not supported.
 */
export async function verifyWithWorkingKey(
  wk: WorkingPublicKey,
  sigAlg: Asn1Node,
  tbs: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const id = toHex(await digestChunks('SHA-256', [wk.spki, sigAlg.raw, tbs, signature]));
  const known = signatureCache.get(id);
  if (known !== undefined) return known;
  let ok = false;
  try {
    const oid = readOid(sigAlg.child(0));
    if (oid === X509.dsaWithSha1 || oid === X509.dsaWithSha256) {
      ok = await verifyDsa(wk, oid === X509.dsaWithSha1 ? 'SHA-1' : 'SHA-256', tbs, signature);
    } else {
      const asCert = { spki: wk.spki, publicKey: wk.key } as CertificateInfo;
      ok = (await verifySignature(asCert, sigAlg, 'SHA-256', tbs, signature)) === true;
    }
  } catch {
    ok = false;
  }
  if (signatureCache.size >= 2048) signatureCache.delete(signatureCache.keys().next().value!);
  signatureCache.set(id, ok);
  return ok;
}

/** FIPS 186-4 §4.7 DSA signature verification. */
async function verifyDsa(
  wk: WorkingPublicKey,
  hash: 'SHA-1' | 'SHA-256',
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const params = wk.dsaParams;
  const y = wk.dsaY;
  if (!params || y === undefined) return false;
  const { p, q, g } = params;
  const sig = parseDer(signature, { maxDepth: 2 });
  const r = readInteger(sig.child(0));
  const s = readInteger(sig.child(1));
  if (r <= 0n || r >= q || s <= 0n || s >= q) return false;
  const digest = await digestChunks(hash, [data]);
  const qBits = q.toString(2).length;
  let z = 0n;
  for (const b of digest.subarray(0, Math.ceil(qBits / 8))) z = (z << 8n) | BigInt(b);
  const w = modPow(s, q - 2n, q);
  const u1 = (z * w) % q;
  const u2 = (r * w) % q;
  const v = ((modPow(g, u1, p) * modPow(y, u2, p)) % p) % q;
  return v === r;
}

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

/** Certificate parts for signature checking: tbs DER, signature algorithm node, signature bits. */
export function signedParts(der: Uint8Array): { tbs: Uint8Array; sigAlg: Asn1Node; signature: Uint8Array } {
  const n = parseDer(der, { maxNodes: 2_000_000, allowTrailing: true });
  return { tbs: n.child(0).raw, sigAlg: n.child(1), signature: readBitStringBytes(n.child(2)) };
}
