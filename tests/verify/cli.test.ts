/**
 * `sidian verify` (DESIGN.md "Interfaces that others build on") through the real command,
 * `node server/bin/sidian.mjs verify`: exit 0 valid, 1 invalid, 2 indeterminate, 3 unsigned,
 * 4 unreadable (one line on stderr), and `--json` equal to verifyPdf's report.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signPdf } from '../../packages/core/src/sign/sign-pdf';
import { verifyPdf } from '../../packages/core/src/verify';
import type { VerifyOptions } from '../../packages/core/src/verify/types';
import { REPO_ROOT } from '../fixtures/paths';
import { issueCertificate, makeTempDir, removeDir } from '../helpers/openssl-pki';
import { addPage, createTestPki, loadInput, pkiFor, revokeAndMakeCrl, type TestPki } from './generator';

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

let dir: string;
let pki: TestPki;
const files: Record<string, string> = {};
const bytes: Record<string, Uint8Array> = {};
let caFile: string;
let crlFile: string;
let crlPem: string;

function put(name: string, data: Uint8Array): void {
  const f = path.join(dir, `${name}.pdf`);
  writeFileSync(f, data);
  files[name] = f;
  bytes[name] = data;
}

beforeAll(async () => {
  dir = makeTempDir('sidian-verify-cli-');
  pki = await createTestPki(dir);
  caFile = path.join(dir, 'ca.pem');
  writeFileSync(caFile, pki.ca.certPem);
  const signed = await signPdf(loadInput('classic-1.3'), { signer: pki.signer });
  put('signed', signed);
  const flipped = signed.slice();
  flipped[Buffer.from(signed).indexOf('Sidian fixture')]! ^= 0x01;
  put('flipped', flipped);
  put('added-page', addPage(signed));
  put('unsigned', loadInput('classic-1.3'));
  put('not-a-pdf', new TextEncoder().encode('GIF89a this is not a PDF at all'));
  const revokedCert = issueCertificate(pki.ca, { name: 'cli-revoked', subject: '/C=CN/CN=CLI Revoked' });
  const revokedSigner = await pkiFor(dir, pki.ca, revokedCert);
  put('revoked', await signPdf(loadInput('classic-1.3'), { signer: revokedSigner.signer }));
  const crl = revokeAndMakeCrl(pki.ca, revokedCert);
  crlPem = crl.pem;
  crlFile = path.join(dir, 'ca.crl');
  writeFileSync(crlFile, crl.der);
});

afterAll(() => {
  if (dir) removeDir(dir);
});

// every test starts `node server/bin/sidian.mjs` (tsx compiles on the fly): slow on a loaded machine
vi.setConfig({ testTimeout: 180_000 });

describe('sidian verify: exit codes', () => {
  it('0 valid (--trust), 2 indeterminate (no anchor), 1 invalid (flipped byte, added page), 3 unsigned, 4 unreadable', async () => {
    const [valid, indeterminate, flipped, addedPage, unsigned, unreadable] = await Promise.all([
      sidian(['verify', files.signed!, '--trust', caFile]),
      sidian(['verify', files.signed!]),
      sidian(['verify', files.flipped!, '--trust', caFile]),
      sidian(['verify', files['added-page']!, '--trust', caFile]),
      sidian(['verify', files.unsigned!, '--trust', caFile]),
      sidian(['verify', files['not-a-pdf']!, '--trust', caFile]),
    ]);
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stdout).toMatch(/valid/);
    expect(indeterminate.code).toBe(2);
    expect(flipped.code).toBe(1);
    expect(flipped.stdout).toMatch(/digest-mismatch/);
    expect(addedPage.code).toBe(1);
    expect(addedPage.stdout).toMatch(/disallowed/);
    expect(unsigned.code).toBe(3);
    expect(unreadable.code).toBe(4);
    // one line on stderr, with the error code; nothing on stdout
    expect(unreadable.stderr.trim().split('\n')).toHaveLength(1);
    expect(unreadable.stderr).toMatch(/^sidian: .*not-a-pdf\.pdf: PDF_NOT_PDF: /);
    expect(unreadable.stdout).toBe('');
  });

  it('a missing file is unreadable input (4)', async () => {
    const r = await sidian(['verify', path.join(dir, 'no-such-file.pdf')]);
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--crl: a revoked signer is indeterminate (2) with trust revoked; without the CRL valid (0)', async () => {
    const [withCrl, without] = await Promise.all([
      sidian(['verify', files.revoked!, '--trust', caFile, '--crl', crlFile, '--json']),
      sidian(['verify', files.revoked!, '--trust', caFile]),
    ]);
    expect(withCrl.code).toBe(2);
    expect(JSON.parse(withCrl.stdout).signatures[0].trust).toBe('revoked');
    expect(without.code).toBe(0);
  });

  it('several files: the worst exit code (4 > 1 > 2 > 3 > 0), and --json keyed by file', async () => {
    const r = await sidian([
      'verify',
      files.signed!,
      files.unsigned!,
      files.flipped!,
      '--trust',
      caFile,
      '--json',
    ]);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as Record<string, { status: string }>;
    expect(json[files.signed!]!.status).toBe('valid');
    expect(json[files.unsigned!]!.status).toBe('unsigned');
    expect(json[files.flipped!]!.status).toBe('invalid');
    const r4 = await sidian(['verify', files.signed!, files['not-a-pdf']!, '--trust', caFile, '--json']);
    expect(r4.code).toBe(4);
    expect((JSON.parse(r4.stdout) as Record<string, { error?: string }>)[files['not-a-pdf']!]!.error).toBe(
      'PDF_NOT_PDF',
    );
  });
});

describe('sidian verify --json', () => {
  const cases: { name: string; args: () => string[]; options: () => VerifyOptions }[] = [
    { name: 'signed', args: () => ['--trust', caFile], options: () => ({ trustAnchors: [pki.ca.certPem] }) },
    { name: 'signed', args: () => [], options: () => ({}) },
    { name: 'flipped', args: () => ['--trust', caFile], options: () => ({ trustAnchors: [pki.ca.certPem] }) },
    {
      name: 'added-page',
      args: () => ['--trust', caFile],
      options: () => ({ trustAnchors: [pki.ca.certPem] }),
    },
    {
      name: 'unsigned',
      args: () => ['--trust', caFile],
      options: () => ({ trustAnchors: [pki.ca.certPem] }),
    },
    {
      name: 'revoked',
      args: () => ['--trust', caFile, '--crl', crlFile],
      options: () => ({ trustAnchors: [pki.ca.certPem], crls: [crlPem] }),
    },
  ];
  for (const c of cases) {
    it(`equals verifyPdf's report: ${c.name} ${c.args().length ? 'with' : 'without'} options`, async () => {
      const [run, report] = await Promise.all([
        sidian(['verify', files[c.name]!, '--json', ...c.args()]),
        verifyPdf(bytes[c.name]!, c.options()),
      ]);
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual(JSON.parse(JSON.stringify(report)));
    });
  }

  it('an unreadable file: {error, message} and exit 4', async () => {
    const r = await sidian(['verify', files['not-a-pdf']!, '--json']);
    expect(r.code).toBe(4);
    const json = JSON.parse(r.stdout) as { error: string; message: string };
    expect(json.error).toBe('PDF_NOT_PDF');
    expect(json.message.length).toBeGreaterThan(0);
  });
});
