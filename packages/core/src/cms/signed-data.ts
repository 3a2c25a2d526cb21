/** CMS SignedData (RFC 5652) for detached PAdES/CAdES signatures, encoded in DER. */
import { SidianError } from '../errors';
import {
  bytesEqual,
  derExplicit,
  derInteger,
  derOctetString,
  derOid,
  derSequence,
  derSetOf,
  parseDer,
  retag,
} from '../pki/der';
import { OID } from '../pki/oids';
import { resolveSignerAlgorithm } from '../signer/algorithms';
import type { HashName, Signer } from '../signer/types';
import { digestAlgorithmIdentifier, signatureAlgorithmIdentifier } from './algorithms';
import { type Attribute, encodeAttributeSet } from './attributes';

export interface CmsSignedDataInput {
  /** Supplies the certificate, chain, algorithm and digest. `sign` is not called. */
  signer: Pick<Signer, 'certificate' | 'chain' | 'algorithm' | 'hash'>;
  /** DER of the signed attributes SET exactly as it was signed (tag 0x31). */
  signedAttributes: Uint8Array;
  /** The signature value as returned by Signer.sign. */
  signature: Uint8Array;
  unsignedAttributes?: Attribute[];
  /** Digest algorithm; must agree with signer.hash when both are set. Default: the signer's. */
  hash?: HashName;
}

/** Resolves the effective digest: signer.hash, else the caller's, else the certificate's default. */
export function effectiveHash(
  signer: Pick<Signer, 'certificate' | 'algorithm' | 'hash'>,
  hash?: HashName,
): HashName {
  if (hash && signer.hash && hash !== signer.hash) {
    throw new SidianError(
      'SIGN_BAD_OPTIONS',
      `the digest is ${hash} but the signer signs with ${signer.hash}`,
    );
  }
  return resolveSignerAlgorithm({ ...signer, hash: signer.hash ?? hash }).hash;
}

/**
 * DER ContentInfo { id-signedData, SignedData v1 }: detached id-data content, the digest algorithm,
 * the signer certificate and chain (deduplicated, DER-sorted), and one SignerInfo v1 identified by
 * issuerAndSerialNumber whose signedAttrs [0] are exactly the bytes that were signed.
 */
export function buildCmsSignedData(input: CmsSignedDataInput): Uint8Array {
  const { signer, signedAttributes, signature } = input;
  const hash = effectiveHash(signer, input.hash);
  const resolved = resolveSignerAlgorithm({ ...signer, hash });
  const cert = resolved.certificate;

  if (!(signedAttributes instanceof Uint8Array) || signedAttributes[0] !== 0x31) {
    throw new SidianError('SIGN_BAD_OPTIONS', 'signedAttributes must be the DER of a SET OF Attribute');
  }
  try {
    parseDer(signedAttributes, { ber: false, maxDepth: 32 });
  } catch (e) {
    throw new SidianError('SIGN_BAD_OPTIONS', `signedAttributes is not DER: ${(e as Error).message}`);
  }
  if (!(signature instanceof Uint8Array) || signature.length === 0) {
    throw new SidianError('SIGNER_FAILED', 'the signature value is empty');
  }

  const digestAlg = digestAlgorithmIdentifier(hash);
  const signerInfoParts = [
    derInteger(1),
    derSequence(cert.issuer, cert.serialNumberDer),
    digestAlg,
    retag(signedAttributes, 0xa0),
    signatureAlgorithmIdentifier(resolved.algorithm, hash),
    derOctetString(signature),
  ];
  if (input.unsignedAttributes?.length)
    signerInfoParts.push(encodeAttributeSet(input.unsignedAttributes, 0xa1));
  const signerInfo = derSequence(...signerInfoParts);

  const certs: Uint8Array[] = [];
  for (const c of [signer.certificate, ...(signer.chain ?? [])]) {
    if (!certs.some((x) => bytesEqual(x, c))) certs.push(c);
  }
  const signedData = derSequence(
    derInteger(1),
    derSetOf([digestAlg]),
    derSequence(derOid(OID.data)),
    derSetOf(certs, 0xa0),
    derSetOf([signerInfo]),
  );
  return derSequence(derOid(OID.signedData), derExplicit(0, signedData));
}
