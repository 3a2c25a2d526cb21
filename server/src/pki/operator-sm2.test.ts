/**
 * The operator's 国密 CA and TSA in production (docs/production.md, SIDIAN_CA_SM2_* and
 * SIDIAN_TSA_SM2_*): made here with openssl as an operator's tooling would, loaded and checked
 * (SM2 key, key matching certificate, CA flag, TSA usage, TSA issued by the SM2 CA), refused with a
 * PkiConfigError naming the fix otherwise; a server on it enrols SM2 CSRs under the operator's SM2
 * root and answers SM3 time-stamp requests with the operator's SM2 TSA.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCms } from '@sidian/core';
import { buildTimestampRequest, parseTimestampResponse } from '../../../packages/core/src/cms/tsa';
import { sm3 } from '../../../packages/core/src/gm/sm3';
import { createSm2CertificationRequest } from '../../../packages/core/src/pki/csr';
import { OID } from '../../../packages/core/src/pki/oids';
import { createSm2Key } from '../../../packages/core/src/signer/sm2';
import { devToken, operatorPkiFiles, startTestServer, tempDir, type TestServer } from '../test/harness';
import { loadOperatorPki, operatorPkiFromEnv, PkiConfigError } from './operator-pki';
import { fromPem, toPem } from './x509';

const DISTID = 'distid:1234567812345678';

function openssl(args: string[], cwd?: string): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8', cwd });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** An SM2 root and an SM2 TSA certificate under it, as files in `dir` (keys mode 600). */
function opensslSm2Pki(dir: string, name: string) {
  const f = (n: string) => path.join(dir, `${name}-${n}`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', f('ca.key')]);
  // the CA key encrypted, its password in a file (as an operator keeps it)
  fs.writeFileSync(f('ca.pass'), 'sm2-ca-password\n', { mode: 0o600 });
  openssl([
    'pkey',
    '-in',
    f('ca.key'),
    '-aes256',
    '-passout',
    `file:${f('ca.pass')}`,
    '-out',
    f('ca.enc.key'),
  ]);
  fs.chmodSync(f('ca.enc.key'), 0o600);
  fs.writeFileSync(
    f('ext.cnf'),
    '[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' +
      '[tsa]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n' +
      'extendedKeyUsage=critical,timeStamping\n',
  );
  openssl([
    'req', '-new', '-x509', '-key', f('ca.key'), '-sm3', '-sigopt', DISTID, '-days', '30',
    '-subj', `/C=CN/O=运营方/CN=${name} SM2 Root`, '-config', f('ext.cnf'), '-extensions', 'ca',
    '-out', f('ca.pem'),
  ]); // prettier-ignore
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', f('tsa.key')]);
  fs.chmodSync(f('tsa.key'), 0o600);
  openssl([
    'req',
    '-new',
    '-key',
    f('tsa.key'),
    '-sm3',
    '-sigopt',
    DISTID,
    '-subj',
    `/CN=${name} SM2 TSA`,
    '-out',
    f('tsa.csr'),
  ]);
  openssl([
    'x509', '-req', '-in', f('tsa.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-sm3', '-sigopt', DISTID, '-vfyopt', DISTID, '-days', '20', '-extfile', f('ext.cnf'), '-extensions', 'tsa', '-out', f('tsa.pem'),
  ]); // prettier-ignore
  fs.chmodSync(f('ca.key'), 0o600);
  return {
    caKey: f('ca.enc.key'),
    caPlainKey: f('ca.key'),
    caPass: f('ca.pass'),
    caCert: f('ca.pem'),
    tsaKey: f('tsa.key'),
    tsaCert: f('tsa.pem'),
  };
}

let dir: string;
let a: ReturnType<typeof opensslSm2Pki>;
let b: ReturnType<typeof opensslSm2Pki>;
let p256Env: Record<string, string>;
let s: TestServer | undefined;

beforeAll(async () => {
  dir = tempDir('sidian-opki-sm2-');
  a = opensslSm2Pki(dir, 'a');
  b = opensslSm2Pki(dir, 'b');
  const base = await operatorPkiFiles(path.join(dir, 'p256'));
  const k = (x: typeof base.ca) => (x.kind === 'pem' ? x : undefined)!;
  const seal = base.seal.kind === 'p12' ? base.seal : undefined;
  fs.writeFileSync(path.join(dir, 'seal.pass'), seal!.password, { mode: 0o600 });
  p256Env = {
    SIDIAN_CA_KEY: k(base.ca).keyFile,
    SIDIAN_CA_CERT: k(base.ca).certFile,
    SIDIAN_TSA_KEY: k(base.tsa).keyFile,
    SIDIAN_TSA_CERT: k(base.tsa).certFile,
    SIDIAN_SEAL_P12: seal!.file,
    SIDIAN_SEAL_PASSWORD_FILE: path.join(dir, 'seal.pass'),
  };
}, 120_000);
afterAll(async () => {
  await s?.close();
});

const sm2Env = () => ({
  SIDIAN_CA_SM2_KEY: a.caKey,
  SIDIAN_CA_SM2_PASSWORD_FILE: a.caPass,
  SIDIAN_CA_SM2_CERT: a.caCert,
  SIDIAN_TSA_SM2_KEY: a.tsaKey,
  SIDIAN_TSA_SM2_CERT: a.tsaCert,
});

async function refusal(env: Record<string, string>): Promise<string> {
  try {
    const c = operatorPkiFromEnv(env);
    (await loadOperatorPki(c!)).close?.();
  } catch (e) {
    expect(e).toBeInstanceOf(PkiConfigError);
    return `${(e as PkiConfigError).code}: ${(e as Error).message}`;
  }
  return 'loaded';
}

describe('operator PKI with an SM2 CA and TSA', { timeout: 120_000 }, () => {
  it('loads SIDIAN_CA_SM2_* (encrypted PEM, password file) and SIDIAN_TSA_SM2_*: the SM2 root joins the anchors', async () => {
    const c = operatorPkiFromEnv({ ...p256Env, ...sm2Env() })!;
    expect(c.sm2?.ca).toMatchObject({ kind: 'pem', keyFile: a.caKey });
    const pki = await loadOperatorPki(c);
    expect(pki.sm2?.ca.cert.subject).toContain('a SM2 Root');
    expect(pki.sm2?.tsa?.chain?.map((d) => toPem(d, 'CERTIFICATE'))).toEqual([
      fs.readFileSync(a.caCert, 'utf8'),
    ]);
    expect(pki.anchors.map((d) => toPem(d, 'CERTIFICATE'))).toContain(fs.readFileSync(a.caCert, 'utf8'));
    pki.close?.();
    // without SIDIAN_CA_SM2_*: no SM2 CA, as before
    expect((await loadOperatorPki(operatorPkiFromEnv(p256Env)!)).sm2).toBeUndefined();
  });

  it('refuses a wrong SM2 configuration with a message naming the fix', async () => {
    // a P-256 key given as the SM2 CA key
    expect(
      await refusal({
        ...p256Env,
        ...sm2Env(),
        SIDIAN_CA_SM2_KEY: p256Env.SIDIAN_CA_KEY!,
        SIDIAN_CA_SM2_PASSWORD_FILE: '',
      }),
    ).toMatch(/^PKI_KEY_UNSUPPORTED: ca \(SM2\): the key must be an SM2 key/);
    // another SM2 key than the certificate's
    expect(
      await refusal({
        ...p256Env,
        ...sm2Env(),
        SIDIAN_CA_SM2_KEY: b.caPlainKey,
        SIDIAN_CA_SM2_PASSWORD_FILE: '',
      }),
    ).toMatch(/^PKI_KEY_MISMATCH/);
    // a TSA certificate as the CA
    expect(
      await refusal({
        ...p256Env,
        ...sm2Env(),
        SIDIAN_CA_SM2_KEY: a.tsaKey,
        SIDIAN_CA_SM2_CERT: a.tsaCert,
        SIDIAN_CA_SM2_PASSWORD_FILE: '',
      }),
    ).toMatch(/^PKI_CA/);
    // an SM2 TSA issued by another SM2 root (same kind of name, other key)
    expect(
      await refusal({
        ...p256Env,
        ...sm2Env(),
        SIDIAN_TSA_SM2_KEY: b.tsaKey,
        SIDIAN_TSA_SM2_CERT: b.tsaCert,
      }),
    ).toMatch(/^PKI_CHAIN/);
    // the SM2 CA certificate as TSA: no timeStamping usage
    expect(
      await refusal({
        ...p256Env,
        ...sm2Env(),
        SIDIAN_TSA_SM2_KEY: a.caPlainKey,
        SIDIAN_TSA_SM2_CERT: a.caCert,
      }),
    ).toMatch(/^PKI_TSA/);
    // a TSA without the CA
    const { SIDIAN_CA_SM2_KEY: _k, SIDIAN_CA_SM2_CERT: _c, ...noCa } = sm2Env();
    expect(await refusal({ ...p256Env, ...noCa })).toMatch(/^PKI_CONFIG: SIDIAN_TSA_SM2_\* needs the SM2 CA/);
    // a wrong password
    fs.writeFileSync(path.join(dir, 'wrong.pass'), 'guess', { mode: 0o600 });
    expect(
      await refusal({ ...p256Env, ...sm2Env(), SIDIAN_CA_SM2_PASSWORD_FILE: path.join(dir, 'wrong.pass') }),
    ).toMatch(/^PKI_KEY: ca \(SM2\): cannot read the private key/);
  });

  it('a server on it enrols SM2 CSRs under the operator SM2 root (openssl verify with the SM2 ID) and signs SM3 time stamps with the operator SM2 TSA', async () => {
    s = await startTestServer({ pki: operatorPkiFromEnv({ ...p256Env, ...sm2Env() }) });
    const trust = await (await fetch(`${s.url}/api/trust?crl=0`)).text();
    expect(trust).toContain(fs.readFileSync(a.caCert, 'utf8'));

    const token = await devToken(s.url);
    const r = await fetch(`${s.url}/api/enrol`, {
      method: 'POST',
      headers: { 'content-type': 'application/pkcs10', authorization: `Bearer ${token}` },
      body: createSm2CertificationRequest(createSm2Key(), { commonName: '张三' }) as BodyInit,
    });
    expect(r.status).toBe(201);
    const certFile = path.join(dir, 'enrolled.pem');
    fs.writeFileSync(certFile, ((await r.json()) as { certificate: string }).certificate);
    expect(openssl(['verify', '-vfyopt', DISTID, '-CAfile', a.caCert, certFile])).toContain(': OK');
    const other = spawnSync('openssl', ['verify', '-vfyopt', DISTID, '-CAfile', b.caCert, certFile]);
    expect(other.status).not.toBe(0);

    const t = await fetch(`${s.url}/api/tsa`, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: buildTimestampRequest(sm3(new Uint8Array(3)), 'SM3', { certReq: true }) as BodyInit,
    });
    const cms = parseCms(parseTimestampResponse(new Uint8Array(await t.arrayBuffer())).token!);
    expect(cms.signerInfos[0]!.signatureAlgorithm.oid).toBe(OID.sm2WithSm3);
    expect(cms.certificates.map((d) => toPem(d, 'CERTIFICATE'))).toEqual(
      fromPem(fs.readFileSync(a.tsaCert, 'utf8')).map((d) => toPem(d, 'CERTIFICATE')),
    );
  });
});
