/**
 * Test PKI made with the real `openssl` command (OpenSSL 3): keys, CAs, end-entity certificates
 * (UTF-8 subjects, chosen validity periods), TSA certificates and PKCS#12 files.
 *
 * Node-only test helper. Every function writes into a directory you give it (use makeTempDir())
 * and returns both file paths (for openssl command lines) and DER/PEM bytes (for our code).
 *
 *   const dir = makeTempDir();
 *   const ca = createCa(dir, { key: 'p-384', subject: '/C=CN/O=Sidian Test/CN=Sidian Test Root CA' });
 *   const leaf = issueCertificate(ca, { name: 'seal', subject: '/C=CN/O=项城市/CN=项城市市场监督管理局' });
 *   const p12 = makePkcs12(leaf, { password: 'secret', chain: [ca], legacy: true });
 *   // openssl cms -verify ... -CAfile ca.certFile
 *
 * Subjects use OpenSSL's `/type=value/...` form, most general first, and are encoded as UTF8String.
 */
import { execFileSync, spawnSync, type ExecFileSyncOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const OPENSSL = process.env.OPENSSL ?? '/usr/bin/openssl';

/** Key types OpenSSL generates for us. */
export type KeySpec = 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'p-256' | 'p-384' | 'p-521' | 'sm2';

/**
 * SM2 signing options for openssl req/ca: SM3 and the default identifier (GM/T 0009 §10). OpenSSL
 * 3.0 needs the identifier given explicitly to verify SM2 requests and certificates (`-vfyopt`).
 */
export const SM2_DISTID = 'distid:1234567812345678';
const sm2SignArgs = (key: KeySpec) => (key === 'sm2' ? ['-sm3', '-sigopt', SM2_DISTID] : []);

/** What kind of certificate to issue. */
export type Profile =
  /** End-entity signing certificate: digitalSignature + nonRepudiation (the default). */
  | 'signing'
  /** RFC 3161 TSA: digitalSignature, extendedKeyUsage critical timeStamping. */
  | 'tsa'
  /** Intermediate CA: CA:TRUE, keyCertSign + cRLSign. */
  | 'ca';

export interface KeyPair {
  keySpec: KeySpec;
  /** PKCS#8 PEM private key file (unencrypted). */
  keyFile: string;
  /** PKCS#8 DER of the private key (e.g. for crypto.subtle.importKey('pkcs8', ...)). */
  keyPkcs8: Uint8Array<ArrayBuffer>;
}

export interface Entity extends KeyPair {
  /** Short file-name stem, e.g. "ca", "seal". */
  name: string;
  /** Directory holding this entity's files. */
  dir: string;
  /** The subject as given (OpenSSL `/type=value` form). */
  subject: string;
  certFile: string;
  certPem: string;
  certDer: Uint8Array<ArrayBuffer>;
  /** The issuing CA (undefined for a self-signed root). */
  issuer?: Ca;
}

export interface Ca extends Entity {
  /** openssl ca configuration (database, serial policy) for issuing. */
  configFile: string;
}

/** Runs openssl; throws an Error with openssl's stderr on failure. */
export function openssl(
  args: string[],
  options: { input?: Uint8Array | string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Buffer {
  const opts: ExecFileSyncOptions = {
    cwd: options.cwd,
    input: options.input,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  };
  try {
    return execFileSync(OPENSSL, args, opts) as Buffer;
  } catch (e) {
    const err = e as { stderr?: Buffer; stdout?: Buffer; status?: number };
    throw new Error(
      `openssl ${args.join(' ')} failed (exit ${err.status}):\n${err.stderr?.toString() ?? ''}${err.stdout?.toString() ?? ''}`,
    );
  }
}

/** Runs openssl and returns stdout and stderr (some commands, e.g. `pkcs12 -info`, report on stderr). */
export function opensslOutput(
  args: string[],
  options: { input?: Uint8Array | string; env?: NodeJS.ProcessEnv } = {},
): { stdout: string; stderr: string } {
  const r = spawnSync(OPENSSL, args, {
    input: options.input,
    env: { ...process.env, ...options.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0)
    throw new Error(`openssl ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr?.toString() ?? ''}`);
  return { stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** A fresh directory under the OS temp dir. Remove it with removeDir() in afterAll. */
export function makeTempDir(prefix = 'sidian-pki-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function pemToDer(pem: string): Uint8Array<ArrayBuffer> {
  const m = pem.match(/-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/);
  if (!m) throw new Error('no PEM block');
  return new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Generates a private key (PKCS#8 PEM) in `dir/<name>.key`. */
export function generateKey(dir: string, name: string, keySpec: KeySpec): KeyPair {
  const keyFile = path.join(dir, `${name}.key`);
  const [kind, size] = keySpec.split('-') as [string, string];
  const args =
    keySpec === 'sm2'
      ? ['genpkey', '-algorithm', 'SM2']
      : kind === 'rsa'
        ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${size}`]
        : [
            'genpkey',
            '-algorithm',
            'EC',
            '-pkeyopt',
            `ec_paramgen_curve:P-${size}`,
            '-pkeyopt',
            'ec_param_enc:named_curve',
          ];
  openssl([...args, '-out', keyFile]);
  const keyPkcs8 = new Uint8Array(
    openssl(['pkcs8', '-topk8', '-nocrypt', '-in', keyFile, '-outform', 'DER']),
  );
  return { keySpec, keyFile, keyPkcs8 };
}

const EXTENSIONS = `
[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ ext_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ ext_signing ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ ext_tsa ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

/** A minimal `openssl req` config: UTF-8 strings, no prompts. */
function reqConfig(dir: string): string {
  const file = path.join(dir, 'req.cnf');
  writeFileSync(
    file,
    `[ req ]\ndistinguished_name = dn\nstring_mask = utf8only\nutf8 = yes\nprompt = no\n[ dn ]\nCN = unused\n${EXTENSIONS}`,
  );
  return file;
}

function readCert(certFile: string): { certPem: string; certDer: Uint8Array<ArrayBuffer> } {
  const certPem = readFileSync(certFile, 'utf8');
  return { certPem, certDer: pemToDer(certPem) };
}

/** OpenSSL `-startdate`/`-enddate` form (GeneralizedTime). */
function opensslDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

function caConfig(caDir: string, certFile: string, keyFile: string): string {
  const db = path.join(caDir, 'db');
  mkdirSync(path.join(db, 'newcerts'), { recursive: true });
  writeFileSync(path.join(db, 'index.txt'), '');
  const file = path.join(caDir, 'ca.cnf');
  writeFileSync(
    file,
    `[ ca ]
default_ca = CA_default

[ CA_default ]
database = ${db}/index.txt
new_certs_dir = ${db}/newcerts
certificate = ${certFile}
private_key = ${keyFile}
rand_serial = yes
default_md = sha256
default_days = 365
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
string_mask = utf8only
utf8 = yes
preserve = yes

[ policy_any ]
commonName = optional
${EXTENSIONS}`,
  );
  return file;
}

export interface CaOptions {
  /** File stem (default "ca"); files go to `<dir>/<name>/`. */
  name?: string;
  subject?: string;
  key?: KeySpec;
  days?: number;
}

/** A self-signed root CA (CA:TRUE, keyCertSign, cRLSign) ready to issue with issueCertificate(). */
export function createCa(dir: string, options: CaOptions = {}): Ca {
  const name = options.name ?? 'ca';
  const subject = options.subject ?? '/C=CN/O=Sidian Test/CN=Sidian Test Root CA';
  const caDir = path.join(dir, name);
  mkdirSync(caDir, { recursive: true });
  const key = generateKey(caDir, name, options.key ?? 'p-256');
  const certFile = path.join(caDir, `${name}.pem`);
  openssl([
    'req',
    '-x509',
    '-new',
    '-utf8',
    '-config',
    reqConfig(caDir),
    '-extensions',
    'v3_root',
    '-key',
    key.keyFile,
    ...sm2SignArgs(key.keySpec),
    '-subj',
    subject,
    '-days',
    String(options.days ?? 3650),
    '-out',
    certFile,
  ]);
  return {
    ...key,
    name,
    dir: caDir,
    subject,
    certFile,
    ...readCert(certFile),
    configFile: caConfig(caDir, certFile, key.keyFile),
  };
}

export interface IssueOptions {
  /** File stem; files go to `<ca.dir>/../<name>/`. */
  name: string;
  /** e.g. '/C=CN/O=项城市/CN=项城市市场监督管理局' (UTF-8 is kept as UTF8String). */
  subject: string;
  key?: KeySpec;
  /** Default 'signing'. */
  profile?: Profile;
  /** Validity start; default now minus one hour. */
  notBefore?: Date;
  /** Validity end; default notBefore + `days`. */
  notAfter?: Date;
  /** Default 365. */
  days?: number;
}

/** Issues a certificate from `ca` (via `openssl ca`, so any validity period is possible). */
export function issueCertificate(ca: Ca, options: IssueOptions): Entity {
  const dir = path.join(path.dirname(ca.dir), options.name);
  mkdirSync(dir, { recursive: true });
  const key = generateKey(dir, options.name, options.key ?? 'p-256');
  const csr = path.join(dir, `${options.name}.csr`);
  openssl([
    'req',
    '-new',
    '-utf8',
    '-config',
    reqConfig(dir),
    '-key',
    key.keyFile,
    ...sm2SignArgs(key.keySpec),
    '-subj',
    options.subject,
    '-out',
    csr,
  ]);
  const notBefore = options.notBefore ?? new Date(Date.now() - 3600_000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + (options.days ?? 365) * 86400_000);
  const certFile = path.join(dir, `${options.name}.pem`);
  const profile = options.profile ?? 'signing';
  openssl([
    'ca',
    '-batch',
    '-notext',
    '-utf8',
    '-preserveDN',
    '-config',
    ca.configFile,
    '-extfile',
    ca.configFile,
    '-extensions',
    `ext_${profile}`,
    ...(ca.keySpec === 'sm2' ? ['-md', 'sm3', '-sigopt', SM2_DISTID] : []),
    ...(key.keySpec === 'sm2' ? ['-vfyopt', SM2_DISTID] : []),
    '-startdate',
    opensslDate(notBefore),
    '-enddate',
    opensslDate(notAfter),
    '-in',
    csr,
    '-out',
    certFile,
  ]);
  return {
    ...key,
    name: options.name,
    dir,
    subject: options.subject,
    certFile,
    ...readCert(certFile),
    issuer: ca,
  };
}

/** An intermediate CA issued by `ca`, itself able to issue. */
export function issueIntermediateCa(ca: Ca, options: Omit<IssueOptions, 'profile'>): Ca {
  const e = issueCertificate(ca, { ...options, profile: 'ca' });
  return { ...e, configFile: caConfig(e.dir, e.certFile, e.keyFile) };
}

/** A signing certificate that expired a year ago (valid two years ago). */
export function issueExpiredCertificate(
  ca: Ca,
  options: Omit<IssueOptions, 'notBefore' | 'notAfter' | 'days'>,
): Entity {
  const now = Date.now();
  return issueCertificate(ca, {
    ...options,
    notBefore: new Date(now - 2 * 365 * 86400_000),
    notAfter: new Date(now - 365 * 86400_000),
  });
}

/** A signing certificate whose validity starts in 30 days. */
export function issueNotYetValidCertificate(
  ca: Ca,
  options: Omit<IssueOptions, 'notBefore' | 'notAfter' | 'days'>,
): Entity {
  const start = new Date(Date.now() + 30 * 86400_000);
  return issueCertificate(ca, {
    ...options,
    notBefore: start,
    notAfter: new Date(start.getTime() + 365 * 86400_000),
  });
}

/** The certificates from `entity` up to (and including) its root, leaf first. */
export function chainOf(entity: Entity): Entity[] {
  const out: Entity[] = [];
  for (let e: Entity | undefined = entity; e; e = e.issuer) out.push(e);
  return out;
}

export interface Pkcs12Options {
  password: string;
  /** Extra certificates to include (e.g. intermediate and root). */
  chain?: Entity[];
  /** `-legacy`: RC2-40 certificates, 3DES key, SHA-1 MAC (needs OpenSSL's legacy provider). */
  legacy?: boolean;
  /** Friendly name (`-name`). */
  friendlyName?: string;
  /** Extra `openssl pkcs12 -export` arguments, e.g. ['-nomac'] or ['-keypbe', 'NONE', '-certpbe', 'NONE']. */
  extraArgs?: string[];
  /** Output file (default `<entity.dir>/<entity.name>[-legacy].p12`). */
  file?: string;
}

/** Writes a PKCS#12 with `openssl pkcs12 -export` (OpenSSL 3 defaults unless `legacy`). */
export function makePkcs12(
  entity: Entity,
  options: Pkcs12Options,
): { file: string; bytes: Uint8Array<ArrayBuffer> } {
  const file = options.file ?? path.join(entity.dir, `${entity.name}${options.legacy ? '-legacy' : ''}.p12`);
  const args = [
    'pkcs12',
    '-export',
    '-in',
    entity.certFile,
    '-inkey',
    entity.keyFile,
    '-passout',
    'env:SIDIAN_P12_PASSWORD',
    '-out',
    file,
  ];
  if (options.chain?.length) {
    const chainFile = `${file}.chain.pem`;
    writeFileSync(chainFile, options.chain.map((c) => c.certPem).join(''));
    args.push('-certfile', chainFile);
  }
  if (options.legacy) args.push('-legacy');
  if (options.friendlyName) args.push('-name', options.friendlyName);
  if (options.extraArgs) args.push(...options.extraArgs);
  openssl(args, { env: { SIDIAN_P12_PASSWORD: options.password } });
  return { file, bytes: new Uint8Array(readFileSync(file)) };
}

/** Writes bytes to `dir/name` and returns the path. */
export function writeFile(dir: string, name: string, bytes: Uint8Array | string): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}
