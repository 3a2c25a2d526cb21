/**
 * Production as docs/production.md describes it: `sidian serve` without `--dev`, the operator's PKI
 * made with openssl (an encrypted PEM CA key, PKCS#12 TSA and seal), passwords from the environment
 * and from files, a portal key with issuer and audience — started as its own process on SQLite and
 * on PostgreSQL. And what production and development mode refuse.
 */
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  freePort,
  PORTAL_AUDIENCE,
  PORTAL_ISSUER,
  postgresAvailable,
  SIDIAN_BIN,
  spawnServer,
  startPostgres,
  stopChild,
  tempDir,
  testPortal,
  type PgCluster,
} from './test/harness';

const children: ChildProcess[] = [];
let cluster: Promise<PgCluster> | undefined;
const pgCluster = () => (cluster ??= startPostgres());
const dbKinds = postgresAvailable() ? ['sqlite', 'postgres'] : ['sqlite'];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (cluster) await (await cluster).stop();
});

/** The process environment without any SIDIAN_* or DATABASE_URL the developer may have set. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('SIDIAN_') && k !== 'DATABASE_URL') env[k] = v;
  return { ...env, ...extra };
}

/** `sidian serve ARGS` expected to refuse: exit code and stderr (killed after 60 s if it starts). */
function serveRefuses(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [SIDIAN_BIN, 'serve', '--port', '0', '--quiet', ...args], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

const openssl = (args: string[], cwd: string, env: Record<string, string> = {}) =>
  execFileSync('openssl', args, { cwd, stdio: 'pipe', env: { ...process.env, ...env } }).toString();

/**
 * The operator's PKI as a department's operations team would make it with openssl: a CA with an
 * encrypted PEM key, a TSA certificate (critical timeStamping EKU) and a seal certificate, both as
 * PKCS#12. Returns the environment docs/production.md documents for them.
 */
function makeOperatorPki(dir: string): Record<string, string> {
  const pw = { CA_PW: 'ca-key-passphrase-1', TSA_PW: 'tsa-p12-password-2', SEAL_PW: 'seal-p12-password-3' };
  const secretFile = (name: string, text: string) =>
    fs.writeFileSync(path.join(dir, name), text + '\n', { mode: 0o600 });
  secretFile('ca.pass', pw.CA_PW);
  secretFile('seal.pass', pw.SEAL_PW);
  const ec = ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  openssl([...ec, '-aes-256-cbc', '-pass', 'file:ca.pass', '-out', 'ca.key.pem'], dir);
  openssl(
    [
      'req', '-new', '-x509', '-key', 'ca.key.pem', '-passin', 'file:ca.pass', '-days', '3650',
      '-subj', '/C=CN/O=Xiangcheng Data Bureau/CN=Xiangcheng Government Services CA',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-out', 'ca.pem',
    ],
    dir,
  ); // prettier-ignore
  const leaf = (name: string, subject: string, ext: string, password: string) => {
    fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
    openssl([...ec, '-out', `${name}.key.pem`], dir);
    openssl(['req', '-new', '-key', `${name}.key.pem`, '-subj', subject, '-out', `${name}.csr`], dir);
    openssl(
      [
        'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key.pem', '-passin', 'file:ca.pass',
        '-CAcreateserial', '-days', '1000', '-extfile', `${name}.ext`, '-out', `${name}.pem`,
      ],
      dir,
    ); // prettier-ignore
    openssl(
      [
        'pkcs12', '-export', '-inkey', `${name}.key.pem`, '-in', `${name}.pem`, '-certfile', 'ca.pem',
        '-passout', 'env:P12_PW', '-out', `${name}.p12`,
      ],
      dir,
      { P12_PW: password },
    ); // prettier-ignore
    fs.chmodSync(path.join(dir, `${name}.p12`), 0o600);
    fs.rmSync(path.join(dir, `${name}.key.pem`)); // the PKCS#12 is the only copy of the key
  };
  const common =
    'subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nbasicConstraints=critical,CA:FALSE\n';
  leaf(
    'tsa',
    '/C=CN/O=Xiangcheng Data Bureau/CN=Xiangcheng TSA',
    common + 'keyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=critical,timeStamping\n',
    pw.TSA_PW,
  );
  leaf(
    'seal',
    '/C=CN/O=Xiangcheng Market Supervision Bureau/CN=Xiangcheng Market Supervision Bureau',
    common + 'keyUsage=critical,digitalSignature,nonRepudiation\n',
    pw.SEAL_PW,
  );
  fs.chmodSync(path.join(dir, 'ca.key.pem'), 0o600);
  const f = (name: string) => path.join(dir, name);
  return {
    SIDIAN_CA_KEY: f('ca.key.pem'),
    SIDIAN_CA_CERT: f('ca.pem'),
    SIDIAN_CA_PASSWORD_FILE: f('ca.pass'),
    SIDIAN_TSA_P12: f('tsa.p12'),
    SIDIAN_TSA_PASSWORD: pw.TSA_PW, // from the environment (systemd EnvironmentFile)
    SIDIAN_SEAL_P12: f('seal.p12'),
    SIDIAN_SEAL_PASSWORD_FILE: f('seal.pass'),
  };
}

async function portalEnv(dir: string) {
  const portal = await testPortal();
  fs.writeFileSync(path.join(dir, 'portal.pub.pem'), portal.publicKeyPem);
  return {
    portal,
    env: {
      SIDIAN_PORTAL_PUBLIC_KEY: path.join(dir, 'portal.pub.pem'),
      SIDIAN_PORTAL_ISSUER: PORTAL_ISSUER,
      SIDIAN_PORTAL_AUDIENCE: PORTAL_AUDIENCE,
    },
  };
}

describe('sidian serve: production by default', { timeout: 300_000 }, () => {
  it.each(dbKinds)(
    'starts from the documented configuration with the operator PKI files (%s): its CA, its TSA, its tokens only',
    async (kind) => {
      const etc = tempDir('sidian-etc-');
      const dataDir = tempDir();
      const { portal, env: portalVars } = await portalEnv(etc);
      const databaseUrl =
        kind === 'postgres' ? await (await pgCluster()).createDatabase(`prod_${process.pid}`) : undefined;
      const env = cleanEnv({
        ...makeOperatorPki(etc),
        ...portalVars,
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      });
      const s = await spawnServer(dataDir, await freePort(), env, { dev: false, log: true });
      children.push(s.child);
      try {
        // the operator's CA is the trust anchor; no development PKI was made
        const trust = await (await fetch(`${s.url}/api/trust?crl=0`)).text();
        expect(trust.replace(/\s/g, '')).toBe(
          fs.readFileSync(path.join(etc, 'ca.pem'), 'utf8').replace(/\s/g, ''),
        );
        expect(fs.existsSync(path.join(dataDir, 'pki'))).toBe(false);
        expect(s.output()).not.toMatch(/development/i);
        // no development routes
        for (const p of ['/api/dev/token', '/api/dev/department'])
          expect((await fetch(`${s.url}${p}`, { method: p.endsWith('token') ? 'POST' : 'GET' })).status).toBe(
            404,
          );

        // the TSA signs with the operator's TSA key: openssl verifies the reply against the operator's CA
        fs.writeFileSync(path.join(etc, 'doc.txt'), '营业执照');
        openssl(['ts', '-query', '-data', 'doc.txt', '-sha256', '-cert', '-out', 'q.tsq'], etc);
        const reply = await fetch(`${s.url}/api/tsa`, {
          method: 'POST',
          body: fs.readFileSync(path.join(etc, 'q.tsq')),
          headers: { 'content-type': 'application/timestamp-query' },
        });
        fs.writeFileSync(path.join(etc, 'r.tsr'), new Uint8Array(await reply.arrayBuffer()));
        expect(
          openssl(['ts', '-verify', '-data', 'doc.txt', '-in', 'r.tsr', '-CAfile', 'ca.pem'], etc),
        ).toContain('Verification: OK');
        expect(openssl(['ts', '-reply', '-in', 'r.tsr', '-text'], etc)).toContain('CN=Xiangcheng TSA');

        // enrolment with a token from the configured portal: the certificate is the operator CA's
        openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'c.key'], etc);
        openssl(['req', '-new', '-key', 'c.key', '-subj', '/CN=x', '-out', 'c.csr'], etc);
        const enrol = (token: string) =>
          fetch(`${s.url}/api/enrol`, {
            method: 'POST',
            body: JSON.stringify({ csr: fs.readFileSync(path.join(etc, 'c.csr'), 'utf8') }),
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          });
        const ok = await enrol(await portal.token());
        expect(ok.status).toBe(201);
        fs.writeFileSync(
          path.join(etc, 'citizen.pem'),
          ((await ok.json()) as { certificate: string }).certificate,
        );
        expect(openssl(['verify', '-CAfile', 'ca.pem', 'citizen.pem'], etc)).toContain('OK');

        // tokens for another audience or issuer, without iat, or living longer than the maximum: refused
        for (const [o, code] of [
          [{ audience: 'another-service' }, 'TOKEN_INVALID'],
          [{ issuer: 'https://evil.example.com' }, 'TOKEN_INVALID'],
          [{ noIat: true }, 'TOKEN_INVALID'],
          [{ lifetime: 3601 }, 'TOKEN_LIFETIME_TOO_LONG'],
          [{ lifetime: 30 * 24 * 3600 }, 'TOKEN_LIFETIME_TOO_LONG'],
        ] as const) {
          const r = await enrol(await portal.token(o));
          expect(r.status, JSON.stringify(o)).toBe(401);
          expect(((await r.json()) as { error: string }).error, JSON.stringify(o)).toBe(code);
        }

        // the anonymous health check says only that the server is up
        expect(await (await fetch(`${s.url}/api/health`)).json()).toEqual({ status: 'ok' });
      } finally {
        await stopChild(s.child);
      }
      // no secret reached the log
      for (const secret of ['ca-key-passphrase-1', 'tsa-p12-password-2', 'seal-p12-password-3'])
        expect(s.output()).not.toContain(secret);
    },
  );

  it('a lower SIDIAN_PORTAL_MAX_TOKEN_LIFETIME refuses what the default allows', async () => {
    const etc = tempDir('sidian-etc-');
    const { portal, env: portalVars } = await portalEnv(etc);
    const env = cleanEnv({ ...makeOperatorPki(etc), ...portalVars, SIDIAN_PORTAL_MAX_TOKEN_LIFETIME: '600' });
    const s = await spawnServer(tempDir(), await freePort(), env, { dev: false });
    children.push(s.child);
    try {
      const status = async (lifetime: number) =>
        (
          await fetch(`${s.url}/api/materials/by-hash/${'0'.repeat(64)}`, {
            method: 'HEAD',
            headers: { authorization: `Bearer ${await portal.token({ lifetime })}` },
          })
        ).status;
      expect(await status(600)).not.toBe(401);
      expect(await status(601)).toBe(401);
    } finally {
      await stopChild(s.child);
    }
  });

  it('refuses to start on a fresh data folder without the operator PKI, and writes nothing there', () => {
    const dataDir = path.join(tempDir(), 'data');
    const r = serveRefuses(['--data', dataDir], cleanEnv());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('PKI_MISSING');
    expect(r.stderr).toContain('生产模式不会自行生成 PKI');
    expect(r.stderr).toContain('Production never invents a PKI');
    expect(r.stderr).toContain('--dev');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(dataDir)).toBe(false);
    // the old --production flag is the default now, and changes nothing
    expect(serveRefuses(['--production', '--data', dataDir], cleanEnv()).stderr).toContain('PKI_MISSING');
  });

  it('refuses a partial, wrong or careless PKI configuration with a message naming the fix', async () => {
    const etc = tempDir('sidian-etc-');
    const dataDir = tempDir();
    const pki = makeOperatorPki(etc);
    const { env: portalVars } = await portalEnv(etc);
    const refuse = (vars: Record<string, string>, args: string[] = []) =>
      serveRefuses(['--data', dataDir, ...args], cleanEnv({ ...portalVars, ...vars }));

    const noSeal = { ...pki } as Record<string, string>;
    delete noSeal.SIDIAN_SEAL_P12;
    let r = refuse(noSeal);
    expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/PKI_MISSING.*missing: seal/s)]);

    // the TSA's certificate with the seal's key: the key does not belong to it
    r = refuse({ ...pki, SIDIAN_SEAL_CERT: path.join(etc, 'tsa.pem') });
    expect([r.code, r.stderr]).toEqual([1, expect.stringContaining('PKI_KEY_MISMATCH')]);

    // the seal's certificate as the TSA: no timeStamping EKU
    r = refuse({
      ...pki,
      SIDIAN_TSA_P12: pki.SIDIAN_SEAL_P12!,
      SIDIAN_TSA_PASSWORD: fs.readFileSync(path.join(etc, 'seal.pass'), 'utf8').trim(),
    });
    expect([r.code, r.stderr]).toEqual([1, expect.stringContaining('PKI_TSA')]);

    // a wrong password
    r = refuse({ ...pki, SIDIAN_TSA_PASSWORD: 'guess' });
    expect([r.code, r.stderr]).toEqual([1, expect.stringContaining('PKI_P12')]);

    // a key file every user can read
    fs.chmodSync(path.join(etc, 'seal.p12'), 0o644);
    r = refuse(pki);
    expect([r.code, r.stderr]).toEqual([1, expect.stringContaining('PKI_FILE_MODE')]);
    fs.chmodSync(path.join(etc, 'seal.p12'), 0o600);

    // passwords are never command-line arguments
    r = refuse(pki, ['--seal-password', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option.*--seal-password/i);

    // a portal without audience or issuer
    for (const name of ['SIDIAN_PORTAL_AUDIENCE', 'SIDIAN_PORTAL_ISSUER']) {
      const vars = { ...pki, ...portalVars } as Record<string, string>;
      delete vars[name];
      r = serveRefuses(['--data', dataDir], cleanEnv(vars));
      expect([r.code, r.stderr]).toEqual([
        1,
        expect.stringMatching(new RegExp(`PORTAL_MISSING.*${name}`, 's')),
      ]);
    }
    expect(fs.existsSync(path.join(dataDir, 'pki'))).toBe(false);
  });

  it('development mode must be asked for, and then listens on loopback only', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10']) {
      const r = serveRefuses(['--dev', '--host', host, '--data', tempDir()], cleanEnv());
      expect(r.code, host).toBe(1);
      expect(r.stderr).toContain('DEV_NOT_LOOPBACK');
      expect(r.stderr).toContain('开发模式');
      expect(r.stderr).toContain('loopback only');
    }
    expect(serveRefuses(['--dev', '--production'], cleanEnv()).code).toBe(2);
    // with --dev on loopback: the development routes exist
    const s = await spawnServer(tempDir(), await freePort(), cleanEnv(), { args: ['--host', '127.0.0.1'] });
    children.push(s.child);
    try {
      const r = await fetch(`${s.url}/api/dev/token`, {
        method: 'POST',
        body: JSON.stringify({ name: '张三', idNumber: '110101199003074477' }),
        headers: { 'content-type': 'application/json' },
      });
      expect(r.status).toBe(200);
      expect((await fetch(`${s.url}/api/dev/department`)).status).toBe(200);
    } finally {
      await stopChild(s.child);
    }
  });
});
