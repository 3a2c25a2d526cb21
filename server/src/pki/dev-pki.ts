/**
 * Development PKI: a root CA, a TSA certificate (EKU timeStamping, critical), a seal certificate
 * with its PKCS#12 for a demo department, and a citizen certificate. Made with @peculiar/x509 and
 * WebCrypto (ECDSA P-256). Beside it, the 国密 hierarchy: an SM2 root, an SM2 TSA certificate and
 * an SM2 seal certificate, signed with SM2-with-SM3 (GM/T 0015) through @sidian/core's SM2. The
 * server keeps its set in `<data>/pki` across restarts.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  sm2Pkcs8,
  sm2PrivateKeyFromDer,
  sm2RandomPrivateKey,
  sm2Spki,
} from '../../../packages/core/src/gm/sm2';
import { creditCodeCheckChar } from '../../../packages/core/src/licence/identifier';
import { writePkcs12 } from './pkcs12';
import {
  EC_P256,
  ECDSA_SHA256,
  fromPem,
  importEcPrivateKey,
  randomSerial,
  SM2_SM3,
  isSm2Key,
  sm2PrivateKey,
  sm2PublicPoint,
  subtle,
  toPem,
  x509,
} from './x509';

export const DEMO_DEPARTMENT = {
  name: '项城市市场监督管理局',
  creditCode: '11411681005598773' + creditCodeCheckChar('11411681005598773'),
  region: '河南省周口市项城市',
};

export const OID_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
const OID_ORGANIZATION_IDENTIFIER = '2.5.4.97';

/** A certificate with its (non-extractable) private key; `pkcs8` only while a key is being written. */
export interface Credential {
  cert: x509.X509Certificate;
  der: Uint8Array;
  key: CryptoKey;
  pkcs8?: Uint8Array;
}

export interface DevPkiSet {
  ca: Credential;
  tsa: Credential;
  seal: Credential & { p12: Uint8Array; password: string };
  citizen?: Credential & { p12: Uint8Array; password: string };
  /** The 国密 hierarchy: SM2 root, SM2 TSA, SM2 seal (keys are SM2 handles, pki/x509.ts). */
  sm2: Sm2Set;
}

export interface Sm2Set {
  ca: Credential;
  tsa: Credential;
  seal: Credential;
}

const YEAR = 365 * 24 * 3600 * 1000;

async function newKeyPair(): Promise<CryptoKeyPair> {
  return subtle.generateKey(EC_P256, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function credential(cert: x509.X509Certificate, keys: CryptoKeyPair): Promise<Credential> {
  const pkcs8 = new Uint8Array(await subtle.exportKey('pkcs8', keys.privateKey));
  return { cert, der: new Uint8Array(cert.rawData), key: await importEcPrivateKey(pkcs8), pkcs8 };
}

export async function createCa(
  name = 'C=CN, O=Sidian 开发测试, CN=Sidian Development Root CA',
): Promise<Credential> {
  const keys = await newKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 10 * YEAR),
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return credential(cert, keys);
}

/** The SM2 root (国密根证书): SM2 key, self-signed with SM2-with-SM3 under the default ID. */
export async function createSm2Ca(
  name = 'C=CN, O=Sidian 开发测试, CN=Sidian Development SM2 Root CA',
): Promise<Credential> {
  const d = sm2RandomPrivateKey();
  const key = sm2PrivateKey(d);
  const publicKey = new x509.PublicKey(new Uint8Array(sm2Spki(sm2PublicPoint(key)!)));
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: name,
    issuer: name,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 10 * YEAR),
    publicKey,
    signingKey: key,
    signingAlgorithm: SM2_SM3,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ],
  });
  return { cert, der: new Uint8Array(cert.rawData), key, pkcs8: sm2Pkcs8(d) };
}

export interface IssueOptions {
  subject: string | x509.JsonName;
  publicKey: CryptoKey | x509.PublicKey;
  profile: 'tsa' | 'signer';
  validityMs: number;
  serialNumber?: string;
  crlUrl?: string;
  /** OCSP responder URL for the authorityInfoAccess extension. */
  ocspUrl?: string;
}

/** Issues an end-entity certificate under `ca`. */
export async function issueCertificate(ca: Credential, o: IssueOptions): Promise<x509.X509Certificate> {
  const now = Date.now();
  const notAfter = new Date(Math.min(now + o.validityMs, ca.cert.notAfter.getTime()));
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    await x509.SubjectKeyIdentifierExtension.create(o.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
  ];
  if (o.profile === 'tsa') {
    extensions.push(
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
        true,
      ),
    );
    extensions.push(new x509.ExtendedKeyUsageExtension([OID_TIME_STAMPING], true));
  } else {
    extensions.push(
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
        true,
      ),
    );
  }
  if (o.crlUrl) extensions.push(new x509.CRLDistributionPointsExtension([o.crlUrl]));
  if (o.ocspUrl) extensions.push(new x509.AuthorityInfoAccessExtension({ ocsp: [o.ocspUrl] }));
  return x509.X509CertificateGenerator.create({
    serialNumber: o.serialNumber ?? randomSerial(),
    subject: o.subject,
    issuer: ca.cert.subjectName,
    notBefore: new Date(now - 60_000),
    notAfter,
    publicKey: o.publicKey,
    signingKey: ca.key,
    // the issuer's key decides: an SM2 CA signs SM2-with-SM3 (GM/T 0015 §7.1), whatever the subject key
    signingAlgorithm: isSm2Key(ca.key) ? SM2_SM3 : ECDSA_SHA256,
    extensions,
  });
}

/** An SM2 key and a certificate for it under `ca` (the SM2 root). */
async function issueSm2WithNewKey(
  ca: Credential,
  subject: string | x509.JsonName,
  profile: 'tsa' | 'signer',
  validityMs: number,
): Promise<Credential> {
  const d = sm2RandomPrivateKey();
  const key = sm2PrivateKey(d);
  const publicKey = new x509.PublicKey(new Uint8Array(sm2Spki(sm2PublicPoint(key)!)));
  const cert = await issueCertificate(ca, { subject, publicKey, profile, validityMs });
  return { cert, der: new Uint8Array(cert.rawData), key, pkcs8: sm2Pkcs8(d) };
}

/** The 国密 hierarchy of the development PKI. */
export async function generateSm2Pki(): Promise<Sm2Set> {
  const ca = await createSm2Ca();
  const tsa = await issueSm2WithNewKey(
    ca,
    'C=CN, O=Sidian 开发测试, CN=Sidian Development SM2 TSA',
    'tsa',
    5 * YEAR,
  );
  const seal = await issueSm2WithNewKey(ca, sealSubject(), 'signer', 3 * YEAR);
  return { ca, tsa, seal };
}

async function issueWithNewKey(
  ca: Credential,
  subject: string | x509.JsonName,
  profile: 'tsa' | 'signer',
  validityMs: number,
) {
  const keys = await newKeyPair();
  const cert = await issueCertificate(ca, { subject, publicKey: keys.publicKey, profile, validityMs });
  return credential(cert, keys);
}

export function sealSubject(dept = DEMO_DEPARTMENT): x509.JsonName {
  return [
    { '2.5.4.6': ['CN'] },
    { '2.5.4.10': [dept.name] },
    { '2.5.4.11': ['电子印章'] },
    { [OID_ORGANIZATION_IDENTIFIER]: [dept.creditCode] },
    { '2.5.4.3': [dept.name] },
  ];
}

function randomPassword(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString('base64url');
}

export async function generateDevPki(
  opts: { citizen?: boolean; password?: string } = {},
): Promise<DevPkiSet> {
  const ca = await createCa();
  const tsa = await issueWithNewKey(
    ca,
    'C=CN, O=Sidian 开发测试, CN=Sidian Development TSA',
    'tsa',
    5 * YEAR,
  );
  const seal0 = await issueWithNewKey(ca, sealSubject(), 'signer', 3 * YEAR);
  const password = opts.password ?? randomPassword();
  const seal = {
    ...seal0,
    password,
    p12: await writePkcs12({
      pkcs8: seal0.pkcs8!,
      certificate: seal0.der,
      chain: [ca.der],
      password,
      friendlyName: DEMO_DEPARTMENT.name,
    }),
  };
  const set: DevPkiSet = { ca, tsa, seal, sm2: await generateSm2Pki() };
  if (opts.citizen) {
    const c = await issueWithNewKey(
      ca,
      [{ '2.5.4.6': ['CN'] }, { '2.5.4.5': ['110101199003074477'] }, { '2.5.4.3': ['张三'] }],
      'signer',
      YEAR,
    );
    set.citizen = {
      ...c,
      password,
      p12: await writePkcs12({
        pkcs8: c.pkcs8!,
        certificate: c.der,
        chain: [ca.der],
        password,
        friendlyName: '张三',
      }),
    };
  }
  return set;
}

function writeSecret(file: string, data: string | Uint8Array) {
  fs.writeFileSync(file, data, { mode: 0o600 });
}

/** Writes a set as PEM/P12 files (the `sidian dev-pki --out DIR` layout, also the server's `<data>/pki`). */
export function writeDevPki(dir: string, set: DevPkiSet): string[] {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  const put = (name: string, data: string | Uint8Array, secret = false) => {
    const f = path.join(dir, name);
    if (secret) writeSecret(f, data);
    else fs.writeFileSync(f, data);
    written.push(f);
  };
  const pair = (name: string, c: Credential) => {
    put(`${name}.pem`, toPem(c.der, 'CERTIFICATE'));
    put(`${name}.key.pem`, toPem(c.pkcs8!, 'PRIVATE KEY'), true);
  };
  pair('ca', set.ca);
  pair('tsa', set.tsa);
  put('tsa-chain.pem', toPem(set.tsa.der, 'CERTIFICATE') + toPem(set.ca.der, 'CERTIFICATE'));
  pair('seal', set.seal);
  put('seal.p12', set.seal.p12, true);
  put('seal.p12.password', set.seal.password + '\n', true);
  writeSm2Pki(dir, set.sm2, put);
  if (set.citizen) {
    pair('citizen', set.citizen);
    put('citizen.p12', set.citizen.p12, true);
    put('citizen.p12.password', set.citizen.password + '\n', true);
  }
  return written;
}

/** The SM2 files: sm2-ca.pem, sm2-tsa.pem, sm2-tsa-chain.pem, sm2-seal.pem and their .key.pem (PKCS#8). */
function writeSm2Pki(
  dir: string,
  sm2: Sm2Set,
  put: (name: string, data: string | Uint8Array, secret?: boolean) => void,
) {
  put('sm2-tsa-chain.pem', toPem(sm2.tsa.der, 'CERTIFICATE') + toPem(sm2.ca.der, 'CERTIFICATE'));
  put('sm2-seal-chain.pem', toPem(sm2.seal.der, 'CERTIFICATE') + toPem(sm2.ca.der, 'CERTIFICATE'));
  // the CA certificate last: its presence marks the set complete (loadOrCreateServerPki)
  for (const [name, c] of [
    ['sm2-tsa', sm2.tsa],
    ['sm2-seal', sm2.seal],
    ['sm2-ca', sm2.ca],
  ] as const) {
    put(`${name}.key.pem`, toPem(c.pkcs8!, 'PRIVATE KEY'), true);
    put(`${name}.pem`, toPem(c.der, 'CERTIFICATE'));
  }
}

async function readCredential(dir: string, name: string): Promise<Credential> {
  const [der] = fromPem(fs.readFileSync(path.join(dir, `${name}.pem`), 'utf8'), 'CERTIFICATE');
  const [pkcs8] = fromPem(fs.readFileSync(path.join(dir, `${name}.key.pem`), 'utf8'), 'PRIVATE KEY');
  if (!der || !pkcs8) throw new Error(`${name}: certificate or key missing in ${dir}`);
  const key = name.startsWith('sm2-')
    ? sm2PrivateKey(sm2PrivateKeyFromDer(pkcs8))
    : await importEcPrivateKey(pkcs8);
  pkcs8.fill(0);
  return { cert: new x509.X509Certificate(der), der, key };
}

export interface ServerPki {
  /** `<data>/pki` of a development PKI; undefined for the operator's own (pki/operator-pki.ts). */
  dir?: string;
  ca: Credential;
  /** `chain`: the TSA's issuers (default: the CA). */
  tsa: Credential & { chain?: Uint8Array[] };
  /** The department seal; `p12`/`password` only for the development PKI (handed to the demo portal). */
  seal: Credential & { chain?: Uint8Array[]; p12?: Uint8Array; password?: string };
  /**
   * The 国密 CA and TSA (SM2 keys), when configured: the development PKI always has them; the
   * operator's PKI when SIDIAN_CA_SM2_* (and SIDIAN_TSA_SM2_*) are set.
   */
  sm2?: { ca: Credential; tsa?: Credential & { chain?: Uint8Array[] } };
  /** Trust anchors (DER): the P-256 root first, then the SM2 root, then extra anchors. */
  anchors: Uint8Array[];
  created: boolean;
  /** Releases an HSM session, if any. */
  close?: () => void;
}

/** The SM2 TSA as tsa/responder.ts signs with it: the SM2 handle through pki/x509's subtle. */
export function sm2TsaSigner(tsa: Credential & { chain?: Uint8Array[] }, ca: Credential) {
  return {
    certificate: tsa.der,
    chain: tsa.chain ?? [ca.der],
    sign: async (data: Uint8Array) =>
      new Uint8Array(await subtle.sign(SM2_SM3, tsa.key, new Uint8Array(data))),
  };
}

/** Loads `<data>/pki`, making it on first run. Private keys are imported non-extractable. */
export async function loadOrCreateServerPki(dataDir: string): Promise<ServerPki> {
  const dir = path.join(dataDir, 'pki');
  let created = false;
  if (!fs.existsSync(path.join(dir, 'ca.pem'))) {
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    writeDevPki(tmp, await generateDevPki());
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    try {
      fs.renameSync(tmp, dir); // atomic: a crash leaves no half-made PKI
      created = true;
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!fs.existsSync(path.join(dir, 'ca.pem'))) throw e;
    }
  }
  // a `<data>/pki` made before the 国密 hierarchy existed gets it added (the P-256 files stay as they are)
  if (!fs.existsSync(path.join(dir, 'sm2-ca.pem'))) {
    writeSm2Pki(dir, await generateSm2Pki(), (name, data, secret) =>
      secret ? writeSecret(path.join(dir, name), data) : fs.writeFileSync(path.join(dir, name), data),
    );
  }
  const ca = await readCredential(dir, 'ca');
  const tsa = await readCredential(dir, 'tsa');
  const seal = await readCredential(dir, 'seal');
  const sm2Ca = await readCredential(dir, 'sm2-ca');
  const sm2Tsa = await readCredential(dir, 'sm2-tsa');
  const extraAnchors = fs.existsSync(path.join(dir, 'trust.pem'))
    ? fromPem(fs.readFileSync(path.join(dir, 'trust.pem'), 'utf8'), 'CERTIFICATE')
    : [];
  return {
    dir,
    ca,
    tsa,
    seal: {
      ...seal,
      p12: new Uint8Array(fs.readFileSync(path.join(dir, 'seal.p12'))),
      password: fs.readFileSync(path.join(dir, 'seal.p12.password'), 'utf8').trim(),
    },
    sm2: { ca: sm2Ca, tsa: { ...sm2Tsa, chain: [sm2Ca.der] } },
    anchors: [ca.der, sm2Ca.der, ...extraAnchors],
    created,
  };
}
