/**
 * The operator's own PKI for production (docs/production.md): the enrolment CA, the TSA and the
 * department's seal, each as a PKCS#12 file, a PEM key + certificate, or a key in an HSM reached
 * through PKCS#11. Passwords and the PIN come from the environment or from files, never from the
 * command line (where `ps` and shell histories show them). Production never invents a PKI: without
 * this configuration the server refuses to start.
 */
import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import { sm2PrivateKeyFromDer, sm2PublicKey, sm2Verify } from '../../../packages/core/src/gm/sm2';
import { parseCertificate } from '../../../packages/core/src/pki/certificate';
import { bytesEqual, parseDer } from '../../../packages/core/src/pki/der';
import { parsePkcs12 } from '../../../packages/core/src/pki/pkcs12';
import type { Credential, ServerPki } from './dev-pki';
import { OID_TIME_STAMPING } from './dev-pki';
import { Pkcs11Token, PkiConfigError, type Pkcs11Config } from './pkcs11';
import { EC_P256, ECDSA_SHA256, fromPem, importEcPrivateKey, sm2PrivateKey, subtle, x509 } from './x509';

export { PkiConfigError };

export type Role = 'ca' | 'tsa' | 'seal';
export const ROLES: Role[] = ['ca', 'tsa', 'seal'];

export type KeySource =
  /** PKCS#12 (as OpenSSL 3 writes it): key, certificate and chain in one file. */
  | { kind: 'p12'; file: string; password: string; certFile?: string }
  /** PEM private key (PKCS#8 or SEC1, encrypted or not) and a PEM certificate (its chain after it). */
  | { kind: 'pem'; keyFile: string; certFile: string; password?: string }
  /** A private key on the PKCS#11 token, by CKA_LABEL, and its PEM certificate. */
  | { kind: 'pkcs11'; label: string; certFile: string };

export interface OperatorPkiConfig {
  ca: KeySource;
  tsa: KeySource;
  seal: KeySource;
  pkcs11?: Pkcs11Config;
  /** More trust anchors (PEM), e.g. the root above an intermediate enrolment CA. */
  trustFile?: string;
  /**
   * The 国密 CA (SM2 key; PKCS#12 or PEM, not PKCS#11) and, optionally, the SM2 TSA: from
   * SIDIAN_CA_SM2_* and SIDIAN_TSA_SM2_*. Without it the server enrols no SM2 CSRs.
   */
  sm2?: { ca: KeySource; tsa?: KeySource };
}

const ENV_NAME: Record<Role, string> = { ca: 'SIDIAN_CA', tsa: 'SIDIAN_TSA', seal: 'SIDIAN_SEAL' };
const ROLE_NAME: Record<Role, string> = { ca: 'CA (证书签发)', tsa: 'TSA (时间戳)', seal: 'seal (印章)' };

type Env = Record<string, string | undefined>;
const nonEmpty = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);

/** A secret from `NAME` or the file named by `NAME_FILE` (one trailing line end removed). */
function secret(env: Env, name: string): string | undefined {
  const file = nonEmpty(env[`${name}_FILE`]);
  if (file) {
    checkPrivate(file);
    return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  }
  return env[name];
}

/** Keys, PKCS#12 files and password files must not be readable by everyone (like ssh's key check). */
function checkPrivate(file: string): void {
  let mode: number;
  try {
    mode = fs.statSync(file).mode;
  } catch (e) {
    throw new PkiConfigError('PKI_FILE', `cannot read ${file}: ${(e as Error).message}`);
  }
  if (mode & 0o004)
    throw new PkiConfigError(
      'PKI_FILE_MODE',
      `${file} is readable by every user; chmod 600 it (私钥和口令文件不得对所有用户可读)`,
    );
}

function keySourceFromEnv(env: Env, role: Role, p: string = ENV_NAME[role]): KeySource | undefined {
  const p12 = nonEmpty(env[`${p}_P12`]);
  const key = nonEmpty(env[`${p}_KEY`]);
  const label = nonEmpty(env[`${p}_PKCS11_LABEL`]);
  const cert = nonEmpty(env[`${p}_CERT`]);
  const given = [p12, key, label].filter(Boolean).length;
  if (given === 0) return undefined;
  if (given > 1)
    throw new PkiConfigError('PKI_CONFIG', `set only one of ${p}_P12, ${p}_KEY and ${p}_PKCS11_LABEL`);
  const password = secret(env, `${p}_PASSWORD`);
  if (p12) {
    if (password === undefined)
      throw new PkiConfigError(
        'PKI_CONFIG',
        `${p}_P12 needs its password in ${p}_PASSWORD_FILE (or ${p}_PASSWORD)`,
      );
    return { kind: 'p12', file: p12, password, certFile: cert };
  }
  if (!cert)
    throw new PkiConfigError('PKI_CONFIG', `${p}_${key ? 'KEY' : 'PKCS11_LABEL'} needs ${p}_CERT (PEM)`);
  if (key) return { kind: 'pem', keyFile: key, certFile: cert, password };
  return { kind: 'pkcs11', label: label!, certFile: cert };
}

/**
 * The operator PKI named by the environment (see docs/production.md for the names), or undefined
 * when none of it is set. A partial configuration is an error naming what is missing.
 */
export function operatorPkiFromEnv(env: Env = process.env): OperatorPkiConfig | undefined {
  const sources = Object.fromEntries(ROLES.map((r) => [r, keySourceFromEnv(env, r)])) as Record<
    Role,
    KeySource | undefined
  >;
  const missing = ROLES.filter((r) => !sources[r]);
  if (missing.length === ROLES.length) return undefined;
  if (missing.length) throw missingPki(missing);
  const c: OperatorPkiConfig = { ca: sources.ca!, tsa: sources.tsa!, seal: sources.seal! };
  if (ROLES.some((r) => sources[r]!.kind === 'pkcs11')) {
    const module = nonEmpty(env.SIDIAN_PKCS11_MODULE);
    const pin = secret(env, 'SIDIAN_PKCS11_PIN');
    if (!module || pin === undefined)
      throw new PkiConfigError(
        'PKI_CONFIG',
        'keys on a PKCS#11 token need SIDIAN_PKCS11_MODULE and the PIN in SIDIAN_PKCS11_PIN_FILE (or SIDIAN_PKCS11_PIN)',
      );
    c.pkcs11 = { module, token: nonEmpty(env.SIDIAN_PKCS11_TOKEN), pin };
  }
  c.trustFile = nonEmpty(env.SIDIAN_TRUST_ANCHORS);
  const sm2Ca = keySourceFromEnv(env, 'ca', 'SIDIAN_CA_SM2');
  const sm2Tsa = keySourceFromEnv(env, 'tsa', 'SIDIAN_TSA_SM2');
  if (sm2Tsa && !sm2Ca)
    throw new PkiConfigError('PKI_CONFIG', 'SIDIAN_TSA_SM2_* needs the SM2 CA too (SIDIAN_CA_SM2_*)');
  if (sm2Ca) c.sm2 = { ca: sm2Ca, tsa: sm2Tsa };
  return c;
}

export function missingPki(missing: Role[] = ROLES): PkiConfigError {
  return new PkiConfigError(
    'PKI_MISSING',
    `生产模式不会自行生成 PKI，请提供运营方的 CA、时间戳 (TSA) 和印章密钥；缺少: ${missing.map((r) => ROLE_NAME[r]).join(', ')}。` +
      ` / Production never invents a PKI: provide the operator's CA, TSA and seal keys; missing: ${missing.join(', ')}` +
      ` (for each, ${missing.map((r) => ENV_NAME[r]).join('_*, ')}_*: _P12 + _PASSWORD_FILE, or _KEY + _CERT, or _PKCS11_LABEL + _CERT;` +
      ' see docs/production.md). For development: sidian serve --dev.',
  );
}

function readCertificates(file: string, role: Role): Uint8Array[] {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new PkiConfigError('PKI_FILE', `${role}: cannot read ${file}: ${(e as Error).message}`);
  }
  const certs = fromPem(pem, 'CERTIFICATE');
  if (!certs.length) throw new PkiConfigError('PKI_FILE', `${role}: no PEM CERTIFICATE in ${file}`);
  return certs;
}

async function importPkcs8(pkcs8: Uint8Array, role: Role): Promise<CryptoKey> {
  try {
    return await importEcPrivateKey(pkcs8);
  } catch {
    throw new PkiConfigError('PKI_KEY_UNSUPPORTED', `${role}: the key must be ECDSA P-256`);
  } finally {
    pkcs8.fill(0);
  }
}

interface Loaded extends Credential {
  chain: Uint8Array[];
}

async function loadSource(role: Role, s: KeySource, token: Pkcs11Token | undefined): Promise<Loaded> {
  let key: CryptoKey;
  let certs: Uint8Array[];
  if (s.kind === 'p12') {
    checkPrivate(s.file);
    let p12;
    try {
      p12 = await parsePkcs12(new Uint8Array(fs.readFileSync(s.file)), s.password);
    } catch (e) {
      throw new PkiConfigError('PKI_P12', `${role}: cannot open ${s.file}: ${(e as Error).message}`);
    }
    key = await importPkcs8(p12.key.pkcs8, role);
    certs = s.certFile ? readCertificates(s.certFile, role) : [p12.certificate, ...p12.chain];
  } else if (s.kind === 'pem') {
    checkPrivate(s.keyFile);
    let pkcs8: Uint8Array;
    try {
      const k = createPrivateKey({ key: fs.readFileSync(s.keyFile), format: 'pem', passphrase: s.password });
      pkcs8 = new Uint8Array(k.export({ type: 'pkcs8', format: 'der' }));
    } catch (e) {
      throw new PkiConfigError(
        'PKI_KEY',
        `${role}: cannot read the private key ${s.keyFile} (wrong password?): ${(e as Error).message}`,
      );
    }
    key = await importPkcs8(pkcs8, role);
    certs = readCertificates(s.certFile, role);
  } else {
    if (!token) throw new PkiConfigError('PKI_CONFIG', `${role}: no PKCS#11 module configured`);
    key = token.privateKey(s.label);
    certs = readCertificates(s.certFile, role);
  }
  const [der, ...chain] = certs;
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(new Uint8Array(der!));
  } catch {
    throw new PkiConfigError('PKI_CERT', `${role}: the certificate is not a readable X.509 certificate`);
  }
  // the key must be the certificate's: sign a probe, verify it with the certificate's public key
  const probe = crypto.getRandomValues(new Uint8Array(32));
  let matches = false;
  try {
    const pub = await cert.publicKey.export(EC_P256, ['verify']);
    matches = await subtle.verify(ECDSA_SHA256, pub, await subtle.sign(ECDSA_SHA256, key, probe), probe);
  } catch {
    matches = false;
  }
  if (!matches)
    throw new PkiConfigError(
      'PKI_KEY_MISMATCH',
      `${role}: the private key does not belong to the certificate ${cert.subject} (or is not ECDSA P-256)`,
    );
  const now = Date.now();
  if (cert.notBefore.getTime() > now || cert.notAfter.getTime() < now)
    throw new PkiConfigError('PKI_CERT_EXPIRED', `${role}: the certificate ${cert.subject} is not valid now`);
  return { cert, der: der!, key, chain };
}

/** The issuer among `candidates` whose key verifies `cert`'s signature (RFC 5280 §6.1.3 (a)(1)). */
async function issuedBy(
  cert: x509.X509Certificate,
  candidates: Uint8Array[],
): Promise<Uint8Array | undefined> {
  for (const c of candidates) {
    const issuer = new x509.X509Certificate(new Uint8Array(c));
    if (issuer.subject !== cert.issuer) continue;
    if (await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true }).catch(() => false)) return c;
  }
  return undefined;
}

/**
 * An SM2 key and its certificate (国密): the key must be on the SM2 curve and the certificate's; the
 * certificate valid now. PKCS#11 is not offered for SM2 (the PKCS#11 module signs ECDSA P-256).
 */
async function loadSm2Source(role: 'ca' | 'tsa', s: KeySource): Promise<Loaded> {
  const name = `${role} (SM2)`;
  let pkcs8: Uint8Array;
  let certs: Uint8Array[];
  if (s.kind === 'p12') {
    checkPrivate(s.file);
    try {
      const p12 = await parsePkcs12(new Uint8Array(fs.readFileSync(s.file)), s.password);
      pkcs8 = p12.key.pkcs8;
      certs = s.certFile ? readCertificates(s.certFile, role) : [p12.certificate, ...p12.chain];
    } catch (e) {
      throw new PkiConfigError('PKI_P12', `${name}: cannot open ${s.file}: ${(e as Error).message}`);
    }
  } else if (s.kind === 'pem') {
    checkPrivate(s.keyFile);
    try {
      const k = createPrivateKey({ key: fs.readFileSync(s.keyFile), format: 'pem', passphrase: s.password });
      pkcs8 = new Uint8Array(k.export({ type: 'pkcs8', format: 'der' }));
    } catch (e) {
      throw new PkiConfigError(
        'PKI_KEY',
        `${name}: cannot read the private key ${s.keyFile} (wrong password?): ${(e as Error).message}`,
      );
    }
    certs = readCertificates(s.certFile, role);
  } else {
    throw new PkiConfigError('PKI_CONFIG', `${name}: SM2 keys are read from PKCS#12 or PEM, not PKCS#11`);
  }
  let d: Uint8Array;
  try {
    d = sm2PrivateKeyFromDer(pkcs8);
  } catch {
    throw new PkiConfigError('PKI_KEY_UNSUPPORTED', `${name}: the key must be an SM2 key (SM2 curve)`);
  } finally {
    pkcs8.fill(0);
  }
  const [der, ...chain] = certs;
  let cert: x509.X509Certificate;
  let point: Uint8Array | undefined;
  try {
    cert = new x509.X509Certificate(new Uint8Array(der!));
    const pk = parseCertificate(der!).publicKey;
    point = pk.kind === 'ec' ? pk.point : undefined;
  } catch {
    throw new PkiConfigError('PKI_CERT', `${name}: the certificate is not a readable X.509 certificate`);
  }
  if (!point || !bytesEqual(point, sm2PublicKey(d)))
    throw new PkiConfigError(
      'PKI_KEY_MISMATCH',
      `${name}: the private key does not belong to the certificate ${cert.subject} (or is not SM2)`,
    );
  const now = Date.now();
  if (cert.notBefore.getTime() > now || cert.notAfter.getTime() < now)
    throw new PkiConfigError('PKI_CERT_EXPIRED', `${name}: the certificate ${cert.subject} is not valid now`);
  const key = sm2PrivateKey(d); // keeps its own copy
  d.fill(0);
  return { cert, der: der!, key, chain };
}

/** True when `issuer`'s SM2 key verifies `cert`'s signature (SM2-with-SM3, default ID). */
function sm2IssuedBy(cert: Uint8Array, issuer: Uint8Array): boolean {
  try {
    const pk = parseCertificate(issuer).publicKey;
    if (pk.kind !== 'ec') return false;
    const n = parseDer(cert);
    return sm2Verify(pk.point, n.child(0).raw, n.child(2).content.subarray(1));
  } catch {
    return false;
  }
}

/** The operator's SM2 CA and TSA, checked as the P-256 ones are. */
async function loadOperatorSm2(
  c: NonNullable<OperatorPkiConfig['sm2']>,
): Promise<NonNullable<ServerPki['sm2']>> {
  const ca = await loadSm2Source('ca', c.ca);
  const bc = ca.cert.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca)
    throw new PkiConfigError(
      'PKI_CA',
      `ca (SM2): ${ca.cert.subject} is not a CA certificate (basicConstraints cA)`,
    );
  if (!c.tsa) return { ca };
  const tsa = await loadSm2Source('tsa', c.tsa);
  const eku = tsa.cert.getExtension(x509.ExtendedKeyUsageExtension);
  if (!eku?.critical || eku.usages.length !== 1 || eku.usages[0] !== OID_TIME_STAMPING)
    throw new PkiConfigError(
      'PKI_TSA',
      `tsa (SM2): ${tsa.cert.subject} needs a critical extended key usage of timeStamping only (RFC 3161 §2.3)`,
    );
  const issuer = [...tsa.chain, ca.der].find((i) => sm2IssuedBy(tsa.der, i));
  if (!issuer)
    throw new PkiConfigError('PKI_CHAIN', `tsa (SM2): ${tsa.cert.subject} is not issued by the SM2 CA`);
  if (!tsa.chain.length) tsa.chain = [issuer];
  return { ca, tsa };
}

/** Loads and checks the operator's PKI; every failure is a PkiConfigError naming the role and the fix. */
export async function loadOperatorPki(c: OperatorPkiConfig): Promise<ServerPki> {
  const token = c.pkcs11 ? await Pkcs11Token.open(c.pkcs11) : undefined;
  try {
    const ca = await loadSource('ca', c.ca, token);
    const bc = ca.cert.getExtension(x509.BasicConstraintsExtension);
    if (!bc?.ca)
      throw new PkiConfigError(
        'PKI_CA',
        `ca: ${ca.cert.subject} is not a CA certificate (basicConstraints cA)`,
      );
    const ku = ca.cert.getExtension(x509.KeyUsagesExtension);
    if (ku && !(ku.usages & x509.KeyUsageFlags.keyCertSign))
      throw new PkiConfigError('PKI_CA', `ca: ${ca.cert.subject} lacks keyCertSign in its key usage`);
    const extra = c.trustFile ? readCertificates(c.trustFile, 'ca') : [];

    const tsa = await loadSource('tsa', c.tsa, token);
    // RFC 3161 §2.3: the TSA's certificate has exactly one extended key usage, timeStamping, critical
    const eku = tsa.cert.getExtension(x509.ExtendedKeyUsageExtension);
    if (!eku?.critical || eku.usages.length !== 1 || eku.usages[0] !== OID_TIME_STAMPING)
      throw new PkiConfigError(
        'PKI_TSA',
        `tsa: ${tsa.cert.subject} needs a critical extended key usage of timeStamping only (RFC 3161 §2.3)`,
      );
    const seal = await loadSource('seal', c.seal, token);
    for (const [role, cred] of [
      ['tsa', tsa],
      ['seal', seal],
    ] as const) {
      const issuer = await issuedBy(cred.cert, [...cred.chain, ca.der, ...extra]);
      if (!issuer)
        throw new PkiConfigError(
          'PKI_CHAIN',
          `${role}: ${cred.cert.subject} is issued neither by the CA nor by a certificate in its chain`,
        );
      if (!cred.chain.length) cred.chain = [issuer];
    }
    const sm2 = c.sm2 ? await loadOperatorSm2(c.sm2) : undefined;
    return {
      dir: undefined,
      ca,
      tsa,
      seal,
      sm2,
      anchors: [ca.der, ...(sm2 ? [sm2.ca.der] : []), ...extra],
      created: false,
      close: () => token?.close(),
    };
  } catch (e) {
    token?.close();
    throw e;
  }
}
