/**
 * X.509 certificate parsing: just the fields signing and CMS need, byte-exact where CMS copies them
 * (issuer, serial number), plus the validity check used before signing.
 */
import { SidianError } from '../errors';
import {
  Asn1Error,
  Asn1Node,
  bytesEqual,
  parseDer,
  readBitStringBytes,
  readOid,
  readString,
  readTime,
} from './der';
import { OID } from './oids';

export type NamedCurve = 'P-256' | 'P-384' | 'P-521';

export type PublicKeyInfo =
  | {
      kind: 'rsa';
      /** True when the key is an id-RSASSA-PSS key (restricted to PSS). */
      pssOnly: boolean;
      /** Unsigned big-endian modulus without leading zero octets. */
      modulus: Uint8Array;
      modulusBits: number;
      exponent: Uint8Array;
    }
  | {
      kind: 'ec';
      curveOid: string;
      /** WebCrypto name of the curve, or null for curves WebCrypto lacks (e.g. SM2, brainpool). */
      curve: NamedCurve | null;
      /** The uncompressed (or compressed) point as in the certificate. */
      point: Uint8Array;
    }
  | { kind: 'other'; algorithmOid: string };

export interface CertificateInfo {
  der: Uint8Array;
  /** The full INTEGER encoding of the serial number (copied verbatim into CMS). */
  serialNumberDer: Uint8Array;
  /** Serial number as hex of its content octets (as encoded, two's complement). */
  serialNumberHex: string;
  /** DER of the issuer Name, verbatim. */
  issuer: Uint8Array;
  /** DER of the subject Name, verbatim. */
  subject: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** DER of SubjectPublicKeyInfo, verbatim (WebCrypto 'spki' import format). */
  spki: Uint8Array;
  publicKey: PublicKeyInfo;
  /** OID of the certificate's own signature algorithm. */
  signatureAlgorithmOid: string;
  /** Extensions by OID: critical flag and the extnValue octets. */
  extensions: Map<string, { critical: boolean; value: Uint8Array }>;
}

const CURVES: Record<string, NamedCurve> = {
  [OID.curveP256]: 'P-256',
  [OID.curveP384]: 'P-384',
  [OID.curveP521]: 'P-521',
};

/** Parses a DER certificate; throws SidianError('CERT_MALFORMED'). */
export function parseCertificate(der: Uint8Array): CertificateInfo {
  try {
    return parseCertificateUnchecked(der);
  } catch (e) {
    if (e instanceof SidianError) throw e;
    throw new SidianError('CERT_MALFORMED', `certificate is malformed: ${(e as Error).message}`);
  }
}

function parseCertificateUnchecked(der: Uint8Array): CertificateInfo {
  if (!(der instanceof Uint8Array)) throw new Asn1Error('not bytes');
  const cert = parseDer(der, { maxDepth: 32, maxNodes: 20_000 }).expect(0x30, 'Certificate');
  const tbs = cert.child(0, 'tbsCertificate').expect(0x30, 'tbsCertificate');
  const sigAlg = cert.child(1, 'signatureAlgorithm').expect(0x30, 'signatureAlgorithm');
  cert.child(2, 'signatureValue').expect(0x03, 'signatureValue');
  let i = 0;
  if (tbs.child(0).tag === 0xa0) i++; // version
  const serial = tbs.child(i++, 'serialNumber').expect(0x02, 'serialNumber');
  tbs.child(i++, 'signature').expect(0x30, 'signature');
  const issuer = tbs.child(i++, 'issuer').expect(0x30, 'issuer');
  const validity = tbs.child(i++, 'validity').expect(0x30, 'validity');
  const subject = tbs.child(i++, 'subject').expect(0x30, 'subject');
  const spki = tbs.child(i++, 'subjectPublicKeyInfo').expect(0x30, 'subjectPublicKeyInfo');
  const extensions = new Map<string, { critical: boolean; value: Uint8Array }>();
  for (; i < tbs.children.length; i++) {
    const n = tbs.children[i]!;
    if (n.tag !== 0xa3) continue;
    for (const ext of n.child(0, 'extensions').expect(0x30, 'extensions').children) {
      ext.expect(0x30, 'extension');
      const oid = readOid(ext.child(0));
      let critical = false;
      let j = 1;
      if (ext.child(1).tag === 0x01) {
        critical = ext.child(1).content[0] !== 0;
        j = 2;
      }
      extensions.set(oid, { critical, value: ext.child(j, 'extnValue').expect(0x04, 'extnValue').content });
    }
  }
  return {
    der,
    serialNumberDer: serial.raw,
    serialNumberHex: Array.from(serial.content, (b) => b.toString(16).padStart(2, '0')).join(''),
    issuer: issuer.raw,
    subject: subject.raw,
    notBefore: readTime(validity.child(0, 'notBefore')),
    notAfter: readTime(validity.child(1, 'notAfter')),
    spki: spki.raw,
    publicKey: parsePublicKey(spki),
    signatureAlgorithmOid: readOid(sigAlg.child(0)),
    extensions,
  };
}

/** Parses a SubjectPublicKeyInfo node. */
export function parsePublicKey(spki: Asn1Node): PublicKeyInfo {
  const alg = spki.child(0, 'algorithm').expect(0x30, 'algorithm');
  const algOid = readOid(alg.child(0));
  const keyBits = readBitStringBytes(spki.child(1, 'subjectPublicKey'));
  if (algOid === OID.rsaEncryption || algOid === OID.rsassaPss) {
    const rsa = parseDer(keyBits, { maxDepth: 4 }).expect(0x30, 'RSAPublicKey');
    const n = rsa.child(0, 'modulus').expect(0x02, 'modulus').content;
    const e = rsa.child(1, 'exponent').expect(0x02, 'exponent').content;
    const modulus = stripZeros(n);
    return {
      kind: 'rsa',
      pssOnly: algOid === OID.rsassaPss,
      modulus,
      modulusBits: bitLength(modulus),
      exponent: stripZeros(e),
    };
  }
  if (algOid === OID.ecPublicKey) {
    const params = alg.child(1, 'EC parameters');
    if (params.tag !== 0x06) return { kind: 'ec', curveOid: '', curve: null, point: keyBits };
    const curveOid = readOid(params);
    return { kind: 'ec', curveOid, curve: CURVES[curveOid] ?? null, point: keyBits };
  }
  return { kind: 'other', algorithmOid: algOid };
}

function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

function bitLength(b: Uint8Array): number {
  if (b.length === 0) return 0;
  return (b.length - 1) * 8 + (32 - Math.clz32(b[0]!));
}

/**
 * Throws unless the certificate is well formed and valid at `at`:
 * SidianError 'CERT_MALFORMED' | 'CERT_NOT_YET_VALID' | 'CERT_EXPIRED'.
 */
export function assertCertificateUsable(certDer: Uint8Array, at: Date = new Date()): void {
  const c = parseCertificate(certDer);
  const t = at.getTime();
  const who = describeName(c.subject);
  if (t < c.notBefore.getTime()) {
    throw new SidianError(
      'CERT_NOT_YET_VALID',
      `certificate "${who}" is not valid before ${c.notBefore.toISOString()}`,
      { notBefore: c.notBefore.toISOString(), at: at.toISOString() },
    );
  }
  if (t > c.notAfter.getTime()) {
    throw new SidianError('CERT_EXPIRED', `certificate "${who}" expired on ${c.notAfter.toISOString()}`, {
      notAfter: c.notAfter.toISOString(),
      at: at.toISOString(),
    });
  }
}

const SHORT_NAMES: Record<string, string> = {
  [OID.commonName]: 'CN',
  [OID.serialNumber]: 'serialNumber',
  [OID.countryName]: 'C',
  [OID.localityName]: 'L',
  [OID.stateOrProvinceName]: 'ST',
  [OID.organizationName]: 'O',
  [OID.organizationalUnitName]: 'OU',
};

/** Attributes of a Name in encoded order, e.g. [{type:'2.5.4.3', short:'CN', value:'…'}]. */
export function nameAttributes(nameDer: Uint8Array): { type: string; short?: string; value: string }[] {
  const name = parseDer(nameDer, { maxDepth: 8 }).expect(0x30, 'Name');
  const out: { type: string; short?: string; value: string }[] = [];
  for (const rdn of name.children) {
    rdn.expect(0x31, 'RelativeDistinguishedName');
    for (const atv of rdn.children) {
      atv.expect(0x30, 'AttributeTypeAndValue');
      const type = readOid(atv.child(0));
      let value: string;
      try {
        value = readString(atv.child(1));
      } catch {
        value = '';
      }
      out.push({ type, short: SHORT_NAMES[type], value });
    }
  }
  return out;
}

/** The first value of an attribute type (e.g. OID.commonName) in a Name, or undefined. */
export function nameAttribute(nameDer: Uint8Array, type: string): string | undefined {
  return nameAttributes(nameDer).find((a) => a.type === type)?.value;
}

/** A readable one-line form of a Name ("CN=…, O=…, C=…", most specific first). */
export function describeName(nameDer: Uint8Array): string {
  try {
    return nameAttributes(nameDer)
      .reverse()
      .map((a) => `${a.short ?? a.type}=${a.value}`)
      .join(', ');
  } catch {
    return '(unreadable name)';
  }
}

/** True when two certificates carry the same public key (SPKI bytes or key material). */
export function samePublicKey(a: PublicKeyInfo, b: PublicKeyInfo): boolean {
  if (a.kind === 'rsa' && b.kind === 'rsa')
    return bytesEqual(a.modulus, b.modulus) && bytesEqual(a.exponent, b.exponent);
  if (a.kind === 'ec' && b.kind === 'ec') return a.curveOid === b.curveOid && bytesEqual(a.point, b.point);
  return false;
}
