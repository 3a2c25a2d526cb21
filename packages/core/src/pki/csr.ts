/**
 * PKCS#10 certification requests (RFC 2986) for keys that stay in WebCrypto: the browser makes a
 * key pair (private key non-extractable), sends the CSR to the enrolment service (POST /api/enrol)
 * and gets its certificate back. The CSR's signature is the proof of possession of the key.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { SidianError } from '../errors';
import { sm2PrivateKeyFromDer, sm2PublicKey, sm2Sign } from '../gm/sm2';
import { OID } from './oids';

export interface CsrSubject {
  /** CN: the person's or organisation's name. */
  commonName: string;
  /** C (default CN). */
  country?: string;
  /** O, when the key acts for an organisation. */
  organization?: string;
}

/** DER of a PKCS#10 request for `publicKey`, signed with `privateKey` (ECDSA P-256/P-384 or RSA). */
export async function createCertificationRequest(
  keys: { privateKey: CryptoKey; publicKey: CryptoKey },
  subject: CsrSubject,
): Promise<Uint8Array> {
  const csr = unsignedRequest(subject);
  const alg = privateKeyHash(keys.privateKey);
  try {
    await csr.subjectPublicKeyInfo.importKey(keys.publicKey);
    await csr.sign(keys.privateKey, alg);
  } catch (e) {
    throw new SidianError(
      'KEY_UNSUPPORTED',
      `cannot make a certification request with this key: ${(e as Error).message ?? String(e)}`,
    );
  }
  return new Uint8Array(csr.toSchema(true).toBER(false));
}

function unsignedRequest(subject: CsrSubject): pkijs.CertificationRequest {
  if (!subject.commonName?.trim())
    throw new SidianError('SIGN_BAD_OPTIONS', 'the certification request needs a subject common name');
  const csr = new pkijs.CertificationRequest();
  csr.version = 0;
  const rdn = (type: string, value: asn1js.BaseStringBlock) =>
    csr.subject.typesAndValues.push(new pkijs.AttributeTypeAndValue({ type, value }));
  rdn('2.5.4.6', new asn1js.PrintableString({ value: subject.country ?? 'CN' }));
  if (subject.organization) rdn('2.5.4.10', new asn1js.Utf8String({ value: subject.organization }));
  rdn('2.5.4.3', new asn1js.Utf8String({ value: subject.commonName.trim() }));
  csr.attributes = [];
  return csr;
}

/**
 * DER of a PKCS#10 request for an SM2 key (国密; the key as 32 raw bytes, PKCS#8 or SEC1 DER, or a
 * createSm2Key() pair), signed with SM2-with-SM3 (GM/T 0006 1.2.156.10197.1.501) over Z with the
 * default identifier 1234567812345678 (GM/T 0009 §10): the proof of possession the enrolment CA
 * checks. Throws KEY_UNSUPPORTED, SIGN_BAD_OPTIONS.
 */
export function createSm2CertificationRequest(
  privateKey: Uint8Array | { privateKey: Uint8Array },
  subject: CsrSubject,
): Uint8Array {
  const d = sm2PrivateKeyFromDer(privateKey instanceof Uint8Array ? privateKey : privateKey.privateKey);
  const publicKey = sm2PublicKey(d);
  const csr = unsignedRequest(subject);
  // SubjectPublicKeyInfo: id-ecPublicKey with the SM2 curve (GM/T 0015 §7.2, as OpenSSL 3 writes it)
  csr.subjectPublicKeyInfo = new pkijs.PublicKeyInfo({
    algorithm: new pkijs.AlgorithmIdentifier({
      algorithmId: OID.ecPublicKey,
      algorithmParams: new asn1js.ObjectIdentifier({ value: OID.sm2Curve }),
    }),
    subjectPublicKey: new asn1js.BitString({ valueHex: publicKey }),
  });
  csr.signatureAlgorithm = new pkijs.AlgorithmIdentifier({ algorithmId: OID.sm2WithSm3 });
  const tbs = new Uint8Array((csr as unknown as { encodeTBS(): asn1js.Sequence }).encodeTBS().toBER(false));
  csr.signatureValue = new asn1js.BitString({ valueHex: sm2Sign(d, tbs, { publicKey }) });
  return new Uint8Array(csr.toSchema(true).toBER(false));
}

/** The digest the request is signed with: the curve's for ECDSA, the key's own for RSA. */
function privateKeyHash(key: CryptoKey): string {
  const a = key.algorithm as EcKeyAlgorithm & RsaHashedKeyAlgorithm;
  if (a.name === 'ECDSA')
    return a.namedCurve === 'P-384' ? 'SHA-384' : a.namedCurve === 'P-521' ? 'SHA-512' : 'SHA-256';
  if (a.hash?.name) return a.hash.name;
  return 'SHA-256';
}

/** PEM text of a DER certification request. */
export function certificationRequestPem(der: Uint8Array): string {
  let bin = '';
  for (const b of der) bin += String.fromCharCode(b);
  const b64 = btoa(bin).replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64}-----END CERTIFICATE REQUEST-----\n`;
}
