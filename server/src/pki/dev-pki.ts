/**
 * Development PKI: a root CA, a TSA certificate (EKU timeStamping, critical), a seal certificate
 * with its PKCS#12 for a demo department, and a citizen certificate. Made with @peculiar/x509 and
 * WebCrypto (ECDSA P-256). The server keeps its set in `<data>/pki` across restarts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { creditCodeCheckChar } from '../../../packages/core/src/licence/identifier';
import { writePkcs12 } from './pkcs12';
import {
  EC_P256,
  ECDSA_SHA256,
  fromPem,
  importEcPrivateKey,
  randomSerial,
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
    signingAlgorithm: ECDSA_SHA256,
    extensions,
  });
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
  const set: DevPkiSet = { ca, tsa, seal };
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
  if (set.citizen) {
    pair('citizen', set.citizen);
    put('citizen.p12', set.citizen.p12, true);
    put('citizen.p12.password', set.citizen.password + '\n', true);
  }
  return written;
}

async function readCredential(dir: string, name: string): Promise<Credential> {
  const [der] = fromPem(fs.readFileSync(path.join(dir, `${name}.pem`), 'utf8'), 'CERTIFICATE');
  const [pkcs8] = fromPem(fs.readFileSync(path.join(dir, `${name}.key.pem`), 'utf8'), 'PRIVATE KEY');
  if (!der || !pkcs8) throw new Error(`${name}: certificate or key missing in ${dir}`);
  return { cert: new x509.X509Certificate(der), der, key: await importEcPrivateKey(pkcs8) };
}

export interface ServerPki {
  /** `<data>/pki` of a development PKI; undefined for the operator's own (pki/operator-pki.ts). */
  dir?: string;
  ca: Credential;
  /** `chain`: the TSA's issuers (default: the CA). */
  tsa: Credential & { chain?: Uint8Array[] };
  /** The department seal; `p12`/`password` only for the development PKI (handed to the demo portal). */
  seal: Credential & { chain?: Uint8Array[]; p12?: Uint8Array; password?: string };
  /** Trust anchors (DER). */
  anchors: Uint8Array[];
  created: boolean;
  /** Releases an HSM session, if any. */
  close?: () => void;
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
  const ca = await readCredential(dir, 'ca');
  const tsa = await readCredential(dir, 'tsa');
  const seal = await readCredential(dir, 'seal');
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
    anchors: [ca.der, ...extraAnchors],
    created,
  };
}
