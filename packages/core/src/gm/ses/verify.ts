/**
 * Verification of electronic seals and signatures (GB/T 38540-2020 §9: 电子印章验证, 电子签章验证).
 * Every failed check is a problem with a stable code, an English and a Chinese message.
 */
import { type CertificateInfo, parseCertificate } from '../../pki/certificate';
import { bytesEqual, toHex } from '../../pki/der';
import { OID } from '../../pki/oids';
import { validatePath } from '../../pki/path';
import { sm2Verify, sm2VerifyRaw } from '../sm2';
import { sm3 } from '../sm3';
import { parseSeal, sealListsCertificate, type SESeal } from './seal';
import { parseSesSignature, type SesSignature } from './signature';

export type SesProblemCode =
  | 'SES_UNSUPPORTED_ALGORITHM'
  | 'SES_MAKER_CERT_MALFORMED'
  | 'SES_MAKER_SIGNATURE_INVALID'
  | 'SES_SEAL_NOT_YET_VALID'
  | 'SES_SEAL_EXPIRED'
  | 'SES_MAKER_UNTRUSTED'
  | 'SES_MAKER_TRUST_UNKNOWN'
  | 'SES_SEAL_REVOKED'
  | 'SES_SEAL_STATUS_UNKNOWN'
  | 'SES_SEAL_UNREGISTERED'
  | 'SES_SEAL_STATUS_UNAVAILABLE'
  | 'SES_SIGNER_CERT_MALFORMED'
  | 'SES_SIGNER_NOT_IN_SEAL'
  | 'SES_SIGNER_CERT_NOT_VALID'
  | 'SES_SIGNER_UNTRUSTED'
  | 'SES_SIGNATURE_INVALID'
  | 'SES_DATA_HASH_MISMATCH'
  | 'SES_DATA_NOT_CHECKED';

export interface SesProblem {
  code: SesProblemCode;
  /** 'invalid' problems make the verdict invalid; 'indeterminate' ones leave it open. */
  severity: 'invalid' | 'indeterminate';
  message: string;
  messageZh: string;
}

/**
 * What a seal registry says of a seal (e.g. the server's seal records). `unknown`: the registry
 * has no record of this seal and cannot say (another maker's seal), the verdict stays open;
 * `unavailable`: it could not be asked (the verdict stays open); `unregistered`: the registry is the
 * complete record of the seals its maker made and this one is not in it (a leaked maker key, a
 * lost record), so the seal is not the maker's word and the verdict is invalid.
 */
export interface SealStatus {
  status: 'good' | 'revoked' | 'unknown' | 'unavailable' | 'unregistered';
  reason?: string;
  revokedAt?: Date;
}

export interface SealVerifyOptions {
  /** Time at which the maker's certificate is validated (default now; for a signature, its time). */
  time?: Date;
  /** Trust anchors for the maker's (and the signer's) certificate; without them trust is unknown. */
  trustAnchors?: (Uint8Array | string)[];
  intermediates?: (Uint8Array | string)[];
  crls?: (Uint8Array | string)[];
  /** Asked for the seal's registration status (revocation); not asked when absent. */
  sealStatus?: (seal: SESeal) => Promise<SealStatus>;
}

export interface SealVerification {
  status: 'valid' | 'invalid' | 'indeterminate';
  trust: 'trusted' | 'untrusted' | 'revoked' | 'unknown';
  seal: SESeal;
  problems: SesProblem[];
}

export interface SesSignatureVerifyOptions extends SealVerifyOptions {
  /** The signed data: its SM3 digest must be the signature's dataHash. */
  data?: Uint8Array;
  /** Or the expected digest itself. */
  dataHash?: Uint8Array;
}

export interface SesSignatureVerification extends SealVerification {
  signature: SesSignature;
}

const problem = (
  code: SesProblemCode,
  severity: SesProblem['severity'],
  message: string,
  messageZh: string,
): SesProblem => ({ code, severity, message, messageZh });

const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');

/** An SM2 signature as DER SEQUENCE { r, s } or, as some vendors write it, raw r || s (64 bytes). */
function sm2Check(cert: CertificateInfo, message: Uint8Array, signature: Uint8Array): boolean {
  const pk = cert.publicKey;
  if (pk.kind !== 'ec') return false;
  if (sm2Verify(pk.point, message, signature)) return true;
  if (signature.length === 64) {
    const big = (b: Uint8Array) => BigInt('0x' + toHex(b));
    try {
      return sm2VerifyRaw(pk.point, message, big(signature.subarray(0, 32)), big(signature.subarray(32)));
    } catch {
      return false;
    }
  }
  return false;
}

function verdict(problems: SesProblem[]): SealVerification['status'] {
  if (problems.some((p) => p.severity === 'invalid')) return 'invalid';
  return problems.length ? 'indeterminate' : 'valid';
}

/**
 * Checks a seal's own evidence: the maker's SM2 signature, the validity period at `validityTime`,
 * the maker's certificate path at `pathTime`, and the registration status.
 */
async function checkSeal(
  seal: SESeal,
  validityTime: Date,
  pathTime: Date,
  options: SealVerifyOptions,
  problems: SesProblem[],
): Promise<SealVerification['trust']> {
  // 1. the algorithm: SM2 with SM3 (GB/T 38540 §5)
  let maker: CertificateInfo | undefined;
  try {
    maker = parseCertificate(seal.makerCertificate);
  } catch (e) {
    problems.push(
      problem(
        'SES_MAKER_CERT_MALFORMED',
        'invalid',
        `the maker's certificate is unreadable (${(e as Error).message})`,
        '制章者证书无法解析',
      ),
    );
  }
  if (seal.signatureAlgorithm !== OID.sm2WithSm3) {
    problems.push(
      problem(
        'SES_UNSUPPORTED_ALGORITHM',
        'invalid',
        `the seal is signed with ${seal.signatureAlgorithm}, not SM2 with SM3`,
        `印章签名算法 ${seal.signatureAlgorithm} 不是 SM2/SM3`,
      ),
    );
  } else if (maker && !sm2Check(maker, seal.signedBytes, seal.signature)) {
    // 2. the maker's signature over eSealInfo (§9.1 b)
    problems.push(
      problem(
        'SES_MAKER_SIGNATURE_INVALID',
        'invalid',
        "the seal maker's signature does not match the seal data (altered or forged seal)",
        '制章者签名与印章数据不符（印章被篡改或伪造）',
      ),
    );
  }
  // 3. the validity period (§9.1 d)
  const { validStart, validEnd } = seal.property;
  if (validityTime.getTime() < validStart.getTime()) {
    problems.push(
      problem(
        'SES_SEAL_NOT_YET_VALID',
        'invalid',
        `the seal is valid from ${iso(validStart)}, not yet at ${iso(validityTime)}`,
        `印章有效期自 ${iso(validStart)} 起，${iso(validityTime)} 时尚未生效`,
      ),
    );
  } else if (validityTime.getTime() > validEnd.getTime()) {
    problems.push(
      problem(
        'SES_SEAL_EXPIRED',
        'invalid',
        `the seal expired at ${iso(validEnd)} (checked at ${iso(validityTime)})`,
        `印章已于 ${iso(validEnd)} 过期（验证时间 ${iso(validityTime)}）`,
      ),
    );
  }
  // 4. the maker's certificate path (§9.1 c)
  let trust: SealVerification['trust'] = 'unknown';
  if (!options.trustAnchors?.length) {
    problems.push(
      problem(
        'SES_MAKER_TRUST_UNKNOWN',
        'indeterminate',
        "no trust anchors were given: the seal maker's certificate was not checked",
        '未提供信任锚，未验证制章者证书',
      ),
    );
  } else if (maker) {
    const path = await validatePath({
      target: seal.makerCertificate,
      trustAnchors: options.trustAnchors,
      intermediates: options.intermediates,
      crls: options.crls,
      time: pathTime,
      purpose: 'any',
    });
    if (path.valid) trust = 'trusted';
    else {
      trust = 'untrusted';
      problems.push(
        problem(
          'SES_MAKER_UNTRUSTED',
          'invalid',
          `the seal maker is not trusted: ${path.reasons.join('; ') || path.problem}`,
          `制章者不受信任：${path.reasons.join('；') || path.problem}`,
        ),
      );
    }
  }
  // 5. registration status (revocation by the seal authority)
  if (options.sealStatus) {
    const st = await options.sealStatus(seal);
    if (st.status === 'revoked') {
      trust = 'revoked';
      const when = st.revokedAt ? ` at ${iso(st.revokedAt)}` : '';
      problems.push(
        problem(
          'SES_SEAL_REVOKED',
          'invalid',
          `the seal was revoked${when}${st.reason ? `: ${st.reason}` : ''}`,
          `印章已注销${st.revokedAt ? `（${iso(st.revokedAt)}）` : ''}${st.reason ? `：${st.reason}` : ''}`,
        ),
      );
    } else if (st.status === 'unregistered') {
      trust = 'untrusted';
      problems.push(
        problem(
          'SES_SEAL_UNREGISTERED',
          'invalid',
          "the seal is not in its maker's registry: the maker never issued it in this form (forged with the maker's key, or its record is lost)",
          '制章者的印章登记中没有此印章：该印章并非制章者按此内容签发（可能以制章者密钥伪造，或登记记录已丢失）',
        ),
      );
    } else if (st.status === 'unknown') {
      problems.push(
        problem(
          'SES_SEAL_STATUS_UNKNOWN',
          'indeterminate',
          'the seal is not registered here',
          '印章未在此登记',
        ),
      );
    } else if (st.status === 'unavailable') {
      problems.push(
        problem(
          'SES_SEAL_STATUS_UNAVAILABLE',
          'indeterminate',
          `the seal registry could not be asked whether the seal was revoked${st.reason ? ` (${st.reason})` : ''}`,
          '无法查询印章登记状态，未能确认印章是否已注销',
        ),
      );
    }
  }
  return trust;
}

/** Verifies an electronic seal (SESeal) at `options.time` (default now). */
export async function verifySeal(
  seal: Uint8Array | SESeal,
  options: SealVerifyOptions = {},
): Promise<SealVerification> {
  const parsed = seal instanceof Uint8Array ? parseSeal(seal) : seal;
  const time = options.time ?? new Date();
  const problems: SesProblem[] = [];
  const trust = await checkSeal(parsed, time, time, options, problems);
  return { status: verdict(problems), trust, seal: parsed, problems };
}

/**
 * Verifies an electronic signature (SES_Signature, GB/T 38540 §9.2): the seal (at the signing
 * time), the signer's certificate in the seal's list and valid at the signing time, the data
 * hash, and the signer's SM2 signature over toSign. Certificate paths are validated at
 * `options.time`, by default the signing time.
 */
export async function verifySesSignature(
  signature: Uint8Array | SesSignature,
  options: SesSignatureVerifyOptions = {},
): Promise<SesSignatureVerification> {
  const sig = signature instanceof Uint8Array ? parseSesSignature(signature) : signature;
  const problems: SesProblem[] = [];
  const signingTime = sig.time ?? options.time ?? new Date();
  const pathTime = options.time ?? signingTime;
  const trust = await checkSeal(sig.seal, signingTime, pathTime, options, problems);

  let signer: CertificateInfo | undefined;
  try {
    signer = parseCertificate(sig.signerCertificate);
  } catch (e) {
    problems.push(
      problem(
        'SES_SIGNER_CERT_MALFORMED',
        'invalid',
        `the signer's certificate is unreadable (${(e as Error).message})`,
        '签章者证书无法解析',
      ),
    );
  }
  // the signer must be one of the seal's holders (§9.2 c)
  if (!sealListsCertificate(sig.seal, sig.signerCertificate)) {
    problems.push(
      problem(
        'SES_SIGNER_NOT_IN_SEAL',
        'invalid',
        "the signer's certificate is not in the seal's certificate list",
        '签章者证书不在印章的签章者证书列表中',
      ),
    );
  }
  if (signer && (signingTime < signer.notBefore || signingTime > signer.notAfter)) {
    problems.push(
      problem(
        'SES_SIGNER_CERT_NOT_VALID',
        'invalid',
        `the signer's certificate was not valid at the signing time ${iso(signingTime)}`,
        `签章时间 ${iso(signingTime)} 不在签章者证书有效期内`,
      ),
    );
  }
  // the signer's signature over toSign (§9.2 a)
  if (sig.signatureAlgorithm !== OID.sm2WithSm3) {
    problems.push(
      problem(
        'SES_UNSUPPORTED_ALGORITHM',
        'invalid',
        `the signature uses ${sig.signatureAlgorithm}, not SM2 with SM3`,
        `签章签名算法 ${sig.signatureAlgorithm} 不是 SM2/SM3`,
      ),
    );
  } else if (signer && !sm2Check(signer, sig.signedBytes, sig.signature)) {
    problems.push(
      problem(
        'SES_SIGNATURE_INVALID',
        'invalid',
        "the signer's signature does not match the signed fields",
        '签章者签名值与签章数据不符',
      ),
    );
  }
  // the data hash (§9.2 b)
  const expected = options.dataHash ?? (options.data ? sm3(options.data) : undefined);
  if (!expected) {
    problems.push(
      problem(
        'SES_DATA_NOT_CHECKED',
        'indeterminate',
        'the signed data was not given: its hash was not compared',
        '未提供原文，未比对原文杂凑值',
      ),
    );
  } else if (!bytesEqual(expected, sig.dataHash)) {
    problems.push(
      problem(
        'SES_DATA_HASH_MISMATCH',
        'invalid',
        'the signed data does not match the signature (dataHash differs)',
        '原文杂凑值不符，原文已被修改',
      ),
    );
  }
  // the signer's certificate path, when anchors are given
  if (signer && options.trustAnchors?.length) {
    const path = await validatePath({
      target: sig.signerCertificate,
      trustAnchors: options.trustAnchors,
      intermediates: options.intermediates,
      crls: options.crls,
      time: pathTime,
      purpose: 'any',
    });
    if (!path.valid) {
      problems.push(
        problem(
          'SES_SIGNER_UNTRUSTED',
          'invalid',
          `the signer's certificate is not trusted: ${path.reasons.join('; ') || path.problem}`,
          `签章者证书不受信任：${path.reasons.join('；') || path.problem}`,
        ),
      );
    }
  }
  return { status: verdict(problems), trust, seal: sig.seal, signature: sig, problems };
}
