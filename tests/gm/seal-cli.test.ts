/**
 * `sidian seal make|show|verify` through the real command (`node server/bin/sidian.mjs`): a seal
 * made from an SM2 PKCS#12 maker key shows its fields and picture and verifies (exit 0); altered,
 * expired or untrusted seals exit 1, no trust anchors 2, unreadable input 4, usage mistakes 2.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSeal, sealPdf } from '../../packages/core/src/gm/ses';
import { signerFromSm2 } from '../../packages/core/src/signer/sm2';
import { GM_DIR, REPO_ROOT } from '../fixtures/paths';
import {
  createCa,
  issueCertificate,
  makePkcs12,
  makeTempDir,
  removeDir,
  type Ca,
  type Entity,
} from '../helpers/openssl-pki';
import { loadInput, loadSealPng } from '../verify/generator';

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
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
      },
    );
  });
}

let dir: string;
let ca: Ca;
let maker: Entity;
let holder: Entity;
let p12: string;
let seal: string;
let png: string;
const ofdrw = (n: string) => path.join(GM_DIR, 'ofdrw', n);

beforeAll(async () => {
  dir = makeTempDir('sidian-seal-cli-');
  ca = createCa(dir, { name: 'ca', key: 'sm2', subject: '/C=CN/O=四电测试/CN=四电 SM2 根 CA' });
  maker = issueCertificate(ca, { name: 'maker', key: 'sm2', subject: '/C=CN/O=四电测试/CN=四电制章者' });
  holder = issueCertificate(ca, { name: 'holder', key: 'sm2', subject: '/C=CN/O=四电测试局/CN=四电测试局' });
  p12 = makePkcs12(maker, { password: 'pw-123' }).file;
  png = path.join(dir, 'seal.png');
  writeFileSync(png, loadSealPng());
  seal = path.join(dir, 'seal.esl');
  const made = await sidian([
    'seal',
    'make',
    '-o',
    seal,
    '--p12',
    p12,
    '--password',
    'pw-123',
    '--holder',
    holder.certFile,
    '--picture',
    png,
    '--name',
    '四电测试局公章',
    '--type',
    '1',
    '--valid-to',
    new Date(Date.now() + 365 * 86_400_000).toISOString(),
    '--size',
    '42x42',
    '--es-id',
    'CLI-0001',
  ]);
  expect(made.stderr).toContain('CLI-0001');
  expect(made.code).toBe(0);
});

afterAll(() => {
  if (dir) removeDir(dir);
});

describe('sidian seal', () => {
  it('make writes a V4 seal with the given fields, maker and holder', () => {
    const s = parseSeal(new Uint8Array(readFileSync(seal)));
    expect(s).toMatchObject({
      header: { version: 4 },
      esID: 'CLI-0001',
      property: { name: '四电测试局公章', type: 1, certs: [holder.certDer] },
      picture: { type: 'PNG', width: 42, height: 42 },
    });
    expect(s.makerCertificate).toEqual(maker.certDer);
  });

  it('show prints the fields in zh-CN and English and extracts the picture; --json too', async () => {
    const out = path.join(dir, 'out.png');
    const r = await sidian(['seal', 'show', seal, '--picture-out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('印章名称 name:          四电测试局公章');
    expect(r.stdout).toContain('单位印章 organisation seal');
    expect(r.stdout).toContain('CN=四电测试局');
    expect(readFileSync(out)).toEqual(Buffer.from(loadSealPng()));
    const j = await sidian(['seal', 'show', ofdrw('SignedValueV4.dat'), '--json']);
    expect(j.code).toBe(0);
    const parsed = JSON.parse(j.stdout) as {
      seal: { name: string; validEnd: string };
      signature: { time: string };
    };
    expect(parsed.seal).toMatchObject({ name: 'OFD R&W 测试用印章', validEnd: '2022-04-22T02:09:00Z' });
    expect(parsed.signature.time).toBe('2020-10-12T11:14:03Z');
  });

  it('verify: valid (0) with the trust anchor, indeterminate (2) without, invalid (1) when untrusted or altered', async () => {
    const ok = await sidian(['seal', 'verify', seal, '--trust', ca.certFile]);
    expect(ok.stdout).toContain('有效 valid');
    expect(ok.code).toBe(0);
    const noAnchor = await sidian(['seal', 'verify', seal]);
    expect(noAnchor.code).toBe(2);
    expect(noAnchor.stdout).toContain('SES_MAKER_TRUST_UNKNOWN');
    const otherRoot = path.join(dir, 'other-root.pem');
    writeFileSync(otherRoot, createCa(dir, { name: 'other', key: 'sm2' }).certPem);
    const untrusted = await sidian(['seal', 'verify', seal, '--trust', otherRoot, '--json']);
    expect(untrusted.code).toBe(1);
    expect(JSON.parse(untrusted.stdout)).toMatchObject({ status: 'invalid', trust: 'untrusted' });
    const bytes = readFileSync(seal);
    const at = bytes.indexOf(Buffer.from('四电测试局公章'));
    bytes[at + 3] = bytes[at + 3]! ^ 1; // one byte of the name
    const altered = path.join(dir, 'altered.esl');
    writeFileSync(altered, bytes);
    const bad = await sidian(['seal', 'verify', altered, '--trust', ca.certFile]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('SES_MAKER_SIGNATURE_INVALID');
  });

  it('verify: an expired seal exits 1; the ofdrw seal is valid in 2021', async () => {
    const expired = await sidian(['seal', 'verify', seal, '--trust', ca.certFile, '--at', '2099-01-01']);
    expect(expired.code).toBe(1);
    expect(expired.stdout).toContain('SES_SEAL_EXPIRED');
    const root = path.join(dir, 'ofdrw-root.der');
    const { parsePkcs12 } = await import('../../packages/core/src/pki/pkcs12');
    writeFileSync(
      root,
      (await parsePkcs12(new Uint8Array(readFileSync(ofdrw('ROOT.p12'))), '123456')).certificate,
    );
    const v = await sidian(['seal', 'verify', ofdrw('UserV1.esl'), '--trust', root, '--at', '2021-01-01']);
    expect(v.code).toBe(0);
    const sig = await sidian([
      'seal',
      'verify',
      ofdrw('SignedValueV4.dat'),
      '--trust',
      root,
      '--at',
      '2021-01-01',
      '--data',
      ofdrw('Signature.xml'),
    ]);
    expect(sig.code).toBe(1);
    expect(sig.stdout).toContain('SES_DATA_HASH_MISMATCH');
  });

  it('verify takes a PDF sealed with the seal: exit 0 with the seal shown; without anchors 2', async () => {
    const pdf = await sealPdf(loadInput('classic-1.3'), {
      signer: signerFromSm2(holder.keyPkcs8, holder.certDer, [ca.certDer]),
      seal: new Uint8Array(readFileSync(seal)),
    });
    const file = path.join(dir, 'sealed.pdf');
    writeFileSync(file, pdf);
    const ok = await sidian(['seal', 'verify', file, '--trust', ca.certFile]);
    expect(ok.stdout).toContain('电子印章 seal CLI-0001 "四电测试局公章"');
    expect(ok.code).toBe(0);
    const open = await sidian(['seal', 'verify', file]);
    expect(open.code).toBe(2);
  });

  it('unreadable input exits 4 with a one-line reason; usage mistakes exit 2 with the usage', async () => {
    const r = await sidian(['seal', 'verify', ofdrw('LICENSE')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^sidian: .*SES_MALFORMED/);
    expect(r.stderr).not.toContain('    at ');
    const u = await sidian(['seal', 'make', '-o', path.join(dir, 'x.esl')]);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('usage: sidian seal make');
    const expiredMaker = await sidian([
      'seal',
      'make',
      '-o',
      path.join(dir, 'y.esl'),
      '--p12',
      ofdrw('SealBuilder.p12'),
      '--password',
      '777777',
      '--holder',
      holder.certFile,
      '--picture',
      png,
      '--name',
      'x',
      '--valid-to',
      '2030-01-01',
    ]);
    expect(expiredMaker.code).toBe(1);
    expect(expiredMaker.stderr).toMatch(/^sidian: CERT_EXPIRED: /);
  });
});
