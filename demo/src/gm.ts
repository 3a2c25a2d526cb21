/**
 * 国密 mode of the demo: the applicant's key is an SM2 key kept encrypted in IndexedDB
 * (Sm2KeyStore: AES-GCM under a non-extractable WebCrypto key), and the elements take its Signer
 * exactly as they take a WebCrypto one. The switch is remembered in localStorage (a flag, no key).
 */
import { Sm2KeyStore, type CsrSubject, type Signer } from '../../packages/elements/src/sidian';

const FLAG = 'sidian-demo-gm';
const STORE = 'sidian-demo-sm2';

export const gmMode = (): boolean => localStorage.getItem(FLAG) === '1';
export const setGmMode = (on: boolean): void => localStorage.setItem(FLAG, on ? '1' : '0');

let storePromise: Promise<Sm2KeyStore> | undefined;
const store = () => (storePromise ??= Sm2KeyStore.open(STORE));

export interface Sm2Certified {
  signer: Signer;
  /** Where the certificate came from, for the status line. */
  source: 'self-signed' | 'server';
  serial: string;
}

/**
 * THE ONE PLACE that certifies an SM2 key. Today the server's CA issues ECDSA/RSA certificates
 * only (POST /api/enrol answers CSR_KEY_UNSUPPORTED for SM2), so the key certifies itself: the
 * signature verifies (SM2-SM3) but is not trusted. When the server enrols SM2 requests, replace
 * the body with:
 *
 *   const csr = await s.certificationRequest(label, subject);
 *   const res = await api.enrol(token, certificationRequestPem(csr));
 *   await s.setCertificate(label, pemToDer(res.certificate), res.chain.map(pemToDer));
 *   return { signer: await s.signer(label), source: 'server', serial: res.serialNumber };
 */
async function certify(
  s: Sm2KeyStore,
  label: string,
  subject: CsrSubject,
  token: string,
): Promise<Sm2Certified> {
  void token; // for api.enrol, see above
  const certificate = await s.selfSignedCertificate(label, subject, 365);
  await s.setCertificate(label, certificate, []);
  return { signer: await s.signer(label), source: 'self-signed', serial: '—' };
}

/** The applicant's SM2 key (made once, kept encrypted in IndexedDB) with a certificate. */
export async function citizenSm2Signer(name: string, token: string): Promise<Sm2Certified> {
  const s = await store();
  const label = 'citizen';
  const existing = await s.load(label);
  if (!existing) await s.create(label);
  if (existing?.certificate) return { signer: await s.signer(label), source: 'self-signed', serial: '—' };
  return certify(s, label, { commonName: name }, token);
}

/** Forgets the demo's SM2 keys (the 重置演示 button). */
export async function resetGm(): Promise<void> {
  const s = await store();
  for (const k of await s.list()) await s.delete(k.label);
}
