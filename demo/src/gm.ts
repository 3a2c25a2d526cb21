/**
 * 国密 mode of the demo: the applicant's and the department's keys are SM2 keys kept encrypted in
 * IndexedDB (Sm2KeyStore: AES-GCM under a non-extractable WebCrypto key), certified by the
 * server's SM2 CA (POST /api/enrol), and the elements take their Signers exactly as they take
 * WebCrypto ones. The switch is remembered in localStorage (a flag, no key).
 */
import {
  certificationRequestPem,
  Sm2KeyStore,
  type CsrSubject,
  type Signer,
} from '../../packages/elements/src/sidian';
import { ApiError, pemToDer } from './api';

const FLAG = 'sidian-demo-gm';
const STORE = 'sidian-demo-sm2';

export const gmMode = (): boolean => localStorage.getItem(FLAG) === '1';
export const setGmMode = (on: boolean): void => localStorage.setItem(FLAG, on ? '1' : '0');

let storePromise: Promise<Sm2KeyStore> | undefined;
const store = () => (storePromise ??= Sm2KeyStore.open(STORE));

export interface Sm2Certified {
  signer: Signer;
  /** Where the certificate came from, for the status line. */
  source: 'server';
  serial: string;
}

/** Who asks the server's CA: the applicant (portal token) or the department (its API key). */
type Credential = { token: string } | { apiKey: string };

/**
 * THE ONE PLACE that certifies an SM2 key: its CSR (SM2-with-SM3 over the default ID, GM/T 0015)
 * goes to POST /api/enrol, which answers the certificate from the server's SM2 CA and its chain.
 * The certificate's names come from the credential (the token's person, the API key's department).
 */
async function certify(
  s: Sm2KeyStore,
  label: string,
  subject: CsrSubject,
  who: Credential,
): Promise<Sm2Certified> {
  const csr = await s.certificationRequest(label, subject);
  const res = await fetch('/api/enrol', {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'content-type': 'application/json',
      ...('token' in who ? { authorization: `Bearer ${who.token}` } : { 'x-api-key': who.apiKey }),
    },
    body: JSON.stringify({ csr: certificationRequestPem(csr) }),
  });
  const body = (await res.json()) as {
    serialNumber: string;
    certificate: string;
    chain: string[];
    error?: string;
    message?: string;
  };
  if (!res.ok) throw new ApiError(res.status, body.error ?? `HTTP_${res.status}`, body.message ?? '');
  await s.setCertificate(label, pemToDer(body.certificate), body.chain.map(pemToDer));
  localStorage.setItem(`${STORE}-serial-${label}`, body.serialNumber);
  return { signer: await s.signer(label), source: 'server', serial: body.serialNumber };
}

/** The SM2 key under `label` (made once, kept encrypted in IndexedDB) with its server certificate. */
async function certified(label: string, subject: CsrSubject, who: Credential): Promise<Sm2Certified> {
  const s = await store();
  const existing = await s.load(label);
  if (!existing) await s.create(label);
  const serial = localStorage.getItem(`${STORE}-serial-${label}`);
  if (existing?.certificate && serial) return { signer: await s.signer(label), source: 'server', serial };
  return certify(s, label, subject, who);
}

/** The applicant's SM2 key, certified through the portal token. */
export const citizenSm2Signer = (name: string, token: string): Promise<Sm2Certified> =>
  certified('citizen', { commonName: name }, { token });

/** The department's SM2 seal key, certified through its API key (the certificate names the department). */
export const departmentSm2Signer = (name: string, apiKey: string): Promise<Sm2Certified> =>
  certified('department', { commonName: name, organization: name }, { apiKey });

/** Forgets the demo's SM2 keys (the 重置演示 button). */
export async function resetGm(): Promise<void> {
  const s = await store();
  for (const k of await s.list()) {
    await s.delete(k.label);
    localStorage.removeItem(`${STORE}-serial-${k.label}`);
  }
}
