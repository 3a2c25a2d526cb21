/**
 * `sidian extend --ltv` and `sidian verify --at` through the real command (`node server/bin/sidian.mjs`):
 * B-LT with CRLs and OCSP fetched from the URLs in the certificates (a local HTTP server answers with
 * `openssl ca -gencrl` and `openssl ocsp`), B-LTA with a real TSA, earlier signatures still valid for
 * pdfsig, and the verdict days after the seal certificate expired.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedLicence } from '../../packages/core/src/licence/index';
import { minimalPdf, sampleLicence } from '../../packages/core/src/licence/licence.test-helpers';
import { signPdf } from '../../packages/core/src/sign/sign-pdf';
import { REPO_ROOT } from '../fixtures/paths';
import {
  type Ca,
  type Entity,
  OPENSSL,
  createCa,
  issueIntermediateCa,
  makeTempDir,
  openssl,
  removeDir,
} from '../helpers/openssl-pki';
import { startOpensslTsa, type OpensslTsa } from '../helpers/tsa-shim';
import { pdfsig } from '../interop/verifiers';
import { makeCrl, pkiFor } from './generator';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sidian(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(REPO_ROOT, 'server/bin/sidian.mjs'), ...args],
      { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
      },
    );
  });
}

const DAY = 86400_000;
let dir: string;
let root: Ca;
let inter: Ca;
let tsa: OpensslTsa;
let server: http.Server;
let base: string;
let requests: string[] = [];
const f: Record<string, string> = {};

/** A seal certificate valid for one day whose CRL distribution point and OCSP responder are on `base`. */
function issueSealWithUrls(ca: Ca, name = 'seal', ocsp = true): Entity {
  const d = path.join(path.dirname(ca.dir), name);
  mkdirSync(d, { recursive: true });
  const ext = path.join(d, 'ext.cnf');
  writeFileSync(
    ext,
    `[ ext_seal ]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, nonRepudiation\n` +
      `subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n` +
      `crlDistributionPoints = URI:${base}/inter.crl\n` +
      (ocsp ? `authorityInfoAccess = OCSP;URI:${base}/ocsp\n` : ''),
  );
  const keyFile = path.join(d, `${name}.key`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
  const csr = path.join(d, `${name}.csr`);
  const subject = '/C=CN/O=项城市市场监督管理局/CN=项城市市场监督管理局电子印章';
  openssl([
    'req',
    '-new',
    '-utf8',
    '-key',
    keyFile,
    '-subj',
    subject,
    '-out',
    csr,
    '-config',
    path.join(ca.dir, 'ca.cnf'),
  ]);
  const certFile = path.join(d, `${name}.pem`);
  const now = Date.now();
  const date = (t: number) =>
    new Date(t)
      .toISOString()
      .replace(/[-:T]/g, '')
      .replace(/\.\d+Z$/, 'Z');
  openssl([
    'ca',
    '-batch',
    '-notext',
    '-utf8',
    '-preserveDN',
    '-config',
    ca.configFile,
    '-extfile',
    ext,
    '-extensions',
    'ext_seal',
    '-startdate',
    date(now - 3600_000),
    '-enddate',
    date(now + DAY),
    '-in',
    csr,
    '-out',
    certFile,
  ]);
  const certPem = readFileSync(certFile, 'utf8');
  const keyPkcs8 = new Uint8Array(
    openssl(['pkcs8', '-topk8', '-nocrypt', '-in', keyFile, '-outform', 'DER']),
  );
  const certDer = new Uint8Array(openssl(['x509', '-in', certFile, '-outform', 'DER']));
  return {
    name,
    dir: d,
    subject,
    certFile,
    certPem,
    certDer,
    keyFile,
    keyPkcs8,
    keySpec: 'p-256',
    issuer: ca,
  };
}

beforeAll(async () => {
  dir = makeTempDir('sidian-ltv-cli-');
  // the CA's publication point: its CRL by GET, OCSP by POST (answered by `openssl ocsp`)
  server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/inter.crl') {
        res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(Buffer.from(makeCrl(inter).der));
      } else if (req.method === 'POST' && req.url === '/ocsp') {
        const q = path.join(dir, `q${requests.length}.der`);
        const r = q.replace(/q(\d+)\.der$/, 'r$1.der');
        writeFileSync(q, Buffer.concat(chunks));
        const idx = path.join(inter.dir, 'db', 'index.txt');
        execFileSync(
          OPENSSL,
          [
            'ocsp',
            '-index',
            idx,
            '-rsigner',
            inter.certFile,
            '-rkey',
            inter.keyFile,
            '-CA',
            inter.certFile,
            '-reqin',
            q,
            '-respout',
            r,
            '-ndays',
            '7',
          ],
          { stdio: 'pipe' },
        );
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(readFileSync(r));
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  root = createCa(dir, { name: 'root', subject: '/C=CN/O=Sidian Test/CN=Sidian CLI Root CA' });
  inter = issueIntermediateCa(root, { name: 'inter', subject: '/C=CN/O=Sidian Test/CN=Sidian CLI Seal CA' });
  const seal = await pkiFor(dir, inter, issueSealWithUrls(inter));
  tsa = await startOpensslTsa(path.join(dir, 'tsa'));
  const put = (name: string, data: Uint8Array | string) => {
    f[name] = path.join(dir, name);
    writeFileSync(f[name], data);
  };
  put(
    'sealed.pdf',
    await signPdf(embedLicence(minimalPdf(), sampleLicence()), { signer: seal.signer, certify: 2 }),
  );
  // a seal certificate that names only a CRL distribution point
  const crlOnly = await pkiFor(dir, inter, issueSealWithUrls(inter, 'seal-crl-only', false));
  put('sealed-crl-only.pdf', await signPdf(minimalPdf(), { signer: crlOnly.signer }));
  put('root.pem', root.certPem);
  put('tsa-ca.pem', tsa.caPem);
  put('root.crl', makeCrl(root).der);
  put('unsigned.pdf', minimalPdf());
  for (const n of ['lt.pdf', 'lta.pdf', 'nothing.pdf', 'lt-crl.pdf']) f[n] = path.join(dir, n);
}, 120_000);

afterAll(async () => {
  await tsa?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  if (dir) removeDir(dir);
});

describe('sidian extend --ltv', () => {
  it('B-LT: fetches the OCSP response named in the seal certificate; the input is a prefix of the output', async () => {
    requests = [];
    const r = await sidian([
      'extend',
      f['sealed.pdf']!,
      '-o',
      f['lt.pdf']!,
      '--ltv',
      '--trust',
      f['root.pem']!,
      '--crl',
      f['root.crl']!,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/B-LT\b/);
    expect(requests).toContain('POST /ocsp');
    const input = readFileSync(f['sealed.pdf']!);
    expect(readFileSync(f['lt.pdf']!).subarray(0, input.length).equals(input)).toBe(true);
  });

  it('B-LT from the CRL distribution point when the certificate names no OCSP responder', async () => {
    requests = [];
    const r = await sidian([
      'extend',
      f['sealed-crl-only.pdf']!,
      '-o',
      f['lt-crl.pdf']!,
      '--ltv',
      '--trust',
      f['root.pem']!,
      '--crl',
      f['root.crl']!,
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(requests).toEqual(['GET /inter.crl']);
    expect(JSON.parse(r.stdout)).toMatchObject({
      level: 'B-LT',
      added: { crls: 2, ocsps: 0, fetched: [`${base}/inter.crl`] },
    });
    const v = await sidian(['verify', f['lt-crl.pdf']!, '--trust', f['root.pem']!, '--json']);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout).signatures[0].evidence.revocation).toContainEqual(
      expect.objectContaining({
        kind: 'crl',
        source: 'dss',
        issuer: expect.stringContaining('Seal CA'),
        status: 'good',
      }),
    );
  });

  it('B-LTA with --tsa; pdfsig still finds the seal intact and the document time-stamp added', async () => {
    const r = await sidian([
      'extend',
      f['sealed.pdf']!,
      '-o',
      f['lta.pdf']!,
      '--ltv',
      '--tsa',
      tsa.url,
      '--trust',
      f['root.pem']!,
      '--crl',
      f['root.crl']!,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      level: string;
      added: { ocsps: number; crls: number; fetched: string[] };
    };
    expect(out).toMatchObject({ level: 'B-LTA', added: { ocsps: 1, crls: 1 } });
    expect(out.added.fetched).toEqual([`${base}/ocsp`]);
    const sigs = pdfsig(f['lta.pdf']!);
    // the seal had no time-stamp: a document time-stamp, the DSS, the archive time-stamp
    expect(sigs.length).toBe(3);
    expect(sigs[0]!.valid).toBe(true);
    expect(sigs[0]!.signer).toContain('电子印章');
  });

  it('bad input: unsigned PDF, missing --ltv, unreachable revocation data — clear errors, nothing written', async () => {
    let r = await sidian(['extend', f['unsigned.pdf']!, '-o', f['nothing.pdf']!, '--ltv']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^sidian: LTV_NOTHING_TO_EXTEND: /);
    r = await sidian(['extend', f['sealed.pdf']!, '-o', f['nothing.pdf']!]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--ltv/);
    // the CA's publication point is down
    const saved = base;
    await new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    try {
      r = await sidian([
        'extend',
        f['sealed.pdf']!,
        '-o',
        f['nothing.pdf']!,
        '--ltv',
        '--trust',
        f['root.pem']!,
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^sidian: REVOCATION_UNREACHABLE: .*127\.0\.0\.1/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise<void>((resolve) => server.listen(Number(new URL(saved).port), '127.0.0.1', resolve));
    }
    expect(() => readFileSync(f['nothing.pdf']!)).toThrow();
  });
});

describe('sidian verify --at', () => {
  const later = () => new Date(Date.now() + 3 * DAY).toISOString();

  it('after the seal certificate expired: B-LTA valid (exit 0), naming the time-stamp and the OCSP response used', async () => {
    const r = await sidian([
      'verify',
      f['lta.pdf']!,
      '--trust',
      f['root.pem']!,
      '--trust',
      f['tsa-ca.pem']!,
      '--at',
      later(),
      '--json',
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      status: string;
      signatures: {
        kind: string;
        validationTime: string;
        evidence: { timestamp: { kind: string }; revocation: { kind: string; source: string }[] };
      }[];
    };
    expect(report.status).toBe('valid');
    const seal = report.signatures.find((s) => s.kind !== 'document-timestamp')!;
    expect(seal.evidence.timestamp.kind).toBe('document-timestamp');
    expect(seal.evidence.revocation).toContainEqual(expect.objectContaining({ kind: 'ocsp', source: 'dss' }));
    const text = await sidian([
      'verify',
      f['lta.pdf']!,
      '--trust',
      f['root.pem']!,
      '--trust',
      f['tsa-ca.pem']!,
      '--at',
      later(),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/validated at .*document time-stamp/);
    expect(text.stdout).toMatch(/OCSP \(dss object \d+\)/);
  });

  it('the same time without the archive time-stamp (B-LT): indeterminate (exit 2); today: valid', async () => {
    let r = await sidian(['verify', f['lt.pdf']!, '--trust', f['root.pem']!, '--at', later()]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/expired/);
    r = await sidian(['verify', f['lt.pdf']!, '--trust', f['root.pem']!]);
    expect(r.code).toBe(0);
  });

  it('--at that is not a time is a usage error', async () => {
    const r = await sidian(['verify', f['lta.pdf']!, '--at', 'next tuesday']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--at 不是有效的 ISO-8601 时间 is not an ISO-8601 time/);
  });
});
