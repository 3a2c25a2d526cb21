/** CMS attributes for PAdES baseline signatures (ETSI EN 319 142-1, EN 319 122-1). */
import { SidianError } from '../errors';
import { parseCertificate } from '../pki/certificate';
import { derOctetString, derOid, derSequence, derSetOf, tlv } from '../pki/der';
import { HASH_LENGTH, HASH_OID, digestByName } from '../algorithms';
import { OID } from '../pki/oids';
import type { HashName } from '../signer/types';

export interface Attribute {
  /** Attribute type OID. */
  type: string;
  /** DER of each attribute value. */
  values: Uint8Array[];
}

/** DER of Attribute ::= SEQUENCE { attrType OID, attrValues SET OF AttributeValue }. */
export function encodeAttribute(attr: Attribute): Uint8Array {
  if (attr.values.length === 0)
    throw new SidianError('SIGN_BAD_OPTIONS', `attribute ${attr.type} has no value`);
  return derSequence(derOid(attr.type), derSetOf(attr.values));
}

/** DER of a SET OF Attribute, sorted as DER requires (X.690 11.6). */
export function encodeAttributeSet(attrs: Attribute[], tag = 0x31): Uint8Array {
  return derSetOf(attrs.map(encodeAttribute), tag);
}

export interface SignedAttributesInput {
  /** Digest of the signed content (for PDF: of the ByteRange), computed with `hash`. */
  messageDigest: Uint8Array;
  /** DER of the signer's certificate. */
  certificate: Uint8Array;
  /** Default SHA-256. Used for the certificate hash in signing-certificate-v2 too. */
  hash?: HashName;
  /** Further signed attributes (e.g. a GB/T 38540 seal, gm/ses/pdf.ts), after the three above. */
  extra?: Attribute[];
}

/**
 * DER of ESSCertIDv2 (RFC 5035): hashAlgorithm (omitted for SHA-256, the DEFAULT), certHash, and
 * issuerSerial {GeneralNames {directoryName issuer}, serialNumber}.
 */
export function buildEssCertIdV2(certificate: Uint8Array, hash: HashName = 'SHA-256'): Uint8Array {
  const cert = parseCertificate(certificate);
  const certHash = digestByName(hash)!.sync(certificate);
  const issuerSerial = derSequence(derSequence(tlv(0xa4, cert.issuer)), cert.serialNumberDer);
  const parts: Uint8Array[] = [];
  if (hash !== 'SHA-256') parts.push(derSequence(derOid(HASH_OID[hash])));
  parts.push(derOctetString(certHash), issuerSerial);
  return derSequence(...parts);
}

/**
 * The signed attributes of a PAdES B-B signature as the DER SET OF that is signed: content-type
 * (id-data), message-digest and signing-certificate-v2. No signing-time: the signature dictionary's
 * /M carries the claimed time.
 */
export function buildSignedAttributes(input: SignedAttributesInput): Uint8Array {
  const hash = input.hash ?? 'SHA-256';
  if (!HASH_OID[hash]) throw new SidianError('SIGN_BAD_OPTIONS', `unsupported digest ${String(hash)}`);
  if (!(input.messageDigest instanceof Uint8Array) || input.messageDigest.length !== HASH_LENGTH[hash]) {
    throw new SidianError(
      'SIGN_BAD_OPTIONS',
      `messageDigest must be a ${hash} digest (${HASH_LENGTH[hash]} bytes)`,
    );
  }
  return encodeAttributeSet([
    { type: OID.contentType, values: [derOid(OID.data)] },
    { type: OID.messageDigest, values: [derOctetString(input.messageDigest)] },
    {
      type: OID.signingCertificateV2,
      values: [derSequence(derSequence(buildEssCertIdV2(input.certificate, hash)))],
    },
    ...(input.extra ?? []),
  ]);
}
