/**
 * RFC 3161 time-stamp responder (with RFC 5816: the signing certificate identified by ESSCertIDv2).
 * Requests that cannot be honoured get a `rejection` with the matching PKIFailureInfo bit, never an
 * HTTP error: the client library decides. Serial numbers come from a persistent counter reserved
 * in blocks, so they never repeat across restarts or crashes (a crash only leaves a gap).
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { webcrypto } from 'node:crypto';

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
};

const HASHES: Record<string, { name: string; length: number }> = {
  '2.16.840.1.101.3.4.2.1': { name: 'SHA-256', length: 32 },
  '2.16.840.1.101.3.4.2.2': { name: 'SHA-384', length: 48 },
  '2.16.840.1.101.3.4.2.3': { name: 'SHA-512', length: 64 },
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

export interface TsaResponderOptions {
  signer: TsaSigner;
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

function ab(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** DER named BIT STRING with one bit set (trailing zero bits removed). */
function failureBits(bit: number): asn1js.BitString {
  const bytes = new Uint8Array(Math.floor(bit / 8) + 1);
  bytes[bytes.length - 1] = 0x80 >> bit % 8;
  const unused = 7 - (bit % 8);
  return new asn1js.BitString({ valueHex: ab(bytes), unusedBits: unused });
}

function rejection(failure: keyof typeof FailureInfo, text: string): TsaResult {
  const resp = new pkijs.TimeStampResp({
    status: new pkijs.PKIStatusInfo({
      status: pkijs.PKIStatus.rejection,
      statusStrings: [new asn1js.Utf8String({ value: text })],
      failInfo: failureBits(FailureInfo[failure]),
    }),
  });
  return { granted: false, failure, reply: new Uint8Array(resp.toSchema().toBER(false)) };
}

function der(o: asn1js.AsnType): Uint8Array {
  return new Uint8Array(o.toBER(false));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export class TsaResponder {
  private readonly policy: string;
  private readonly accuracy: number;
  private readonly now: () => Date;
  private readonly cert: pkijs.Certificate;
  private readonly certs: pkijs.Certificate[];
  private sigCertAttr?: pkijs.Attribute;
  private readonly tsaName: pkijs.GeneralName;

  constructor(private readonly o: TsaResponderOptions) {
    this.policy = o.policy ?? DEFAULT_TSA_POLICY;
    this.accuracy = o.accuracySeconds ?? 1;
    this.now = o.now ?? (() => new Date());
    this.cert = pkijs.Certificate.fromBER(ab(o.signer.certificate));
    this.certs = [this.cert, ...(o.includeChain ? o.signer.chain.map((c) => pkijs.Certificate.fromBER(ab(c))) : [])];
    this.tsaName = new pkijs.GeneralName({ type: 4, value: this.cert.subject });
  }

  get policyOid(): string {
    return this.policy;
  }

  /** signing-certificate-v2 (RFC 5035): ESSCertIDv2 with SHA-256 (the default, so hashAlgorithm is omitted). */
  private async signingCertificateV2(): Promise<pkijs.Attribute> {
    if (this.sigCertAttr) return this.sigCertAttr;
    const hash = new Uint8Array(await subtle.digest('SHA-256', this.o.signer.certificate));
    const issuerSerial = new asn1js.Sequence({
      value: [
        new asn1js.Sequence({ value: [new pkijs.GeneralName({ type: 4, value: this.cert.issuer }).toSchema()] }),
        this.cert.serialNumber,
      ],
    });
    const essCertIdV2 = new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: ab(hash) }), issuerSerial] });
    const signingCertificateV2 = new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertIdV2] })] });
    this.sigCertAttr = new pkijs.Attribute({ type: OID.signingCertificateV2, values: [signingCertificateV2] });
    return this.sigCertAttr;
  }

  /** Answers one DER TimeStampReq with a DER TimeStampResp. */
  async respond(requestDer: Uint8Array): Promise<TsaResult> {
    let req: pkijs.TimeStampReq;
    try {
      if (requestDer.length === 0 || requestDer.length > 64 * 1024) return rejection('badDataFormat', 'request size out of bounds');
      const parsed = asn1js.fromBER(ab(requestDer));
      if (parsed.offset === -1 || parsed.offset !== requestDer.length) return rejection('badDataFormat', 'request is not DER');
      req = new pkijs.TimeStampReq({ schema: parsed.result });
    } catch {
      return rejection('badDataFormat', 'request is not a TimeStampReq');
    }
    if (req.version !== 1) return rejection('badRequest', 'unsupported request version');
    const alg = req.messageImprint.hashAlgorithm.algorithmId;
    const hash = HASHES[alg];
    if (!hash) return rejection('badAlg', `hash algorithm ${alg} is not accepted (SHA-256, SHA-384, SHA-512)`);
    const imprint = req.messageImprint.hashedMessage.valueBlock.valueHexView;
    if (imprint.length !== hash.length) return rejection('badDataFormat', 'message imprint length does not match its algorithm');
    if (req.reqPolicy && req.reqPolicy !== this.policy) return rejection('unacceptedPolicy', `policy ${req.reqPolicy} is not supported`);
    if (req.extensions && req.extensions.length > 0) return rejection('unacceptedExtension', 'request extensions are not supported');

    let serial: bigint;
    try {
      serial = await this.o.nextSerial();
    } catch {
      return rejection('systemFailure', 'serial number source unavailable');
    }
    const t = this.now();
    const genTime = new Date(Math.floor(t.getTime() / 1000) * 1000); // whole seconds, within the stated accuracy
    const tstInfo = new pkijs.TSTInfo({
      version: 1,
      policy: this.policy,
      messageImprint: new pkijs.MessageImprint({
        hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: alg }),
        hashedMessage: new asn1js.OctetString({ valueHex: ab(new Uint8Array(imprint)) }),
      }),
      serialNumber: asn1js.Integer.fromBigInt(serial),
      genTime,
      accuracy: new pkijs.Accuracy({ seconds: this.accuracy }),
      tsa: this.tsaName,
    });
    if (req.nonce) tstInfo.nonce = req.nonce;
    const tstDer = der(tstInfo.toSchema());
    const digest = new Uint8Array(await subtle.digest('SHA-256', tstDer));

    const attrs = [
      new pkijs.Attribute({ type: OID.contentType, values: [new asn1js.ObjectIdentifier({ value: OID.tstInfo })] }),
      new pkijs.Attribute({ type: OID.messageDigest, values: [new asn1js.OctetString({ valueHex: ab(digest) })] }),
      await this.signingCertificateV2(),
    ];
    // DER SET OF: sorted by encoding (verifiers that re-encode must get the same bytes)
    const encoded = attrs.map((a) => ({ a, d: der(a.toSchema()) }));
    encoded.sort((x, y) => compareBytes(x.d, y.d));

    const signedData = new pkijs.SignedData({
      version: 3,
      encapContentInfo: new pkijs.EncapsulatedContentInfo({
        eContentType: OID.tstInfo,
        eContent: new asn1js.OctetString({ valueHex: ab(tstDer) }),
      }),
      signerInfos: [
        new pkijs.SignerInfo({
          version: 1,
          sid: new pkijs.IssuerAndSerialNumber({ issuer: this.cert.issuer, serialNumber: this.cert.serialNumber }),
          signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes: encoded.map((e) => e.a) }),
        }),
      ],
    });
    if (req.certReq) signedData.certificates = this.certs;
    await signedData.sign(this.o.signer.key, 0, 'SHA-256');
    const token = new pkijs.ContentInfo({ contentType: OID.signedData, content: signedData.toSchema(true) });
    const resp = new pkijs.TimeStampResp({
      status: new pkijs.PKIStatusInfo({ status: pkijs.PKIStatus.granted }),
      timeStampToken: token,
    });
    return { granted: true, reply: der(resp.toSchema()), serial, time: genTime };
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
