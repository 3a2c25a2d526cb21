/**
 * Reading CMS SignedData (signatures and RFC 3161 timestamp tokens) into raw parts for verification.
 * Bounded (depth, node count), BER tolerated, byte-exact slices of the input. Verifying is the
 * caller's job (core/verify); this only takes the structure apart.
 */
import { SidianError } from '../errors';
import {
  Asn1Error,
  type Asn1Node,
  bytesEqual,
  parseDer,
  readBoolean,
  readInteger,
  readOctets,
  readOctetString,
  readOid,
  readSmallInt,
  readTime,
  retag,
  toHex,
} from '../pki/der';
import { parseCertificate } from '../pki/certificate';
import { OID } from '../pki/oids';
import type { Attribute } from './attributes';

const LIMITS = { maxDepth: 64, maxNodes: 200_000 } as const;

export interface ParsedSignerInfo {
  version: number;
  /** issuerAndSerialNumber (issuer Name DER, serial INTEGER DER) or subjectKeyIdentifier. */
  sid: { issuer: Uint8Array; serialNumber: Uint8Array } | { subjectKeyIdentifier: Uint8Array };
  digestAlgorithm: string;
  /** DER of the signed attributes with the SET OF tag (0x31): the bytes the signature covers. */
  signedAttrs?: Uint8Array;
  signedAttributes: Attribute[];
  signatureAlgorithm: { oid: string; parameters?: Uint8Array };
  signature: Uint8Array;
  unsignedAttributes: Attribute[];
  /** The whole SignerInfo encoding. */
  raw: Uint8Array;
}

export interface ParsedCms {
  version: number;
  digestAlgorithms: string[];
  /** encapContentInfo eContentType (id-data for PAdES, id-ct-TSTInfo for timestamp tokens). */
  contentType: string;
  /** eContent octets; undefined for detached signatures. */
  content?: Uint8Array;
  /** DER of each X.509 certificate (other certificate formats are skipped). */
  certificates: Uint8Array[];
  /** DER of each CRL in the `crls` field (other revocation formats are skipped). */
  crls: Uint8Array[];
  signerInfos: ParsedSignerInfo[];
}

/** Parses a ContentInfo carrying SignedData. Throws SidianError('CMS_MALFORMED'). */
export function parseCms(der: Uint8Array): ParsedCms {
  try {
    return parseCmsUnchecked(der);
  } catch (e) {
    if (e instanceof SidianError) throw e;
    throw new SidianError('CMS_MALFORMED', `CMS SignedData is malformed: ${(e as Error).message}`);
  }
}

function parseCmsUnchecked(der: Uint8Array): ParsedCms {
  const ci = parseDer(der, LIMITS).expect(0x30, 'ContentInfo');
  // id-signedData (RFC 5652) or GM/T 0010's signedData (1.2.156.10197.6.1.4.2.2)
  const ciType = readOid(ci.child(0, 'contentType'));
  if (ciType !== OID.signedData && ciType !== OID.gmSignedData) throw new Asn1Error('not SignedData');
  const sd = ci.child(1, 'content').expect(0xa0, '[0]').child(0).expect(0x30, 'SignedData');
  let i = 0;
  const version = readSmallInt(sd.child(i++, 'version'));
  const digestAlgorithms = sd
    .child(i++, 'digestAlgorithms')
    .expect(0x31, 'digestAlgorithms')
    .children.map((a) => readOid(a.expect(0x30).child(0)));
  const eci = sd.child(i++, 'encapContentInfo').expect(0x30, 'EncapsulatedContentInfo');
  const contentType = readOid(eci.child(0));
  const econtent = eci.children[1];
  const content = econtent ? readOctetString(econtent.expect(0xa0, '[0]').child(0)) : undefined;
  const certificates: Uint8Array[] = [];
  const crls: Uint8Array[] = [];
  let node = sd.child(i, 'signerInfos');
  if (node.isContext(0) && node.constructed) {
    for (const c of node.children) if (c.tag === 0x30) certificates.push(c.raw);
    node = sd.child(++i, 'signerInfos');
  }
  if (node.isContext(1) && node.constructed) {
    for (const c of node.children) if (c.tag === 0x30) crls.push(c.raw);
    node = sd.child(++i, 'signerInfos');
  }
  node.expect(0x31, 'signerInfos');
  const signerInfos = node.children.map(parseSignerInfo);
  return { version, digestAlgorithms, contentType, content, certificates, crls, signerInfos };
}

function parseAttributes(set: Asn1Node): Attribute[] {
  return set.children.map((a) => {
    a.expect(0x30, 'Attribute');
    return {
      type: readOid(a.child(0)),
      values: a
        .child(1, 'attrValues')
        .expect(0x31, 'attrValues')
        .children.map((v) => v.raw),
    };
  });
}

function parseSignerInfo(si: Asn1Node): ParsedSignerInfo {
  si.expect(0x30, 'SignerInfo');
  let i = 0;
  const version = readSmallInt(si.child(i++, 'version'));
  const sidNode = si.child(i++, 'sid');
  let sid: ParsedSignerInfo['sid'];
  if (sidNode.tag === 0x30) {
    sid = { issuer: sidNode.child(0).expect(0x30).raw, serialNumber: sidNode.child(1).expect(0x02).raw };
  } else if (sidNode.isContext(0)) {
    sid = { subjectKeyIdentifier: readOctets(sidNode) };
  } else {
    throw new Asn1Error('bad SignerIdentifier');
  }
  const digestAlgorithm = readOid(si.child(i++, 'digestAlgorithm').expect(0x30).child(0));
  let signedAttrs: Uint8Array | undefined;
  let signedAttributes: Attribute[] = [];
  let n = si.child(i++, 'signatureAlgorithm');
  if (n.isContext(0) && n.constructed) {
    // The signature covers the DER with the universal SET tag, not the [0] IMPLICIT tag.
    signedAttrs = retag(n.raw, 0x31);
    signedAttributes = parseAttributes(n);
    n = si.child(i++, 'signatureAlgorithm');
  }
  n.expect(0x30, 'signatureAlgorithm');
  const signatureAlgorithm = { oid: readOid(n.child(0)), parameters: n.children[1]?.raw };
  const signature = readOctetString(si.child(i++, 'signature'));
  let unsignedAttributes: Attribute[] = [];
  const u = si.children[i];
  if (u && u.isContext(1) && u.constructed) unsignedAttributes = parseAttributes(u);
  return {
    version,
    sid,
    digestAlgorithm,
    signedAttrs,
    signedAttributes,
    signatureAlgorithm,
    signature,
    unsignedAttributes,
    raw: si.raw,
  };
}

/** The values of the first attribute of `type`, or undefined. */
export function findAttribute(attrs: Attribute[], type: string): Uint8Array[] | undefined {
  return attrs.find((a) => a.type === type)?.values;
}

/** The message-digest signed attribute, or undefined. */
export function messageDigestOf(si: ParsedSignerInfo): Uint8Array | undefined {
  const v = findAttribute(si.signedAttributes, OID.messageDigest)?.[0];
  return v ? readOctetString(parseDer(v, LIMITS)) : undefined;
}

/** The signature timestamp tokens (id-aa-signatureTimeStampToken), DER ContentInfo each. */
export function signatureTimestampTokens(si: ParsedSignerInfo): Uint8Array[] {
  return si.unsignedAttributes.filter((a) => a.type === OID.signatureTimeStampToken).flatMap((a) => a.values);
}

export interface EssCertIdV2 {
  /** Hash algorithm OID (SHA-256 when the field is absent). */
  hashAlgorithm: string;
  certHash: Uint8Array;
  issuerSerial?: { issuer: Uint8Array[]; serialNumber: Uint8Array };
}

/**
 * The ESSCertIDv2 entries of the signing-certificate-v2 signed attribute, or undefined when the
 * attribute is absent. issuerSerial.issuer lists the directoryName Names (DER).
 */
export function signingCertificateV2Of(si: ParsedSignerInfo): EssCertIdV2[] | undefined {
  const v = findAttribute(si.signedAttributes, OID.signingCertificateV2)?.[0];
  if (!v) return undefined;
  try {
    const scv2 = parseDer(v, LIMITS).expect(0x30, 'SigningCertificateV2');
    return scv2
      .child(0, 'certs')
      .expect(0x30)
      .children.map((id) => {
        id.expect(0x30, 'ESSCertIDv2');
        let i = 0;
        let hashAlgorithm: string = OID.sha256;
        if (id.child(0).tag === 0x30) hashAlgorithm = readOid(id.child(i++).child(0));
        const certHash = readOctetString(id.child(i++, 'certHash'));
        const isNode = id.children[i];
        let issuerSerial: EssCertIdV2['issuerSerial'];
        if (isNode) {
          isNode.expect(0x30, 'IssuerSerial');
          const issuer = isNode
            .child(0)
            .expect(0x30, 'GeneralNames')
            .children.filter((g) => g.tag === 0xa4)
            .map((g) => g.child(0).raw);
          issuerSerial = { issuer, serialNumber: isNode.child(1).expect(0x02).raw };
        }
        return { hashAlgorithm, certHash, issuerSerial };
      });
  } catch (e) {
    throw new SidianError('CMS_MALFORMED', `signing-certificate-v2 is malformed: ${(e as Error).message}`);
  }
}

/** The certificate (DER) that the SignerInfo's sid names, among the CMS certificates. */
export function findSignerCertificate(cms: ParsedCms, si: ParsedSignerInfo): Uint8Array | undefined {
  for (const der of cms.certificates) {
    let info;
    try {
      info = parseCertificate(der);
    } catch {
      continue;
    }
    if ('issuer' in si.sid) {
      if (bytesEqual(info.issuer, si.sid.issuer) && bytesEqual(info.serialNumberDer, si.sid.serialNumber))
        return der;
    } else {
      const ski = info.extensions.get(OID.subjectKeyIdentifier);
      if (ski) {
        try {
          if (bytesEqual(readOctetString(parseDer(ski.value)), si.sid.subjectKeyIdentifier)) return der;
        } catch {
          /* ignore unreadable extension */
        }
      }
    }
  }
  return undefined;
}

export interface TstInfo {
  version: number;
  policy: string;
  messageImprint: { hashAlgorithm: string; hashedMessage: Uint8Array };
  /** Serial number as hex of its INTEGER content. */
  serialNumber: string;
  genTime: Date;
  accuracy?: { seconds: number; millis: number; micros: number };
  ordering: boolean;
  nonce?: bigint;
  /** DER of the tsa GeneralName ([0] EXPLICIT content), when present. */
  tsa?: Uint8Array;
  raw: Uint8Array;
}

/** Parses the DER of a TSTInfo (RFC 3161 §2.4.2). Throws SidianError('CMS_MALFORMED'). */
export function parseTstInfo(der: Uint8Array): TstInfo {
  try {
    const t = parseDer(der, LIMITS).expect(0x30, 'TSTInfo');
    let i = 0;
    const version = readSmallInt(t.child(i++, 'version'));
    const policy = readOid(t.child(i++, 'policy'));
    const mi = t.child(i++, 'messageImprint').expect(0x30, 'MessageImprint');
    const messageImprint = {
      hashAlgorithm: readOid(mi.child(0).expect(0x30).child(0)),
      hashedMessage: readOctetString(mi.child(1)),
    };
    const serialNode = t.child(i++, 'serialNumber').expect(0x02, 'serialNumber');
    const genTime = readTime(t.child(i++, 'genTime').expect(0x18, 'genTime'));
    const out: TstInfo = {
      version,
      policy,
      messageImprint,
      serialNumber: toHex(serialNode.content),
      genTime,
      ordering: false,
      raw: t.raw,
    };
    for (; i < t.children.length; i++) {
      const n = t.children[i]!;
      if (n.tag === 0x30) {
        const acc = { seconds: 0, millis: 0, micros: 0 };
        for (const a of n.children) {
          if (a.tag === 0x02) acc.seconds = readSmallInt(a);
          else if (a.cls === 2 && a.tagNumber === 0) acc.millis = readSmallInt(retagged(a));
          else if (a.cls === 2 && a.tagNumber === 1) acc.micros = readSmallInt(retagged(a));
        }
        out.accuracy = acc;
      } else if (n.tag === 0x01) out.ordering = readBoolean(n);
      else if (n.tag === 0x02) out.nonce = readInteger(n);
      else if (n.tag === 0xa0) out.tsa = n.child(0).raw;
    }
    return out;
  } catch (e) {
    if (e instanceof SidianError) throw e;
    throw new SidianError('CMS_MALFORMED', `TSTInfo is malformed: ${(e as Error).message}`);
  }
}

/** An IMPLICIT [n] INTEGER re-read as INTEGER. */
function retagged(n: Asn1Node): Asn1Node {
  return parseDer(retag(n.raw, 0x02));
}

/** Parses a timestamp token (ContentInfo SignedData with TSTInfo content) into CMS parts and TSTInfo. */
export function parseTimestampToken(der: Uint8Array): { cms: ParsedCms; tstInfo: TstInfo } {
  const cms = parseCms(der);
  if (cms.contentType !== OID.tstInfo || !cms.content) {
    throw new SidianError('CMS_MALFORMED', 'not a timestamp token (no id-ct-TSTInfo content)');
  }
  return { cms, tstInfo: parseTstInfo(cms.content) };
}
