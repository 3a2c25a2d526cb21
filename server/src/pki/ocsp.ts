/**
 * OCSP responder (RFC 6960) for the enrolment CA, answering from the same database rows as the CRL,
 * so a certificate revoked a moment ago is `revoked` here at once. Responses are signed by the CA
 * itself (RFC 6960 §4.2.2.2: the CA that issued the certificates may sign). A request that cannot
 * be read gets a `malformedRequest` OCSPResponse (§2.3), never an HTTP error.
 *
 * DER is read and written with the bounded helpers of the time-stamp responder (tsa/der.ts).
 *
 * One responder answers for several CAs (the P-256 one and the 国密 SM2 one): a request is answered
 * by the CA its first CertID names (by issuerNameHash and issuerKeyHash), signed with that CA's key
 * (ECDSA-SHA256, or SM2-with-SM3 with the default ID); CertIDs of another issuer are `unknown`.
 */
import { createHash, webcrypto } from 'node:crypto';
import type { CertificateStatus } from './ca';
import { isSm2Key, SM2_SM3, subtle as keyAwareSubtle } from './x509';
import {
  children,
  content,
  decodeOid,
  DerError,
  ecdsaDer,
  generalizedTime,
  octets,
  oid,
  raw,
  readTlv,
  seq,
  tlv,
} from '../tsa/der';

const OID = {
  ocspBasic: '1.3.6.1.5.5.7.48.1.1',
  ocspNonce: '1.3.6.1.5.5.7.48.1.2',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sm2WithSm3: '1.2.156.10197.1.501',
};

/** CertID hash algorithms we can match (RFC 6960 §4.1.1: issuerNameHash, issuerKeyHash). */
const HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** OCSPResponseStatus (RFC 6960 §4.2.1). */
export const OcspStatus = { successful: 0, malformedRequest: 1, internalError: 2, tryLater: 3 } as const;

/** Requests per OCSPRequest answered; more is refused as malformed (bounded work). */
const MAX_REQUESTS = 32;
/** How long a response may be relied on (nextUpdate): short, since revocation here takes effect at once. */
const RESPONSE_VALIDITY_MS = 10 * 60_000;

interface CertId {
  /** The CertID as the client sent it: echoed unchanged in the SingleResponse. */
  der: Uint8Array;
  hash: string | undefined;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  serialHex: string;
}

export interface ParsedOcspRequest {
  certIds: CertId[];
  /** The nonce extension's extnValue as sent (RFC 8954), echoed in the response. */
  nonce?: Uint8Array;
}

export interface OcspSigner {
  /** DER of the CA certificate. */
  certificate: Uint8Array;
  key: CryptoKey;
  status(serialHex: string): Promise<CertificateStatus>;
}

const bytesEqual = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** OCSPRequest (RFC 6960 §4.1.1); throws DerError on anything it cannot read. */
export function parseOcspRequest(b: Uint8Array): ParsedOcspRequest {
  const top = readTlv(b, 0);
  if (top.tag !== 0x30 || top.end !== b.length) throw new DerError('not one SEQUENCE');
  const [tbs] = children(b, top, 2);
  if (!tbs || tbs.tag !== 0x30) throw new DerError('no tbsRequest');
  const parts = children(b, tbs, 4);
  let i = 0;
  if (parts[i]?.tag === 0xa0) i++; // version [0] EXPLICIT, v1
  if (parts[i]?.tag === 0xa1) i++; // requestorName [1] EXPLICIT GeneralName
  const list = parts[i++];
  if (!list || list.tag !== 0x30) throw new DerError('no requestList');
  const requests = children(b, list, MAX_REQUESTS);
  if (requests.length === 0) throw new DerError('empty requestList');
  const certIds = requests.map((r) => {
    if (r.tag !== 0x30) throw new DerError('Request is not a SEQUENCE');
    const [certId] = children(b, r, 2);
    if (!certId || certId.tag !== 0x30) throw new DerError('no CertID');
    const [alg, nameHash, keyHash, serial, ...rest] = children(b, certId, 4);
    if (!alg || !nameHash || !keyHash || !serial || rest.length) throw new DerError('CertID');
    if (alg.tag !== 0x30 || nameHash.tag !== 0x04 || keyHash.tag !== 0x04 || serial.tag !== 0x02)
      throw new DerError('CertID fields');
    const algOid = children(b, alg, 2)[0];
    if (!algOid || algOid.tag !== 0x06) throw new DerError('hashAlgorithm');
    const serialBytes = content(b, serial);
    if (serialBytes.length === 0 || serialBytes.length > 64) throw new DerError('serialNumber');
    return {
      der: raw(b, certId),
      hash: HASHES[decodeOid(content(b, algOid))],
      issuerNameHash: content(b, nameHash),
      issuerKeyHash: content(b, keyHash),
      serialHex: Buffer.from(serialBytes).toString('hex'),
    };
  });
  let nonce: Uint8Array | undefined;
  const ext = parts[i];
  if (ext) {
    if (ext.tag !== 0xa2) throw new DerError('unexpected field in tbsRequest');
    const [exts] = children(b, ext, 1);
    if (!exts || exts.tag !== 0x30) throw new DerError('requestExtensions');
    for (const e of children(b, exts, 16)) {
      const f = children(b, e, 3);
      if (f[0]?.tag !== 0x06) throw new DerError('extension');
      const value = f[f.length - 1]!;
      if (value.tag !== 0x04) throw new DerError('extnValue');
      if (decodeOid(content(b, f[0])) === OID.ocspNonce) {
        // RFC 8954 §2.1: the nonce is 1 to 32 octets
        const inner = readTlv(b, value.contentStart, value.end);
        const n = inner.end - inner.contentStart;
        if (inner.tag !== 0x04 || n < 1 || n > 32) throw new DerError('nonce');
        nonce = content(b, value);
      }
    }
  }
  return { certIds, nonce };
}

/** The OCSPResponse for a status other than successful: no responseBytes (RFC 6960 §4.2.1). */
export function ocspError(status: number): Uint8Array {
  return seq(tlv(0x0a, Uint8Array.of(status)));
}

/** What the CA's own name and key hash to under each algorithm: computed once per responder. */
class IssuerHashes {
  private readonly name: Uint8Array;
  private readonly key: Uint8Array;
  private readonly memo = new Map<string, { name: Uint8Array; key: Uint8Array }>();

  constructor(caDer: Uint8Array) {
    // Certificate -> tbsCertificate -> [version] serial sigAlg issuer validity subject spki
    const cert = readTlv(caDer, 0);
    const tbs = children(caDer, cert, 3)[0]!;
    const f = children(caDer, tbs, 12);
    const o = f[0]!.tag === 0xa0 ? 1 : 0;
    this.name = raw(caDer, f[o + 4]!);
    const spki = children(caDer, f[o + 5]!, 2);
    this.key = content(caDer, spki[1]!).subarray(1); // BIT STRING value without the unused-bits octet
  }

  of(hash: string) {
    let h = this.memo.get(hash);
    if (!h) {
      h = {
        name: new Uint8Array(createHash(hash).update(this.name).digest()),
        key: new Uint8Array(createHash(hash).update(this.key).digest()),
      };
      this.memo.set(hash, h);
    }
    return h;
  }
}

interface Issuer {
  signer: OcspSigner;
  hashes: IssuerHashes;
}

function isOurs(hashes: IssuerHashes, id: CertId): boolean {
  const h = hashes.of(id.hash!);
  return bytesEqual(h.name, id.issuerNameHash) && bytesEqual(h.key, id.issuerKeyHash);
}

export class OcspResponder {
  private readonly issuers: { signer: OcspSigner; hashes: IssuerHashes }[];

  constructor(signers: OcspSigner | OcspSigner[]) {
    this.issuers = (Array.isArray(signers) ? signers : [signers]).map((signer) => ({
      signer,
      hashes: new IssuerHashes(signer.certificate),
    }));
  }

  /** An OCSPResponse (DER) for any bytes: signed statuses, or malformedRequest / internalError. */
  async respond(request: Uint8Array, now = new Date()): Promise<{ response: Uint8Array; status: number }> {
    let parsed: ParsedOcspRequest;
    try {
      parsed = parseOcspRequest(request);
    } catch {
      return { response: ocspError(OcspStatus.malformedRequest), status: OcspStatus.malformedRequest };
    }
    try {
      // the CA the first CertID names answers (and signs); the first CA when none matches
      const first = parsed.certIds.find((id) => id.hash !== undefined);
      const issuer = (first && this.issuers.find((i) => isOurs(i.hashes, first))) ?? this.issuers[0]!;
      return { response: await this.sign(issuer, parsed, now), status: OcspStatus.successful };
    } catch {
      return { response: ocspError(OcspStatus.internalError), status: OcspStatus.internalError };
    }
  }

  private async single(issuer: Issuer, id: CertId, now: Date): Promise<Uint8Array> {
    const ours = id.hash !== undefined && isOurs(issuer.hashes, id);
    // RFC 6960 §2.2: unknown when the responder does not know the issuer or the certificate
    const st: CertificateStatus = ours ? await issuer.signer.status(id.serialHex) : { status: 'unknown' };
    let certStatus: Uint8Array;
    if (st.status === 'good')
      certStatus = tlv(0x80); // good [0] IMPLICIT NULL
    else if (st.status !== 'revoked')
      certStatus = tlv(0x82); // unknown [2] IMPLICIT NULL
    else {
      // revoked [1] IMPLICIT RevokedInfo { revocationTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
      const parts = [generalizedTime(st.revokedAt)];
      if (st.reason) parts.push(tlv(0xa0, tlv(0x0a, Uint8Array.of(st.reason))));
      certStatus = tlv(0xa1, ...parts);
    }
    return seq(
      id.der,
      certStatus,
      generalizedTime(now),
      tlv(0xa0, generalizedTime(new Date(now.getTime() + RESPONSE_VALIDITY_MS))),
    );
  }

  private async sign(issuer: Issuer, req: ParsedOcspRequest, now: Date): Promise<Uint8Array> {
    const responses = await Promise.all(req.certIds.map((id) => this.single(issuer, id, now)));
    const fields = [
      tlv(0xa2, octets(issuer.hashes.of('sha1').key)), // responderID byKey [2] EXPLICIT KeyHash (SHA-1)
      generalizedTime(now),
      seq(...responses),
    ];
    if (req.nonce) fields.push(tlv(0xa1, seq(seq(oid(OID.ocspNonce), octets(req.nonce)))));
    const tbs = seq(...fields);
    const key = issuer.signer.key;
    const [sigAlg, sig] = isSm2Key(key)
      ? // SM2-with-SM3 over the default ID, DER {r, s} as it comes (pki/x509.ts)
        [OID.sm2WithSm3, new Uint8Array(await keyAwareSubtle.sign(SM2_SM3, key, new Uint8Array(tbs)))]
      : [
          OID.ecdsaWithSha256,
          ecdsaDer(new Uint8Array(await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, tbs))),
        ];
    const basic = seq(tbs, seq(oid(sigAlg)), tlv(0x03, Uint8Array.of(0), sig));
    // OCSPResponse { successful, responseBytes [0] EXPLICIT { id-pkix-ocsp-basic, OCTET STRING } }
    return seq(
      tlv(0x0a, Uint8Array.of(OcspStatus.successful)),
      tlv(0xa0, seq(oid(OID.ocspBasic), octets(basic))),
    );
  }
}
