/**
 * The operator's keys in an HSM: SoftHSM2 (Debian's softhsm2, scripts/install-deps.sh) through
 * PKCS#11. The CA, TSA and seal keys are generated on the token, non-extractable; production
 * `sidian serve` signs time stamps and enrolled certificates with them, and `sidian sign` seals a
 * PDF with the seal key and the server's TSA — poppler's pdfsig and our verifier accept the seal.
 */
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pdfsig } from '../../tests/interop/verifiers';
import { issueCertificate, sealSubject, OID_TIME_STAMPING } from './pki/dev-pki';
import { Pkcs11Token } from './pki/pkcs11';
import { EC_P256, ECDSA_SHA256, randomSerial, subtle, toPem, x509 } from './pki/x509';
import {
  freePort,
  PORTAL_AUDIENCE,
  PORTAL_ISSUER,
  SIDIAN_BIN,
  spawnServer,
  stopChild,
  tempDir,
  testPortal,
} from './test/harness';
import { minimalPdf } from './test/pdfs';

const SOFTHSM_MODULE = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
].find((f) => fs.existsSync(f));
const TOKEN = 'sidian-prod';
const PIN = '264813';
const children: ChildProcess[] = [];
let dir: string;
let env: Record<string, string>;
let portal: Awaited<ReturnType<typeof testPortal>>;

/** Key pairs on the token: EC P-256, private half sensitive and never extractable. */
async function generateOnToken(labels: string[]): Promise<Record<string, CryptoKey>> {
  const { default: p11 } = (await import('pkcs11js')) as unknown as { default: typeof import('pkcs11js') };
  const lib = new p11.PKCS11();
  lib.load(SOFTHSM_MODULE!);
  lib.C_Initialize();
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === TOKEN)!;
  const session = lib.C_OpenSession(slot, p11.CKF_SERIAL_SESSION | p11.CKF_RW_SESSION);
  lib.C_Login(session, p11.CKU_USER, PIN);
  const prime256v1 = Buffer.from('06082a8648ce3d030107', 'hex');
  const publicKeys: Record<string, CryptoKey> = {};
  for (const label of labels) {
    const { publicKey } = lib.C_GenerateKeyPair(
      session,
      { mechanism: p11.CKM_EC_KEY_PAIR_GEN },
      [
        { type: p11.CKA_TOKEN, value: true },
        { type: p11.CKA_LABEL, value: label },
        { type: p11.CKA_EC_PARAMS, value: prime256v1 },
        { type: p11.CKA_VERIFY, value: true },
      ],
      [
        { type: p11.CKA_TOKEN, value: true },
        { type: p11.CKA_LABEL, value: label },
        { type: p11.CKA_SIGN, value: true },
        { type: p11.CKA_PRIVATE, value: true },
        { type: p11.CKA_SENSITIVE, value: true },
        { type: p11.CKA_EXTRACTABLE, value: false },
      ],
    );
    const [point] = lib.C_GetAttributeValue(session, publicKey, [{ type: p11.CKA_EC_POINT }]);
    const raw = (point!.value as Buffer).subarray(2); // DER OCTET STRING around 04||x||y
    publicKeys[label] = await subtle.importKey('raw', new Uint8Array(raw), EC_P256, true, ['verify']);
  }
  lib.C_Logout(session);
  lib.C_CloseSession(session);
  lib.C_Finalize();
  return publicKeys;
}

beforeAll(async () => {
  if (!SOFTHSM_MODULE) throw new Error('SoftHSM2 is not installed (apt-get install -y softhsm2)');
  dir = tempDir('sidian-hsm-');
  fs.mkdirSync(path.join(dir, 'tokens'));
  fs.writeFileSync(
    path.join(dir, 'softhsm2.conf'),
    `directories.tokendir = ${path.join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  process.env.SOFTHSM2_CONF = path.join(dir, 'softhsm2.conf');
  execFileSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', TOKEN, '--so-pin', '11223344', '--pin', PIN],
    { stdio: 'pipe' },
  );
  const pub = await generateOnToken(['ca', 'tsa', 'seal']);

  // certificates for the token's keys, signed by the CA key on the token (as an operator's CA would)
  const token = await Pkcs11Token.open({ module: SOFTHSM_MODULE, token: TOKEN, pin: PIN });
  const caKey = token.privateKey('ca');
  const now = Date.now();
  const caName = 'C=CN, O=Xiangcheng Data Bureau, CN=Xiangcheng HSM Root CA';
  const caCert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: caName,
    issuer: caName,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 5 * 365 * 86400_000),
    publicKey: pub.ca!,
    signingKey: caKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(pub.ca!),
    ],
  });
  const ca = { cert: caCert, der: new Uint8Array(caCert.rawData), key: caKey };
  const tsa = await issueCertificate(ca, {
    subject: 'C=CN, O=Xiangcheng Data Bureau, CN=Xiangcheng HSM TSA',
    publicKey: pub.tsa!,
    profile: 'tsa',
    validityMs: 365 * 86400_000,
  });
  const seal = await issueCertificate(ca, {
    subject: sealSubject(),
    publicKey: pub.seal!,
    profile: 'signer',
    validityMs: 365 * 86400_000,
  });
  token.close();
  expect(tsa.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([OID_TIME_STAMPING]);
  const write = (name: string, c: x509.X509Certificate) =>
    fs.writeFileSync(path.join(dir, name), toPem(new Uint8Array(c.rawData), 'CERTIFICATE'));
  write('ca.pem', caCert);
  write('tsa.pem', tsa);
  fs.writeFileSync(
    path.join(dir, 'seal.pem'),
    toPem(new Uint8Array(seal.rawData), 'CERTIFICATE') + toPem(ca.der, 'CERTIFICATE'),
  );
  fs.writeFileSync(path.join(dir, 'pin'), PIN + '\n', { mode: 0o600 });
  portal = await testPortal();
  fs.writeFileSync(path.join(dir, 'portal.pem'), portal.publicKeyPem);
  env = {
    SOFTHSM2_CONF: path.join(dir, 'softhsm2.conf'),
    SIDIAN_PKCS11_MODULE: SOFTHSM_MODULE,
    SIDIAN_PKCS11_TOKEN: TOKEN,
    SIDIAN_PKCS11_PIN_FILE: path.join(dir, 'pin'),
    SIDIAN_CA_PKCS11_LABEL: 'ca',
    SIDIAN_CA_CERT: path.join(dir, 'ca.pem'),
    SIDIAN_TSA_PKCS11_LABEL: 'tsa',
    SIDIAN_TSA_CERT: path.join(dir, 'tsa.pem'),
    SIDIAN_SEAL_PKCS11_LABEL: 'seal',
    SIDIAN_SEAL_CERT: path.join(dir, 'seal.pem'),
    SIDIAN_PORTAL_PUBLIC_KEY: path.join(dir, 'portal.pem'),
    SIDIAN_PORTAL_ISSUER: PORTAL_ISSUER,
    SIDIAN_PORTAL_AUDIENCE: PORTAL_AUDIENCE,
  };
}, 120_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('production with the keys in an HSM (SoftHSM2 through PKCS#11)', { timeout: 300_000 }, () => {
  it('serves with the token keys; a seal made with the HSM seal key and the HSM TSA verifies in pdfsig', async () => {
    const s = await spawnServer(tempDir(), await freePort(), env, { dev: false });
    children.push(s.child);
    try {
      const trust = await (await fetch(`${s.url}/api/trust`)).text();
      expect(trust.replace(/\s/g, '')).toBe(
        fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8').replace(/\s/g, ''),
      );

      // `sidian sign` with the seal key on the token, B-T with the server's TSA (its key on the token)
      const input = path.join(dir, 'application.pdf');
      const output = path.join(dir, 'sealed.pdf');
      fs.writeFileSync(input, minimalPdf());
      const sign = spawnSync(
        process.execPath,
        [
          SIDIAN_BIN, 'sign', input, '-o', output, '--pkcs11-label', 'seal', '--cert', path.join(dir, 'seal.pem'),
          '--tsa', `${s.url}/api/tsa`, '--reason', '准予许可',
        ],
        { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 },
      ); // prettier-ignore
      expect(sign.stderr).toContain('signed');
      expect(sign.status).toBe(0);

      const [sig] = pdfsig(output);
      expect(sig?.valid, sig?.text).toBe(true);
      expect(sig!.text).toMatch(/Signature Type: ETSI\.CAdES\.detached/);

      // the server's own verifier: valid, time-stamped by the HSM TSA, trusted through the HSM CA
      const report = (await (
        await fetch(`${s.url}/api/verify`, { method: 'POST', body: fs.readFileSync(output) })
      ).json()) as {
        status: string;
        signatures: { level: string; trust: string; timestampTime: string | null }[];
      };
      expect(report.status).toBe('valid');
      expect(report.signatures[0]).toMatchObject({ level: 'B-T', trust: 'trusted' });
      expect(report.signatures[0]!.timestampTime).toBeTruthy();

      // enrolment: the certificate is signed by the CA key on the token; openssl verifies it
      execFileSync(
        'openssl',
        ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'c.key'],
        { cwd: dir, stdio: 'pipe' },
      );
      execFileSync('openssl', ['req', '-new', '-key', 'c.key', '-subj', '/CN=x', '-out', 'c.csr'], {
        cwd: dir,
        stdio: 'pipe',
      });
      const enrolled = await fetch(`${s.url}/api/enrol`, {
        method: 'POST',
        body: JSON.stringify({ csr: fs.readFileSync(path.join(dir, 'c.csr'), 'utf8') }),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await portal.token()}` },
      });
      expect(enrolled.status).toBe(201);
      fs.writeFileSync(
        path.join(dir, 'citizen.pem'),
        ((await enrolled.json()) as { certificate: string }).certificate,
      );
      expect(
        execFileSync('openssl', ['verify', '-CAfile', 'ca.pem', 'citizen.pem'], {
          cwd: dir,
          stdio: 'pipe',
        }).toString(),
      ).toContain('OK');

      // the CRL is signed by the CA key on the token too
      const crl = await fetch(`${s.url}/api/crl`);
      expect(crl.status).toBe(200);
      fs.writeFileSync(path.join(dir, 'ca.crl'), new Uint8Array(await crl.arrayBuffer()));
      const crlCheck = spawnSync(
        'openssl',
        ['crl', '-inform', 'DER', '-in', 'ca.crl', '-CAfile', 'ca.pem', '-noout'],
        {
          cwd: dir,
          encoding: 'utf8',
        },
      );
      expect(crlCheck.stdout + crlCheck.stderr).toMatch(/verify OK/);

      // a seal key label that is not on the token: a clear error, no output
      const wrong = spawnSync(
        process.execPath,
        [SIDIAN_BIN, 'sign', input, '-o', path.join(dir, 'x.pdf'), '--pkcs11-label', 'nope', '--cert', path.join(dir, 'seal.pem')],
        { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 },
      ); // prettier-ignore
      expect(wrong.status).toBe(1);
      expect(wrong.stderr).toContain('PKCS11_KEY');
      expect(fs.existsSync(path.join(dir, 'x.pdf'))).toBe(false);
    } finally {
      await stopChild(s.child);
    }
  });

  it('a wrong PIN or a missing key label stops the start with a clear message', () => {
    const run = (extra: Record<string, string>) =>
      spawnSync(process.execPath, [SIDIAN_BIN, 'serve', '--port', '0', '--data', tempDir(), '--quiet'], {
        env: { ...process.env, ...env, ...extra },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const badPin = path.join(dir, 'bad-pin');
    fs.writeFileSync(badPin, '000000\n', { mode: 0o600 });
    let r = run({ SIDIAN_PKCS11_PIN_FILE: badPin });
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining('PKCS11_LOGIN')]);
    r = run({ SIDIAN_SEAL_PKCS11_LABEL: 'no-such-key' });
    expect([r.status, r.stderr]).toEqual([
      1,
      expect.stringContaining('no private key labelled "no-such-key"'),
    ]);
    // the TSA's certificate with the CA key: refused, the key does not match
    r = run({ SIDIAN_CA_CERT: path.join(dir, 'tsa.pem') });
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining('PKI_KEY_MISMATCH')]);
  });
});
