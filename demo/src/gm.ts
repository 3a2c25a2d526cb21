/**
 * 国密 mode of the demo: the applicant's and the department's keys are SM2 keys kept encrypted in
 * IndexedDB (Sm2KeyStore: AES-GCM under a non-extractable WebCrypto key), certified by the
 * server's SM2 CA (POST /api/enrol), and the elements take their Signers exactly as they take
 * WebCrypto ones. The switch is remembered in localStorage (a flag, no key).
 */
import {
  certificationRequestPem,
  parseSeal,
  sealListsCertificate,
  Sm2KeyStore,
  type CsrSubject,
  type Signer,
} from '../../packages/elements/src/sidian';
import { parseCertificate } from '../../packages/core/src/pki/certificate';
import { ApiError, base64ToBytes, bytesToBase64, pemToDer } from './api';

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

/** What the demo keeps of the department's GB/T 38540 seal: its esID, for the key it was made for. */
interface KeptSeal {
  esID: string;
  /** The serial of the certificate the seal lists (a new key or certificate needs a new seal). */
  serial: string;
}

export interface GbSealRequest {
  apiKey: string;
  /** 印章名称, e.g. 项城市市场监督管理局行政审批专用章. */
  name: string;
  /** 印章类型 (GB/T 38540 SEAL_TYPES: 1 单位印章, 2 个人印章, 3 业务专用章). */
  type: number;
  /** The seal's picture (PNG): the appearance of every seal made with it. */
  picture: Uint8Array;
  /** The picture's size in millimetres. */
  size: number;
}

/**
 * The department's GB/T 38540 electronic seal (印章数据 SESeal, DER) for its SM2 seal key: made by
 * the server's seal authority (POST /api/seals) the first time, kept by esID and fetched again
 * (GET /api/seals/:esID) after. A kept seal is used only while the registry says it is valid and it
 * still lists this key's certificate (GB/T 38540 §5); otherwise (revoked, expired, a new key, a new
 * server) the department gets a new one.
 */
export async function departmentGbSeal(sm2: Sm2Certified, req: GbSealRequest): Promise<Uint8Array> {
  const keyName = `${STORE}-seal-department`;
  const kept = JSON.parse(localStorage.getItem(keyName) ?? 'null') as KeptSeal | null;
  if (kept?.serial === sm2.serial) {
    const res = await fetch(`/api/seals/${encodeURIComponent(kept.esID)}`);
    if (res.ok) {
      const row = (await res.json()) as { status: string; seal: string };
      const der = base64ToBytes(row.seal);
      if (row.status === 'valid' && sealListsCertificate(parseSeal(der), sm2.signer.certificate)) return der;
    } else if (res.status !== 404) {
      const e = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
      throw new ApiError(res.status, e.error ?? `HTTP_${res.status}`, e.message ?? '');
    }
  }
  // valid until the certificate expires: a seal outliving its holder's certificate is refused
  const cert = parseCertificate(sm2.signer.certificate);
  const res = await fetch('/api/seals', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-api-key': req.apiKey },
    body: JSON.stringify({
      certificate: bytesToBase64(sm2.signer.certificate),
      chain: sm2.signer.chain.map(bytesToBase64),
      picture: bytesToBase64(req.picture),
      name: req.name,
      type: req.type,
      width: req.size,
      height: req.size,
      validEnd: cert.notAfter.toISOString(),
    }),
  });
  const body = (await res.json()) as { esID: string; seal: string; error?: string; message?: string };
  if (!res.ok) throw new ApiError(res.status, body.error ?? `HTTP_${res.status}`, body.message ?? '');
  localStorage.setItem(keyName, JSON.stringify({ esID: body.esID, serial: sm2.serial } satisfies KeptSeal));
  return base64ToBytes(body.seal);
}

/** Forgets the demo's SM2 keys and the department's seal (the 重置演示 button). */
export async function resetGm(): Promise<void> {
  const s = await store();
  for (const k of await s.list()) {
    await s.delete(k.label);
    localStorage.removeItem(`${STORE}-serial-${k.label}`);
  }
  localStorage.removeItem(`${STORE}-seal-department`);
}
