/**
 * PKCS#10 certification requests (RFC 2986) for keys that stay in WebCrypto: the browser makes a
 * key pair (private key non-extractable), sends the CSR to the enrolment service (POST /api/enrol)
 * and gets its certificate back. The CSR's signature is the proof of possession of the key.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { SidianError } from '../errors';

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
