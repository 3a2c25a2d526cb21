/**
 * 电子签章数据 (SES_Signature): GB/T 38540-2020 §8 (version 4, ofdrw's 5) and GM/T 0031-2014
 * (version 1). Reads all, makes version 4 with a seal of version 4.
 */
import * as asn1js from 'asn1js';
import { SidianError } from '../../errors';
import { parseCertificate } from '../../pki/certificate';
import { derSequence } from '../../pki/der';
import { OID } from '../../pki/oids';
import type { Signer } from '../../signer/types';
import { sm3 } from '../sm3';
import { bits, children, decode, enc, explicit, ia5, int, octets, oid, rawOf, time, toDer } from './asn1';
import { parseSeal, sealFromNode, sealListsCertificate, type SESeal, type SesFormat } from './seal';

export interface SesSignature {
  format: SesFormat;
  version: number;
  seal: SESeal;
  /** 签章时间: GeneralizedTime (GB/T 38540); for GM/T 0031, the UTCTime inside timeInfo when it is one. */
  time: Date | null;
  /** GM/T 0031 timeInfo bytes as carried (a UTCTime DER or a time-stamp). */
  timeInfoRaw?: Uint8Array;
  /** 原文杂凑值 */
  dataHash: Uint8Array;
  /** 原文属性 */
  propertyInfo: string;
  /** 签章者证书 (DER). */
  signerCertificate: Uint8Array;
  signatureAlgorithm: string;
  signature: Uint8Array;
  /** RFC 3161 time-stamp over the signature, as carried (not interpreted here). */
  timeStamp?: Uint8Array;
  /** The bytes the signer signed: DER of toSign (TBS_Sign). */
  signedBytes: Uint8Array;
  der: Uint8Array;
}

/** Parses an SES_Signature (DER). Throws SES_MALFORMED naming the wrong field. */
export function parseSesSignature(der: Uint8Array): SesSignature {
  const root = decode(der, 'SES_Signature');
  const top = children(root, 'SES_Signature', 2, 5);
  if (top.length === 2) {
    // GM/T 0031-2014: toSign carries the signer's certificate and algorithm
    const t = children(top[0], 'toSign (TBS_Sign)', 7);
    const seal = sealFromNode(t[1]);
    const timeInfoRaw = bits(t[2], 'toSign.timeInfo');
    let when: Date | null = null;
    try {
      const n = decode(timeInfoRaw, 'timeInfo');
      if (n instanceof asn1js.UTCTime || n instanceof asn1js.GeneralizedTime) when = n.toDate();
    } catch {
      when = null; // a time-stamp token or another form: kept raw
    }
    return {
      format: 'GM/T 0031-2014',
      version: int(t[0], 'toSign.version'),
      seal,
      time: when,
      timeInfoRaw,
      dataHash: bits(t[3], 'toSign.dataHash'),
      propertyInfo: ia5(t[4], 'toSign.propertyInfo'),
      signerCertificate: octets(t[5], 'toSign.cert'),
      signatureAlgorithm: oid(t[6], 'toSign.signatureAlgorithm'),
      signature: bits(top[1], 'SES_Signature.signature'),
      signedBytes: rawOf(top[0]!),
      der: rawOf(root),
    };
  }
  if (top.length < 4) throw new SidianError('SES_MALFORMED', 'SES_Signature: expected 4 or 5 elements');
  const t = children(top[0], 'toSign (TBS_Sign)', 5, 6);
  let timeStamp: Uint8Array | undefined;
  if (top[4]) {
    const inner = explicit(top[4], 0);
    if (!inner) throw new SidianError('SES_MALFORMED', 'SES_Signature: unexpected fifth element');
    timeStamp = bits(inner, 'SES_Signature.timeStamp');
  }
  return {
    format: 'GB/T 38540-2020',
    version: int(t[0], 'toSign.version'),
    seal: sealFromNode(t[1]),
    time: time(t[2], 'toSign.timeInfo', 'generalized'),
    dataHash: bits(t[3], 'toSign.dataHash'),
    propertyInfo: ia5(t[4], 'toSign.propertyInfo'),
    signerCertificate: octets(top[1], 'SES_Signature.cert'),
    signatureAlgorithm: oid(top[2], 'SES_Signature.signatureAlgID'),
    signature: bits(top[3], 'SES_Signature.signature'),
    timeStamp,
    signedBytes: rawOf(top[0]!),
    der: rawOf(root),
  };
}

export interface MakeSesSignatureOptions {
  /** The seal (DER SESeal, GB/T 38540 version 4). */
  seal: Uint8Array;
  /** The holder's SM2 signer; its certificate must be in the seal's list. */
  signer: Signer;
  /** The signed data (its SM3 digest becomes dataHash), or `dataHash` directly. */
  data?: Uint8Array;
  dataHash?: Uint8Array;
  /** 原文属性, e.g. the path or name of the signed document. */
  propertyInfo: string;
  /** 签章时间; default now. */
  time?: Date;
}

/**
 * Makes an SES_Signature (GB/T 38540-2020 §8.1, version 4): the signer signs the DER of toSign with
 * SM2 over SM3. Throws SES_BAD_OPTIONS for unusable input (an older seal, a signer outside the
 * seal's list, no data), SIGNER_FAILED when the signer fails.
 */
export async function makeSesSignature(options: MakeSesSignatureOptions): Promise<Uint8Array> {
  const { signer } = options;
  const seal = parseSeal(options.seal);
  if (seal.format !== 'GB/T 38540-2020') {
    throw new SidianError(
      'SES_BAD_OPTIONS',
      'only GB/T 38540 seals (version 4 or later) can make new signatures',
    );
  }
  if (signer.algorithm !== 'SM2') throw new SidianError('SES_BAD_OPTIONS', 'the signer must sign with SM2');
  if (!sealListsCertificate(seal, signer.certificate)) {
    throw new SidianError(
      'SES_BAD_OPTIONS',
      "the signer's certificate is not in the seal's certificate list",
    );
  }
  try {
    parseCertificate(signer.certificate);
  } catch (e) {
    throw new SidianError(
      'SES_BAD_OPTIONS',
      `the signer's certificate is unreadable (${(e as Error).message})`,
    );
  }
  const when = options.time ?? new Date();
  if (when < seal.property.validStart || when > seal.property.validEnd) {
    throw new SidianError(
      'SES_BAD_OPTIONS',
      `the seal is not valid at ${when.toISOString()} (valid ${seal.property.validStart.toISOString()} to ${seal.property.validEnd.toISOString()})`,
    );
  }
  const dataHash = options.dataHash ?? (options.data ? sm3(options.data) : undefined);
  if (!dataHash || dataHash.length !== 32) {
    throw new SidianError('SES_BAD_OPTIONS', 'give the signed data or its 32-byte SM3 digest');
  }
  if (!/^[\x00-\x7f]*$/.test(options.propertyInfo ?? '')) {
    throw new SidianError('SES_BAD_OPTIONS', 'propertyInfo must be ASCII (IA5String)');
  }
  const tbs = derSequence(
    toDer(enc.int(seal.header.version)),
    seal.der,
    toDer(enc.generalized(when)),
    toDer(enc.bits(dataHash)),
    toDer(enc.ia5(options.propertyInfo ?? '')),
  );
  let signature: Uint8Array;
  try {
    signature = await signer.sign(tbs);
  } catch (e) {
    if (e instanceof SidianError) throw e;
    throw new SidianError('SIGNER_FAILED', `the signer could not sign: ${(e as Error).message}`);
  }
  return derSequence(
    tbs,
    toDer(enc.octets(signer.certificate)),
    toDer(enc.oid(OID.sm2WithSm3)),
    toDer(enc.bits(signature)),
  );
}
