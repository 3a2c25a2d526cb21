/** The whole CAdES/PAdES signature: attributes, signing, optional signature timestamp, CMS. */
import { SidianError } from '../errors';
import { HASH_LENGTH, digestByName } from '../algorithms';
import { digestChunks } from '../digest';
import { OID } from '../pki/oids';
import type { HashName, Signer } from '../signer/types';
import type { Attribute } from './attributes';
import { buildSignedAttributes } from './attributes';
import { buildCmsSignedData, effectiveHash } from './signed-data';
import {
  requestTimestamp,
  type TimestampRequestOptions,
  type TimestampTransport,
  type TsaSource,
} from './tsa';

export interface CadesSignatureInput {
  signer: Signer;
  /** Digest of the signed content (for PDF: of the ByteRange), computed with the signer's digest. */
  documentDigest: Uint8Array;
  /** The digest algorithm of documentDigest; must agree with signer.hash when that is set. */
  hash?: HashName;
  /** RFC 3161 timestamp authority: makes the signature B-T (id-aa-signatureTimeStampToken). */
  tsa?: TsaSource;
  /** Further signed attributes (gm/ses/pdf.ts: the GB/T 38540 seal). */
  extraSignedAttributes?: Attribute[];
}

/**
 * Builds the signed attributes (content-type, message-digest, signing-certificate-v2), has the
 * signer sign them, optionally timestamps the signature value, and returns the CMS DER.
 * Errors: SIGN_BAD_OPTIONS, SIGNER_FAILED, KEY_UNSUPPORTED, CERT_MALFORMED, TSA_*.
 */
export async function createCadesSignature(input: CadesSignatureInput): Promise<Uint8Array> {
  const { signer, documentDigest } = input;
  if (!signer || !(signer.certificate instanceof Uint8Array) || typeof signer.sign !== 'function') {
    throw new SidianError('SIGN_BAD_OPTIONS', 'a signer with a certificate and sign() is required');
  }
  const hash = effectiveHash(signer, input.hash);
  if (!(documentDigest instanceof Uint8Array) || documentDigest.length !== HASH_LENGTH[hash]) {
    throw new SidianError(
      'SIGN_BAD_OPTIONS',
      `documentDigest must be a ${hash} digest (${HASH_LENGTH[hash]} bytes)`,
    );
  }
  const signedAttributes = buildSignedAttributes({
    messageDigest: documentDigest,
    certificate: signer.certificate,
    hash,
    extra: input.extraSignedAttributes,
  });
  let signature: Uint8Array;
  try {
    signature = await signer.sign(signedAttributes.slice());
  } catch (e) {
    if (e instanceof SidianError) throw e;
    throw new SidianError('SIGNER_FAILED', `the signer failed: ${(e as Error)?.message ?? String(e)}`);
  }
  if (!(signature instanceof Uint8Array) || signature.length === 0) {
    throw new SidianError('SIGNER_FAILED', 'the signer returned no signature');
  }
  const unsignedAttributes: Attribute[] = [];
  if (input.tsa !== undefined) {
    // the imprint uses the signer's digest where every TSA has it, else SHA-256 (RFC 3161 TSAs
    // commonly refuse SM3 with badAlg); a TsaSource may name its own hash
    const imprintHash = digestByName(hash)?.webCrypto ? hash : 'SHA-256';
    // SM2 over SM3 with a bare URL or transport: SM3 first, so a TSA that has SM2 (ours: an SM3
    // request gets an SM2 token, GM/T 0033) keeps the signature 国密 throughout; a TSA without it
    // answers badAlg (RFC 3161 §2.4.2) and is asked again with SHA-256
    let token: Uint8Array | undefined;
    if (imprintHash !== hash && (typeof input.tsa === 'string' || typeof input.tsa === 'function')) {
      try {
        token = await timestampSignature(signature, input.tsa, hash);
      } catch (e) {
        const failInfo = e instanceof SidianError ? e.details?.failInfo : undefined;
        if (!(
          e instanceof SidianError &&
          e.code === 'TSA_REJECTED' &&
          Array.isArray(failInfo) &&
          failInfo.includes('badAlg')
        ))
          throw e;
      }
    }
    token ??= await timestampSignature(signature, input.tsa, imprintHash);
    unsignedAttributes.push({ type: OID.signatureTimeStampToken, values: [token] });
  }
  return buildCmsSignedData({ signer: { ...signer, hash }, signedAttributes, signature, unsignedAttributes });
}

/** Where and how to ask for timestamps, from the forms a TsaSource takes. */
export function resolveTsaSource(
  tsa: TsaSource,
  defaultHash: HashName = 'SHA-256',
): { target: string | TimestampTransport; options: TimestampRequestOptions; hash: HashName } {
  if (typeof tsa === 'string' || typeof tsa === 'function')
    return { target: tsa, options: {}, hash: defaultHash };
  if (tsa && typeof tsa === 'object') {
    const { url, transport, hash: h, ...rest } = tsa;
    const t = transport ?? url;
    if (!t) throw new SidianError('SIGN_BAD_OPTIONS', 'tsa needs a url or a transport');
    return { target: t, options: rest, hash: h ?? defaultHash };
  }
  throw new SidianError('SIGN_BAD_OPTIONS', 'tsa must be a URL, a function or an options object');
}

/** Gets an RFC 3161 token over a SignerInfo's signature value (the B-T signature timestamp). */
export async function timestampSignature(
  signature: Uint8Array,
  tsa: TsaSource,
  defaultHash: HashName = 'SHA-256',
): Promise<Uint8Array> {
  const { target, options, hash } = resolveTsaSource(tsa, defaultHash);
  const digest = await digestChunks(hash, [signature]);
  return requestTimestamp(target, digest, hash, options);
}
