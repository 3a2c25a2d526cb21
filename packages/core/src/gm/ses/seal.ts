/**
 * 电子印章数据 (SESeal): GB/T 38540-2020 §7 (header version 4; ofdrw's version 5 adds an optional
 * time-stamp) and GM/T 0031-2014 (version 1). Reads all three, makes version 4. The ASN.1 is in
 * ses.asn1 beside this file.
 */
import * as asn1js from 'asn1js';
import { SidianError } from '../../errors';
import { parseCertificate } from '../../pki/certificate';
import { bytesEqual, derSequence } from '../../pki/der';
import { OID } from '../../pki/oids';
import type { Signer } from '../../signer/types';
import { sm3 } from '../sm3';
import {
  bits,
  children,
  decode,
  enc,
  explicit,
  ia5,
  int,
  malformed,
  octets,
  oid,
  printable,
  rawOf,
  seqOf,
  time,
  toDer,
  utf8,
  type Node,
} from './asn1';

/** Which standard's structure a seal or signature follows. */
export type SesFormat = 'GM/T 0031-2014' | 'GB/T 38540-2020';

/** 印章类型 as commonly registered (GB/T 38540 leaves the values to the application). */
export const SEAL_TYPES: Record<number, { zh: string; en: string }> = {
  1: { zh: '单位印章', en: 'organisation seal' },
  2: { zh: '个人印章', en: 'personal seal' },
  3: { zh: '业务专用章', en: 'business seal' },
};

export interface CertDigest {
  /** Digest algorithm name as written in the seal (PrintableString), e.g. "SM3". */
  type: string;
  value: Uint8Array;
}

export interface SealProperty {
  /** 印章类型 */
  type: number;
  /** 印章名称 */
  name: string;
  /** 1: certificates; 2: certificate digests (GB/T 38540). GM/T 0031 seals always list certificates (1). */
  certListType: 1 | 2;
  /** 签章者证书 (DER), when certListType is 1. */
  certs: Uint8Array[];
  /** Digests of the holders' certificates, when certListType is 2. */
  certDigests: CertDigest[];
  createDate: Date;
  validStart: Date;
  validEnd: Date;
}

export interface SealPicture {
  /** "PNG", "GIF", "JPG", "SVG", "OFD" ... */
  type: string;
  data: Uint8Array;
  /** Display size in millimetres. */
  width: number;
  height: number;
}

export interface ExtData {
  extnID: string;
  critical: boolean;
  extnValue: Uint8Array;
}

export interface SESeal {
  format: SesFormat;
  header: { id: string; version: number; vid: string };
  /** 电子印章标识 */
  esID: string;
  property: SealProperty;
  picture: SealPicture;
  extDatas: ExtData[];
  /** 制章者证书 (DER). */
  makerCertificate: Uint8Array;
  signatureAlgorithm: string;
  /** The maker's signature value (SM2: DER SEQUENCE { r, s }). */
  signature: Uint8Array;
  /** ofdrw V5: a time-stamp over the maker's signature (not interpreted). */
  timeStamp?: Uint8Array;
  /** The bytes the maker signed: DER of eSealInfo (GB/T 38540), or of SEQUENCE { eSealInfo, cert, alg } (GM/T 0031). */
  signedBytes: Uint8Array;
  /** The whole seal as read (DER). */
  der: Uint8Array;
}

function parseExtDatas(node: Node | undefined): ExtData[] {
  if (!node) return [];
  return seqOf(node, 'extDatas').map((e) => {
    const items = children(e, 'ExtData', 2, 3);
    const flag = items.length === 3 ? items[1] : undefined;
    if (flag && !(flag instanceof asn1js.Boolean)) throw malformed('ExtData.critical', 'expected a BOOLEAN');
    return {
      extnID: oid(items[0], 'ExtData.extnID'),
      critical: flag instanceof asn1js.Boolean ? flag.getValue() : false,
      extnValue: octets(items[items.length - 1], 'ExtData.extnValue'),
    };
  });
}

function parsePicture(node: Node | undefined): SealPicture {
  const [t, d, w, h] = children(node, 'picture (SES_ESPictrueInfo)', 4);
  return {
    type: ia5(t, 'picture.type'),
    data: octets(d, 'picture.data'),
    width: int(w, 'picture.width'),
    height: int(h, 'picture.height'),
  };
}

function parseProperty(node: Node | undefined, v1: boolean): SealProperty {
  if (v1) {
    // GM/T 0031-2014: type, name, certList (SEQUENCE OF OCTET STRING), three UTCTimes
    const [t, n, list, c, s, e] = children(node, 'property (SES_ESPropertyInfo)', 6);
    return {
      type: int(t, 'property.type'),
      name: utf8(n, 'property.name'),
      certListType: 1,
      certs: seqOf(list, 'property.certList').map((x) => octets(x, 'property.certList entry')),
      certDigests: [],
      createDate: time(c, 'property.createDate', 'utc'),
      validStart: time(s, 'property.validStart', 'utc'),
      validEnd: time(e, 'property.validEnd', 'utc'),
    };
  }
  const [t, n, lt, list, c, s, e] = children(node, 'property (SES_ESPropertyInfo)', 7);
  const certListType = int(lt, 'property.certListType');
  if (certListType !== 1 && certListType !== 2) {
    throw malformed('property.certListType', `must be 1 or 2, is ${certListType}`);
  }
  const entries = seqOf(list, 'property.certList');
  return {
    type: int(t, 'property.type'),
    name: utf8(n, 'property.name'),
    certListType,
    certs: certListType === 1 ? entries.map((x) => octets(x, 'property.certList entry')) : [],
    certDigests:
      certListType === 2
        ? entries.map((x) => {
            const [dt, dv] = children(x, 'CertDigestObj', 2);
            return { type: printable(dt, 'CertDigestObj.type'), value: octets(dv, 'CertDigestObj.value') };
          })
        : [],
    createDate: time(c, 'property.createDate', 'generalized'),
    validStart: time(s, 'property.validStart', 'generalized'),
    validEnd: time(e, 'property.validEnd', 'generalized'),
  };
}

/** Reads the SESeal value `node` (also used for the seal inside an SES_Signature). */
export function sealFromNode(node: Node | undefined): SESeal {
  const top = children(node, 'SESeal', 2, 5);
  const info = children(top[0], 'eSealInfo (SES_SealInfo)', 4, 5);
  const [hid, hver, hvid] = children(info[0], 'header (SES_Header)', 3);
  const header = {
    id: ia5(hid, 'header.id'),
    version: int(hver, 'header.version'),
    vid: ia5(hvid, 'header.vid'),
  };
  if (header.id !== 'ES') throw malformed('header.id', `must be "ES", is "${header.id}"`);
  // GM/T 0031-2014 puts the maker's certificate, algorithm and signature in one SES_SignInfo
  const v1 = top.length === 2;
  if (v1 && header.version >= 4)
    throw malformed('SESeal', `version ${header.version} with the GM/T 0031 layout`);
  if (!v1 && header.version < 4)
    throw malformed('SESeal', `version ${header.version} with the GB/T 38540 layout`);
  const esID = ia5(info[1], 'esID');
  const property = parseProperty(info[2], v1);
  const picture = parsePicture(info[3]);
  const extDatas = parseExtDatas(info[4]);
  const der = rawOf(node!);
  if (v1) {
    const [cert, alg, sig] = children(top[1], 'signInfo (SES_SignInfo)', 3);
    return {
      format: 'GM/T 0031-2014',
      header,
      esID,
      property,
      picture,
      extDatas,
      makerCertificate: octets(cert, 'signInfo.cert'),
      signatureAlgorithm: oid(alg, 'signInfo.signatureAlgorithm'),
      signature: bits(sig, 'signInfo.signData'),
      // GM/T 0031-2014: the maker signs SEQUENCE { eSealInfo, cert, signatureAlgorithm }
      signedBytes: derSequence(rawOf(top[0]!), rawOf(cert!), rawOf(alg!)),
      der,
    };
  }
  if (top.length < 4) throw malformed('SESeal', 'missing cert, signAlgID or signedValue');
  let timeStamp: Uint8Array | undefined;
  if (top[4]) {
    const inner = explicit(top[4], 0);
    if (!inner) throw malformed('SESeal', 'unexpected fifth element (only [0] timeStamp is allowed)');
    timeStamp = bits(inner, 'SESeal.timeStamp');
  }
  return {
    format: 'GB/T 38540-2020',
    header,
    esID,
    property,
    picture,
    extDatas,
    makerCertificate: octets(top[1], 'SESeal.cert'),
    signatureAlgorithm: oid(top[2], 'SESeal.signAlgID'),
    signature: bits(top[3], 'SESeal.signedValue'),
    timeStamp,
    signedBytes: rawOf(top[0]!),
    der,
  };
}

/** Parses an SESeal (DER). Throws SidianError SES_MALFORMED naming the field that is wrong. */
export function parseSeal(der: Uint8Array): SESeal {
  return sealFromNode(decode(der, 'SESeal'));
}

// ---------------------------------------------------------------- making

export interface MakeSealOptions {
  /** The seal maker (制章者): an SM2 signer with the maker's certificate. */
  maker: Signer;
  /** 印章名称 */
  name: string;
  /** 印章类型 (see SEAL_TYPES). */
  type: number;
  /** The holders' (签章者) certificates, DER. */
  holderCertificates: Uint8Array[];
  /** 1 (default): the certificates themselves; 2: their SM3 digests. */
  certListType?: 1 | 2;
  picture: SealPicture;
  validStart: Date;
  validEnd: Date;
  /** Default now. */
  createDate?: Date;
  /** 电子印章标识; default 32 random hex digits. */
  esID?: string;
  /** 厂商标识; default "Sidian". */
  vid?: string;
}

const IA5 = /^[\x00-\x7f]*$/;

function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function badOption(message: string): SidianError {
  return new SidianError('SES_BAD_OPTIONS', message);
}

/** Checks a certificate's DER is readable; returns it. */
function certOrThrow(der: Uint8Array, what: string): Uint8Array {
  try {
    parseCertificate(der);
  } catch (e) {
    throw badOption(`${what} is not a readable X.509 certificate (${(e as Error).message})`);
  }
  return der;
}

/**
 * Makes a GB/T 38540-2020 SESeal (version 4) signed by the maker with SM2 over SM3 on the DER of
 * eSealInfo (§7.1). Throws SES_BAD_OPTIONS for unusable input, SIGNER_FAILED when the maker fails.
 */
export async function makeSeal(options: MakeSealOptions): Promise<Uint8Array> {
  const { maker, picture } = options;
  if (maker.algorithm !== 'SM2') throw badOption('the seal maker must sign with SM2 (GB/T 38540 §5)');
  const name = options.name?.trim();
  if (!name) throw badOption('the seal needs a name');
  if (!Number.isInteger(options.type) || options.type < 1 || options.type > 0x7fffffff) {
    throw badOption('the seal type must be a positive integer');
  }
  const vid = options.vid ?? 'Sidian';
  const esID = options.esID ?? randomHex(16);
  if (!IA5.test(vid) || !IA5.test(esID) || !esID) throw badOption('esID and vid must be ASCII (IA5String)');
  if (!options.holderCertificates?.length) throw badOption('the seal needs at least one holder certificate');
  const holders = options.holderCertificates.map((c, i) => certOrThrow(c, `holder certificate ${i + 1}`));
  certOrThrow(maker.certificate, "the maker's certificate");
  const { validStart, validEnd } = options;
  const createDate = options.createDate ?? new Date();
  for (const [k, d] of [
    ['validStart', validStart],
    ['validEnd', validEnd],
    ['createDate', createDate],
  ] as const) {
    if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw badOption(`${k} is not a date`);
  }
  if (validEnd.getTime() <= validStart.getTime()) throw badOption('validEnd must be after validStart');
  // the maker signs now: its certificate must be valid now (as signPdf requires of a signer)
  const makerCert = parseCertificate(maker.certificate);
  if (createDate > makerCert.notAfter) {
    throw new SidianError(
      'CERT_EXPIRED',
      `the maker's certificate expired on ${makerCert.notAfter.toISOString()}`,
    );
  }
  if (createDate < makerCert.notBefore) {
    throw new SidianError(
      'CERT_NOT_YET_VALID',
      `the maker's certificate is valid from ${makerCert.notBefore.toISOString()}`,
    );
  }
  if (!picture?.data?.length || !picture.type || !IA5.test(picture.type)) {
    throw badOption('the seal needs a picture (type and data)');
  }
  for (const k of ['width', 'height'] as const) {
    if (!Number.isInteger(picture[k]) || picture[k] <= 0 || picture[k] > 1000) {
      throw badOption(`picture ${k} must be a whole number of millimetres (1-1000)`);
    }
  }
  const certListType = options.certListType ?? 1;
  const certList =
    certListType === 1
      ? enc.seq(...holders.map((c) => enc.octets(c)))
      : enc.seq(...holders.map((c) => enc.seq(enc.printable('SM3'), enc.octets(sm3(c)))));
  const sealInfo = enc.seq(
    enc.seq(enc.ia5('ES'), enc.int(4), enc.ia5(vid)),
    enc.ia5(esID),
    enc.seq(
      enc.int(options.type),
      enc.utf8(name),
      enc.int(certListType),
      certList,
      enc.generalized(createDate),
      enc.generalized(validStart),
      enc.generalized(validEnd),
    ),
    enc.seq(
      enc.ia5(picture.type.toUpperCase()),
      enc.octets(picture.data),
      enc.int(picture.width),
      enc.int(picture.height),
    ),
  );
  const tbs = toDer(sealInfo);
  let signature: Uint8Array;
  try {
    signature = await maker.sign(tbs);
  } catch (e) {
    if (e instanceof SidianError) throw e;
    throw new SidianError('SIGNER_FAILED', `the seal maker could not sign: ${(e as Error).message}`);
  }
  return derSequence(
    tbs,
    toDer(enc.octets(maker.certificate)),
    toDer(enc.oid(OID.sm2WithSm3)),
    toDer(enc.bits(signature)),
  );
}

const DIGESTS: Record<string, (b: Uint8Array) => Uint8Array> = { SM3: sm3 };

/**
 * Whether the seal's certificate list (GB/T 38540 §7.1 certList) names `certificate`: the same DER
 * for certListType 1, the same digest for 2 (digest types other than SM3 are not accepted).
 */
export function sealListsCertificate(seal: SESeal, certificate: Uint8Array): boolean {
  if (seal.property.certListType === 1) return seal.property.certs.some((c) => bytesEqual(c, certificate));
  return seal.property.certDigests.some((d) => {
    const f = DIGESTS[d.type.toUpperCase().replace(/[^A-Z0-9]/g, '')];
    return !!f && bytesEqual(f(certificate), d.value);
  });
}
