/**
 * Verifying CMS SignedData (RFC 5652 §5.6) and RFC 3161 timestamp tokens over bounded DER parses.
 * The signed attributes are verified as they are encoded in the file (RFC 5652 §5.4 asks for DER;
 * files whose SET is not in DER order are accepted, as OpenSSL and pyHanko do, with a warning).
 */
import { type DigestName, digestChunks } from '../digest';
import { type CertificateInfo, parseCertificate } from '../pki/certificate';
import {
  type Asn1Node,
  bytesEqual,
  compareDerOrder,
  parseDer,
  readInteger,
  readOctets,
  readOid,
  readTime,
  toHex,
} from '../pki/der';
import { OID, hashNameForOid } from '../pki/oids';
import { curveFieldSize, ecdsaDerToRaw } from '../signer/ecdsa';

export type AnyHash = DigestName;

export interface SignedDataCheck {
  integrity: 'ok' | 'digest-mismatch' | 'bad-signature' | 'malformed';
  reasons: string[];
  warnings: string[];
  /** Every certificate carried in the SignedData (DER). */
  certificates: Uint8Array[];
  signer?: CertificateInfo;
  digestAlgorithm?: AnyHash;
  signatureValue?: Uint8Array;
  /** Unsigned attribute id-aa-signatureTimeStampToken, DER of the token. */
  timestampToken?: Uint8Array;
  /** The encapsulated content (a TSTInfo for timestamps), when present. */
  eContent?: Uint8Array;
  eContentType?: string;
  hasSigningCertificateV2: boolean;
  hasSigningTime: boolean;
}

/**
 * Verifies a SignedData. `detachedDigest` computes the digest of the signed PDF ranges with the
 * SignerInfo's digest algorithm; it is unused when the content is encapsulated.
 */
export async function verifySignedData(
  der: Uint8Array,
  detachedDigest: ((hash: AnyHash) => Promise<Uint8Array>) | undefined,
): Promise<SignedDataCheck> {
  const out: SignedDataCheck = {
    integrity: 'malformed',
    reasons: [],
    warnings: [],
    certificates: [],
    hasSigningCertificateV2: false,
    hasSigningTime: false,
  };
  let si: Asn1Node;
  let sd: Asn1Node;
  try {
    const ci = parseDer(der, { allowTrailing: true, maxNodes: 50_000 });
    if (readOid(ci.child(0)) !== OID.signedData) {
      out.reasons.push('the CMS is not SignedData');
      return out;
    }
    sd = ci.child(1).child(0);
    let i = 2;
    const encap = sd.child(i++);
    out.eContentType = readOid(encap.child(0));
    if (encap.children[1]) out.eContent = readOctets(encap.children[1].child(0));
    for (; i < sd.children.length; i++) {
      const c = sd.children[i]!;
      if (c.isContext(0))
        for (const cert of c.children) if (cert.tag === 0x30) out.certificates.push(cert.raw);
      if (c.tag === 0x31) break;
    }
    const signerInfos = sd.children[sd.children.length - 1]!;
    if (signerInfos.tag !== 0x31 || signerInfos.children.length !== 1) {
      out.reasons.push(`the CMS has ${signerInfos.children.length} SignerInfos; PAdES requires exactly one`);
      return out;
    }
    si = signerInfos.child(0);
  } catch (e) {
    out.reasons.push(`the CMS cannot be parsed: ${(e as Error).message}`);
    return out;
  }
  try {
    const sid = si.child(1);
    const digestAlgOid = readOid(si.child(2).child(0));
    const hash = hashNameForOid(digestAlgOid);
    if (!hash) {
      out.reasons.push(`unsupported digest algorithm ${digestAlgOid}`);
      return out;
    }
    out.digestAlgorithm = hash;
    let k = 3;
    let signedAttrs: Asn1Node | undefined;
    if (si.child(k).isContext(0)) signedAttrs = si.child(k++);
    const sigAlg = si.child(k++);
    const sigValue = readOctets(si.child(k++));
    out.signatureValue = sigValue;
    const unsigned = si.children[k]?.isContext(1) ? si.children[k] : undefined;
    if (unsigned) {
      for (const attr of unsigned.children) {
        if (readOid(attr.child(0)) === OID.signatureTimeStampToken)
          out.timestampToken = attr.child(1).child(0).raw;
      }
    }
    // Signer certificate: by issuer and serial, or by subject key identifier.
    const certs = out.certificates.map((c) => {
      try {
        return parseCertificate(c);
      } catch {
        return undefined;
      }
    });
    let signer: CertificateInfo | undefined;
    if (sid.tag === 0x30) {
      const issuer = sid.child(0).raw;
      const serial = sid.child(1).content;
      signer = certs.find((c) => c && bytesEqual(c.issuer, issuer) && c.serialNumberHex === toHex(serial));
    } else if (sid.isContext(0)) {
      const ski = sid.content;
      signer = certs.find((c) => {
        const ext = c?.extensions.get(OID.subjectKeyIdentifier);
        if (!ext) return false;
        try {
          return bytesEqual(readOctets(parseDer(ext.value)), ski);
        } catch {
          return false;
        }
      });
    }
    if (!signer) {
      out.reasons.push('the signer certificate is not in the signature');
      return out;
    }
    out.signer = signer;

    // A detached signature (adbe.pkcs7.detached, ETSI.CAdES.detached) signs the byte ranges, never
    // content it carries itself (ISO 32000-1 §12.8.3.3.1: "No data shall be encapsulated in the
    // PKCS#7 SignedData field"): a CMS with eContent would be checked against that content while the
    // signed bytes are never hashed (a signature transplanted from any other signed document).
    if (detachedDigest && out.eContent) {
      out.reasons.push(
        'the CMS of a detached signature carries encapsulated content (eContent): the signed bytes would not be what it signs',
      );
      return out;
    }
    // The content digest.
    const contentDigest = out.eContent
      ? await digestChunks(hash, [out.eContent])
      : detachedDigest
        ? await detachedDigest(hash)
        : undefined;
    if (!contentDigest) {
      out.reasons.push('no content to verify against');
      return out;
    }
    let signedBytes: Uint8Array;
    if (signedAttrs) {
      let md: Uint8Array | undefined;
      const seen = new Set<string>();
      let prev: Uint8Array | undefined;
      let ordered = true;
      for (const attr of signedAttrs.children) {
        const type = readOid(attr.child(0));
        if (seen.has(type)) {
          out.reasons.push(`signed attribute ${type} appears twice`);
          return out;
        }
        seen.add(type);
        if (prev && compareDerOrder(prev, attr.raw) > 0) ordered = false;
        prev = attr.raw;
        if (type === OID.messageDigest) md = readOctets(attr.child(1).child(0));
        if (type === OID.signingCertificateV2) {
          out.hasSigningCertificateV2 = true;
          const problem = await checkEssCertId(attr.child(1).child(0), signer, true);
          if (problem) {
            out.integrity = 'bad-signature';
            out.reasons.push(problem);
            return out;
          }
        }
        if (type === OID.signingCertificate) {
          const problem = await checkEssCertId(attr.child(1).child(0), signer, false);
          if (problem) {
            out.integrity = 'bad-signature';
            out.reasons.push(problem);
            return out;
          }
        }
        if (type === OID.signingTime) out.hasSigningTime = true;
      }
      if (!ordered)
        out.warnings.push(
          'the signed attributes are not in DER order; verified as encoded (tolerated, as OpenSSL and pyHanko do)',
        );
      if (!md) {
        out.reasons.push('the message-digest attribute is missing');
        return out;
      }
      if (!bytesEqual(md, contentDigest)) {
        out.integrity = 'digest-mismatch';
        out.reasons.push(
          'the document digest does not match the signed message-digest: the signed bytes were changed',
        );
        return out;
      }
      signedBytes = signedAttrs.raw.slice();
      signedBytes[0] = 0x31; // [0] IMPLICIT -> SET OF (RFC 5652 §5.4)
    } else {
      signedBytes = out.eContent ?? new Uint8Array(0);
      if (!out.eContent) {
        out.reasons.push('a detached signature without signed attributes is not supported');
        return out;
      }
    }
    const ok = await verifySignature(signer, sigAlg, hash, signedBytes, sigValue);
    if (ok === undefined) {
      out.reasons.push(`unsupported signature algorithm ${readOid(sigAlg.child(0))}`);
      return out;
    }
    if (!ok) {
      out.integrity = 'bad-signature';
      out.reasons.push('the cryptographic signature does not verify with the signer certificate');
      return out;
    }
    out.integrity = 'ok';
    return out;
  } catch (e) {
    out.integrity = 'malformed';
    out.reasons.push(`the SignerInfo is malformed: ${(e as Error).message}`);
    return out;
  }
}

async function checkEssCertId(
  value: Asn1Node,
  signer: CertificateInfo,
  v2: boolean,
): Promise<string | undefined> {
  const first = value.child(0).child(0); // certs SEQUENCE OF ESSCertID(v2), first one
  let hash: AnyHash = v2 ? 'SHA-256' : 'SHA-1';
  let i = 0;
  if (v2 && first.child(0).tag === 0x30) {
    hash = hashNameForOid(readOid(first.child(0).child(0))) ?? 'SHA-256';
    i = 1;
  }
  const certHash = readOctets(first.child(i));
  const actual = await digestChunks(hash, [signer.der]);
  if (!bytesEqual(certHash, actual))
    return `the signing-certificate${v2 ? '-v2' : ''} attribute names a different certificate`;
  return undefined;
}

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

/** Verifies `signature` over `data` with the certificate's key; undefined when unsupported. */
export async function verifySignature(
  cert: CertificateInfo,
  sigAlg: Asn1Node,
  digestHash: AnyHash,
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean | undefined> {
  const oid = readOid(sigAlg.child(0));
  const pk = cert.publicKey;
  const spki = cert.spki as Uint8Array<ArrayBuffer>;
  const d = data as Uint8Array<ArrayBuffer>;
  try {
    if (pk.kind === 'rsa') {
      if (oid === OID.rsassaPss) {
        let hash: AnyHash = 'SHA-1';
        let salt = 20;
        const params = sigAlg.children[1];
        for (const p of params?.children ?? []) {
          if (p.isContext(0)) hash = hashNameForOid(readOid(p.child(0).child(0))) ?? hash;
          if (p.isContext(2)) salt = Number(readInteger(p.child(0)));
        }
        const key = await importCached(spki, { name: 'RSA-PSS', hash });
        return await crypto.subtle.verify(
          { name: 'RSA-PSS', saltLength: salt },
          key,
          signature as Uint8Array<ArrayBuffer>,
          d,
        );
      }
      const hash = RSA_HASH[oid] ?? (oid === OID.rsaEncryption ? digestHash : undefined);
      if (!hash) return undefined;
      const key = await importCached(spki, { name: 'RSASSA-PKCS1-v1_5', hash });
      return await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, signature as Uint8Array<ArrayBuffer>, d);
    }
    if (pk.kind === 'ec') {
      if (!pk.curve) return undefined;
      const hash = ECDSA_HASH[oid] ?? (oid === OID.ecPublicKey ? digestHash : undefined);
      if (!hash) return undefined;
      const raw = ecdsaDerToRaw(signature, curveFieldSize(pk.curve));
      if (!raw) return false;
      const key = await importCached(spki, { name: 'ECDSA', namedCurve: pk.curve });
      return await crypto.subtle.verify({ name: 'ECDSA', hash }, key, raw as Uint8Array<ArrayBuffer>, d);
    }
  } catch {
    return false;
  }
  return undefined;
}

const RSA_HASH: Record<string, AnyHash> = {
  '1.2.840.113549.1.1.5': 'SHA-1',
  [OID.sha256WithRSAEncryption]: 'SHA-256',
  [OID.sha384WithRSAEncryption]: 'SHA-384',
  [OID.sha512WithRSAEncryption]: 'SHA-512',
};
const ECDSA_HASH: Record<string, AnyHash> = {
  '1.2.840.10045.4.1': 'SHA-1',
  [OID.ecdsaWithSHA256]: 'SHA-256',
  [OID.ecdsaWithSHA384]: 'SHA-384',
  [OID.ecdsaWithSHA512]: 'SHA-512',
};

export interface TimestampCheck {
  ok: boolean;
  genTime?: Date;
  reasons: string[];
  tsa?: CertificateInfo;
  certificates: Uint8Array[];
}

/** How far a time-stamp's genTime may run ahead of the verifier's clock (clock skew). */
export const TIMESTAMP_FUTURE_SKEW_MS = 5 * 60_000;

/**
 * Verifies an RFC 3161 token: the TSA's signature over TSTInfo and the imprint over `data`. A
 * token whose genTime is later than `now` (beyond TIMESTAMP_FUTURE_SKEW_MS) is not ok: no TSA can
 * attest a time that has not come yet, and such a token could otherwise date a signature after a
 * revocation or an expiry.
 */
export async function verifyTimestampToken(
  token: Uint8Array,
  imprintOf: (hash: AnyHash) => Promise<Uint8Array>,
  now: Date = new Date(),
): Promise<TimestampCheck> {
  const sd = await verifySignedData(token, undefined);
  const res: TimestampCheck = { ok: false, reasons: [], certificates: sd.certificates, tsa: sd.signer };
  if (sd.eContentType !== OID.tstInfo || !sd.eContent) {
    res.reasons.push('the timestamp token does not hold a TSTInfo');
    return res;
  }
  if (sd.integrity !== 'ok') {
    res.reasons.push(...sd.reasons.map((r) => `timestamp: ${r}`));
    return res;
  }
  try {
    const tst = parseDer(sd.eContent, { maxNodes: 5000 });
    const mi = tst.child(2);
    const hash = hashNameForOid(readOid(mi.child(0).child(0)));
    if (!hash) {
      res.reasons.push('timestamp imprint uses an unknown hash');
      return res;
    }
    const imprint = readOctets(mi.child(1));
    res.genTime = readTime(tst.child(4));
    const expected = await imprintOf(hash);
    if (!bytesEqual(imprint, expected)) {
      res.reasons.push('the timestamp imprint does not match the timestamped data');
      return res;
    }
    if (res.genTime.getTime() > now.getTime() + TIMESTAMP_FUTURE_SKEW_MS) {
      res.reasons.push(
        `the time-stamp says ${res.genTime.toISOString()}, later than now (${now.toISOString()}): a time-stamp from the future is invalid`,
      );
      return res;
    }
    res.ok = true;
  } catch (e) {
    res.reasons.push(`the timestamp's TSTInfo is malformed: ${(e as Error).message}`);
  }
  return res;
}
