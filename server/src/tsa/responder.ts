/**
 * RFC 3161 time-stamp responder (with RFC 5816: the signing certificate identified by ESSCertIDv2).
 * Requests that cannot be honoured get a `rejection` with the matching PKIFailureInfo bit, never an
 * HTTP error: the client library decides. Serial numbers come from a persistent counter reserved
 * in blocks, so they never repeat across restarts or crashes (a crash only leaves a gap).
 *
 * 国密: a request whose message imprint is SM3 (GM/T 0006 1.2.156.10197.1.401) is answered by the SM2
 * TSA, when one is configured: a token whose SignerInfo digests with SM3 and signs with
 * SM2-with-SM3 (1.2.156.10197.1.501; the SM2 default ID, GM/T 0009 §10), ESSCertIDv2 hashing the
 * TSA certificate with SM3. Every other hash gets the ECDSA P-256 / SHA-256 token as before. The
 * hash of the imprint is the request's one option a client always sets, so asking for SM3 is asking
 * for the 国密 token (GM/T 0033 time stamps are SM3/SM2 throughout).
 */
import { webcrypto } from 'node:crypto';
import { sm3 } from '../../../packages/core/src/gm/sm3';
import { subtle as hsmAwareSubtle } from '../pki/x509';
import {
  children,
  compareBytes,
  content,
  decodeOid,
  DerError,
  ecdsaDer,
  generalizedTime,
  integer,
  octets,
  oid,
  raw,
  readTlv,
  seq,
  set,
  tlv,
  utf8String,
  type Tlv,
  OID_TEXT,
} from './der';

const subtle = webcrypto.subtle;

export const DEFAULT_TSA_POLICY = '2.25.209725541581724437799351757145163569188';

const OID = {
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  signedData: '1.2.840.113549.1.7.2',
  sha256: '2.16.840.1.101.3.4.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sm3: '1.2.156.10197.1.401',
  sm2WithSm3: '1.2.156.10197.1.501',
};

const HASHES: Record<string, { name: string; length: number }> = {
  '2.16.840.1.101.3.4.2.1': { name: 'SHA-256', length: 32 },
  '2.16.840.1.101.3.4.2.2': { name: 'SHA-384', length: 48 },
  '2.16.840.1.101.3.4.2.3': { name: 'SHA-512', length: 64 },
  [OID.sm3]: { name: 'SM3', length: 32 },
};

/** PKIFailureInfo bit numbers (RFC 3161 §2.4.2). */
export const FailureInfo = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;

export interface TsaSigner {
  certificate: Uint8Array; // DER
  chain: Uint8Array[]; // issuers (DER), included with certReq
  key: CryptoKey; // ECDSA P-256
}

/** The SM2 TSA: its key signs the DER of the signed attributes (SM2 over SM3(Z || data), DER {r, s}). */
export interface Sm2TsaSigner {
  certificate: Uint8Array;
  chain: Uint8Array[];
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export interface TsaResponderOptions {
  signer: TsaSigner;
  /** Answers requests with an SM3 imprint (absent: they get badAlg). */
  sm2Signer?: Sm2TsaSigner;
  /** Serial numbers: returns the next unused value (persisted by the caller). */
  nextSerial: () => Promise<bigint>;
  policy?: string;
  /** Accuracy in seconds (default 1). */
  accuracySeconds?: number;
  now?: () => Date;
  /** Include the whole chain (not only the TSA certificate) when the client asks for certificates. */
  includeChain?: boolean;
}

export interface TsaResult {
  granted: boolean;
  reply: Uint8Array;
  serial?: bigint;
  failure?: keyof typeof FailureInfo;
  time?: Date;
}

/** DER named BIT STRING with one bit set (trailing zero bits removed). */
function failureBits(bit: number): Uint8Array {
  const bytes = new Uint8Array(Math.floor(bit / 8) + 1);
  bytes[bytes.length - 1] = 0x80 >> (bit % 8);
  return tlv(0x03, Uint8Array.of(7 - (bit % 8)), bytes);
}

function rejection(failure: keyof typeof FailureInfo, text: string): TsaResult {
  const status = seq(integer(2), seq(utf8String(text)), failureBits(FailureInfo[failure]));
  return { granted: false, failure, reply: seq(status) };
}

interface ParsedRequest {
  imprintRaw: Uint8Array; // the MessageImprint TLV, copied verbatim into TSTInfo
  hashOid: string;
  imprintLength: number;
  reqPolicy?: string;
  nonceRaw?: Uint8Array; // the INTEGER TLV, echoed verbatim
  certReq: boolean;
  hasExtensions: boolean;
  version: number;
}

function parseRequest(b: Uint8Array): ParsedRequest {
  const top = readTlv(b, 0);
  if (top.tag !== 0x30 || top.end !== b.length) throw new DerError('not a SEQUENCE spanning the request');
  const f = children(b, top, 8);
  if (f.length < 2) throw new DerError('too few fields');
  const [ver, mi] = f as [Tlv, Tlv];
  if (ver.tag !== 0x02 || ver.end - ver.contentStart !== 1) throw new DerError('bad version');
  if (mi.tag !== 0x30) throw new DerError('bad messageImprint');
  const [alg, hashed] = children(b, mi, 2) as [Tlv, Tlv];
  if (!alg || !hashed || alg.tag !== 0x30 || hashed.tag !== 0x04) throw new DerError('bad messageImprint');
  const algOid = children(b, alg, 2)[0];
  if (!algOid || algOid.tag !== 0x06) throw new DerError('bad hash algorithm');
  const out: ParsedRequest = {
    version: b[ver.contentStart]!,
    imprintRaw: raw(b, mi),
    hashOid: decodeOid(content(b, algOid)),
    imprintLength: hashed.end - hashed.contentStart,
    certReq: false,
    hasExtensions: false,
  };
  for (const t of f.slice(2)) {
    if (t.tag === 0x06) out.reqPolicy = decodeOid(content(b, t));
    else if (t.tag === 0x02) out.nonceRaw = raw(b, t);
    else if (t.tag === 0x01) out.certReq = b[t.contentStart] !== 0;
    else if (t.tag === 0xa0) out.hasExtensions = t.end > t.contentStart;
    else throw new DerError('unexpected field');
  }
  return out;
}

/** Issuer, subject and serial of a certificate, as DER TLVs. */
function certificateNames(cert: Uint8Array): { issuer: Uint8Array; subject: Uint8Array; serial: Uint8Array } {
  const top = readTlv(cert, 0);
  const tbs = children(cert, top, 3)[0]!;
  const f = children(cert, tbs, 16);
  const i = f[0]!.tag === 0xa0 ? 1 : 0;
  return { serial: raw(cert, f[i]!), issuer: raw(cert, f[i + 2]!), subject: raw(cert, f[i + 4]!) };
}

/** What differs between the ECDSA and the SM2 token: the signer's names, its digest and signature. */
interface SigningProfile {
  tsaName: Uint8Array;
  sid: Uint8Array;
  certsField: Uint8Array;
  digestAlg: Uint8Array;
  signatureAlg: Uint8Array;
  digest(data: Uint8Array): Promise<Uint8Array>;
  /** DER signature over the DER of the signed attributes. */
  sign(signedAttrs: Uint8Array): Promise<Uint8Array>;
  /** signing-certificate-v2 attribute (RFC 5035). */
  sigCertAttr: () => Promise<Uint8Array>;
}

/** signing-certificate-v2 (RFC 5035): ESSCertIDv2, hashAlgorithm omitted for SHA-256 (the DEFAULT). */
function signingCertificateV2(cert: Uint8Array, hashOid: string, certHash: Uint8Array): Uint8Array {
  const names = certificateNames(cert);
  const issuerSerial = seq(seq(tlv(0xa4, names.issuer)), names.serial);
  const essCertIdV2 = seq(
    ...(hashOid === OID.sha256 ? [] : [seq(oid(hashOid))]),
    octets(certHash),
    issuerSerial,
  );
  return seq(oid(OID.signingCertificateV2), set(seq(seq(essCertIdV2))));
}

function profileNames(certificate: Uint8Array, chain: Uint8Array[], includeChain: boolean | undefined) {
  const names = certificateNames(certificate);
  return {
    tsaName: tlv(0xa0, tlv(0xa4, names.subject)), // [0] EXPLICIT GeneralName directoryName
    sid: seq(names.issuer, names.serial), // IssuerAndSerialNumber
    certsField: tlv(0xa0, certificate, ...(includeChain ? chain : [])),
  };
}

export class TsaResponder {
  private readonly policy: string;
  private readonly policyDer: Uint8Array;
  private readonly accuracy: Uint8Array;
  private readonly now: () => Date;
  private readonly tsaName: Uint8Array;
  private readonly sid: Uint8Array;
  private readonly certsField: Uint8Array;
  private sigCertAttr?: Uint8Array;
  private static readonly C = {
    contentTypeAttr: seq(oid(OID.contentType), set(oid(OID.tstInfo))),
    messageDigestOid: oid(OID.messageDigest),
    sha256Alg: seq(oid(OID.sha256)),
    ecdsaAlg: seq(oid(OID.ecdsaWithSha256)),
    tstInfoOid: oid(OID.tstInfo),
    signedDataOid: oid(OID.signedData),
    v1: integer(1),
    v3: integer(3),
    granted: seq(integer(0)),
  };

  constructor(private readonly o: TsaResponderOptions) {
    this.policy = o.policy ?? DEFAULT_TSA_POLICY;
    if (!OID_TEXT.test(this.policy))
      throw new Error(`the TSA policy "${this.policy}" is not an OID (e.g. 2.25.<uuid as integer>)`);
    this.policyDer = oid(this.policy);
    this.accuracy = seq(integer(o.accuracySeconds ?? 1));
    this.now = o.now ?? (() => new Date());
    const names = certificateNames(o.signer.certificate);
    this.tsaName = tlv(0xa0, tlv(0xa4, names.subject)); // [0] EXPLICIT GeneralName directoryName
    this.sid = seq(names.issuer, names.serial); // IssuerAndSerialNumber
    this.certsField = tlv(0xa0, o.signer.certificate, ...(o.includeChain ? o.signer.chain : []));
    this.ecdsaProfile = {
      tsaName: this.tsaName,
      sid: this.sid,
      certsField: this.certsField,
      digestAlg: TsaResponder.C.sha256Alg,
      signatureAlg: TsaResponder.C.ecdsaAlg,
      digest: async (d) => new Uint8Array(await subtle.digest('SHA-256', d)),
      sign: async (d) =>
        ecdsaDer(
          // through pki/x509's subtle: a TSA key held in an HSM (PKCS#11) signs as a WebCrypto key does
          new Uint8Array(
            await hsmAwareSubtle.sign(
              { name: 'ECDSA', hash: 'SHA-256' },
              this.o.signer.key,
              new Uint8Array(d),
            ),
          ),
        ),
      sigCertAttr: () => this.signingCertificateV2(),
    };
    const sm2 = o.sm2Signer;
    if (sm2) {
      const attr = signingCertificateV2(sm2.certificate, OID.sm3, sm3(sm2.certificate));
      this.sm2Profile = {
        ...profileNames(sm2.certificate, sm2.chain, o.includeChain),
        digestAlg: seq(oid(OID.sm3)), // GM/T 0010 §7: absent parameters
        signatureAlg: seq(oid(OID.sm2WithSm3)),
        digest: async (d) => sm3(d),
        sign: (d) => sm2.sign(d),
        sigCertAttr: async () => attr,
      };
    }
  }

  private readonly ecdsaProfile: SigningProfile;
  private readonly sm2Profile?: SigningProfile;

  get policyOid(): string {
    return this.policy;
  }

  /** signing-certificate-v2 (RFC 5035): ESSCertIDv2 with SHA-256 (the default, so hashAlgorithm is omitted). */
  private async signingCertificateV2(): Promise<Uint8Array> {
    if (this.sigCertAttr) return this.sigCertAttr;
    const cert = this.o.signer.certificate;
    const hash = new Uint8Array(await subtle.digest('SHA-256', new Uint8Array(cert)));
    const names = certificateNames(cert);
    const issuerSerial = seq(seq(tlv(0xa4, names.issuer)), names.serial);
    const essCertIdV2 = seq(octets(hash), issuerSerial);
    this.sigCertAttr = seq(oid(OID.signingCertificateV2), set(seq(seq(essCertIdV2))));
    return this.sigCertAttr;
  }

  /** Answers one DER TimeStampReq with a DER TimeStampResp. */
  async respond(requestDer: Uint8Array): Promise<TsaResult> {
    if (requestDer.length === 0 || requestDer.length > 64 * 1024)
      return rejection('badDataFormat', 'request size out of bounds');
    let req: ParsedRequest;
    try {
      req = parseRequest(requestDer);
    } catch {
      return rejection('badDataFormat', 'request is not a DER TimeStampReq');
    }
    if (req.version !== 1) return rejection('badRequest', 'unsupported request version');
    const hash = HASHES[req.hashOid];
    const profile = req.hashOid === OID.sm3 ? this.sm2Profile : this.ecdsaProfile;
    if (!hash || !profile)
      return rejection(
        'badAlg',
        `hash algorithm ${req.hashOid} is not accepted (SHA-256, SHA-384, SHA-512${this.sm2Profile ? ', SM3' : ''})`,
      );
    if (req.imprintLength !== hash.length)
      return rejection('badDataFormat', 'message imprint length does not match its algorithm');
    if (req.reqPolicy && req.reqPolicy !== this.policy)
      return rejection('unacceptedPolicy', `policy ${req.reqPolicy} is not supported`);
    if (req.hasExtensions) return rejection('unacceptedExtension', 'request extensions are not supported');

    let serial: bigint;
    try {
      serial = await this.o.nextSerial();
    } catch {
      return rejection('systemFailure', 'serial number source unavailable');
    }
    const C = TsaResponder.C;
    const t = this.now();
    const genTime = new Date(Math.floor(t.getTime() / 1000) * 1000); // whole seconds, within the stated accuracy
    const tstInfo = seq(
      C.v1,
      this.policyDer,
      req.imprintRaw,
      integer(serial),
      generalizedTime(genTime),
      this.accuracy,
      ...(req.nonceRaw ? [req.nonceRaw] : []),
      profile.tsaName,
    );
    const digest = await profile.digest(tstInfo);
    // DER SET OF: sorted by encoding (verifiers that re-encode must get the same bytes)
    const attrs = [
      C.contentTypeAttr,
      seq(C.messageDigestOid, set(octets(digest))),
      await profile.sigCertAttr(),
    ].sort(compareBytes);
    const signedAttrs = set(...attrs);
    const signature = await profile.sign(new Uint8Array(signedAttrs));
    const signedAttrsImplicit = new Uint8Array(signedAttrs);
    signedAttrsImplicit[0] = 0xa0; // [0] IMPLICIT
    const signerInfo = seq(
      C.v1,
      profile.sid,
      profile.digestAlg,
      signedAttrsImplicit,
      profile.signatureAlg,
      octets(signature),
    );
    const signedData = seq(
      C.v3,
      set(profile.digestAlg),
      seq(C.tstInfoOid, tlv(0xa0, octets(tstInfo))),
      ...(req.certReq ? [profile.certsField] : []),
      set(signerInfo),
    );
    const token = seq(C.signedDataOid, tlv(0xa0, signedData));
    return { granted: true, reply: seq(C.granted, token), serial, time: genTime };
  }
}

/** Serial numbers from a persistent counter, reserved `block` at a time. */
export function blockSerials(reserve: (count: number) => Promise<bigint>, block = 64): () => Promise<bigint> {
  let next = 0n;
  let end = 0n; // exclusive
  let pending: Promise<void> | undefined;
  return async () => {
    while (next >= end) {
      if (!pending) {
        pending = reserve(block).then(
          (first) => {
            next = first;
            end = first + BigInt(block);
            pending = undefined;
          },
          (e) => {
            pending = undefined;
            throw e;
          },
        );
      }
      await pending;
    }
    return next++;
  };
}
