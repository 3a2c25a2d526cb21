/**
 * The published forms of @sidian/core and @sidian/elements, as a user gets them: `npm pack` in each
 * workspace (prepack builds packages/<name>/dist and writes the published package.json), the tarballs
 * installed by npm into a plain project in a temporary folder, then
 * - plain `node` (no TypeScript loader) signs a PDF with a PKCS#12 made by openssl and verifies it;
 * - Vite builds a page that uses only <licence-viewer>;
 * - tsc type-checks a consumer with `moduleResolution: node16`, and rejects a wrong call.
 *
 * Isolated (vitest.isolated.config.ts, after the main suite): while npm packs, the workspace's
 * package.json points at the built files, which no other test file should see.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../fixtures/paths';
import { createCa, issueCertificate, makePkcs12, makeTempDir, removeDir } from '../helpers/openssl-pki';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const bin = (p: string) => path.join(REPO_ROOT, 'node_modules', p);

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 240_000,
  });
  return { status: r.status, stdout: r.stdout ?? '', out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

interface Tarball {
  file: string;
  /** paths inside the package, as npm packed them */
  files: string[];
}

function pack(workspace: string, dest: string): Tarball {
  // --json: the tarball's name and contents on stdout (prepack's output goes to stderr)
  const r = run(NPM, ['pack', '--json', '--pack-destination', dest], path.join(REPO_ROOT, workspace));
  if (r.status !== 0) throw new Error(`npm pack in ${workspace} failed:\n${r.out}`);
  const start = r.stdout.startsWith('[') ? 0 : r.stdout.indexOf('\n[') + 1;
  const [{ filename, files }] = JSON.parse(r.stdout.slice(start)) as [
    { filename: string; files: { path: string }[] },
  ];
  return { file: path.join(dest, filename), files: files.map((f) => f.path) };
}

describe('packages people can install', () => {
  let dir: string;
  let project: string;
  let core: Tarball;
  let elements: Tarball;

  beforeAll(async () => {
    dir = makeTempDir('sidian-packages-');
    core = pack('packages/core', dir);
    elements = pack('packages/elements', dir);
    project = path.join(dir, 'consumer');
    mkdirSync(project);
    writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2),
    );
    const install = run(
      NPM,
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--no-package-lock',
        core.file,
        elements.file,
      ],
      project,
    );
    if (install.status !== 0) throw new Error(`npm install failed:\n${install.out}`);
  }, 400_000);
  afterAll(() => {
    if (dir) removeDir(dir);
  });

  it('the tarballs ship built ES modules, .d.ts types and source maps, no TypeScript sources', () => {
    const files = core.files;
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.js.map');
    expect(files).toContain('dist/types/index.d.ts');
    const el = elements.files;
    for (const f of ['index', 'licence-viewer', 'seal-placer', 'signature-pad', 'material-uploader'])
      expect(el).toContain(`dist/${f}.js`);
    expect(el).toContain('dist/types/licence-viewer/define.d.ts');
    // editor support: the Custom Elements Manifest, web-types and the React/Vue typings made from it
    for (const f of ['custom-elements.json', 'web-types.json', 'types/react.d.ts', 'types/vue.d.ts'])
      expect(el).toContain(f);
    for (const f of [...files, ...el]) expect(f, f).not.toMatch(/(^src\/|\.test\.|(?<!\.d)\.ts$)/);
    const pkg = JSON.parse(
      readFileSync(path.join(project, 'node_modules/@sidian/elements/package.json'), 'utf8'),
    ) as { exports: Record<string, { types: string; import: string }>; dependencies: Record<string, string> };
    expect(pkg.exports['./licence-viewer.js']).toEqual({
      types: './dist/types/licence-viewer/define.d.ts',
      import: './dist/licence-viewer.js',
    });
    expect(pkg.dependencies['@sidian/core']).toBe('0.1.0');
    // the workspace's own package.json is back to the sources after packing
    const own = JSON.parse(readFileSync(path.join(REPO_ROOT, 'packages/core/package.json'), 'utf8')) as {
      exports: Record<string, string>;
    };
    expect(own.exports['.']).toBe('./src/index.ts');
    expect(existsSync(path.join(REPO_ROOT, 'packages/core/package.source.json'))).toBe(false);
  });

  it('plain node signs a PDF with an openssl PKCS#12 and verifies it; a changed byte is caught', async () => {
    const ca = createCa(dir, { subject: '/C=CN/O=Sidian Test/CN=Package Test Root CA' });
    const leaf = issueCertificate(ca, { name: 'seal', subject: '/C=CN/O=四电测试/CN=四电测试局' });
    const p12 = makePkcs12(leaf, { password: 'secret', chain: [ca] });
    const doc = await PDFDocument.create();
    doc.addPage([595, 842]).drawText('Sidian package test');
    writeFileSync(path.join(project, 'in.pdf'), await doc.save({ useObjectStreams: false }));
    writeFileSync(
      path.join(project, 'sign.mjs'),
      `import { readFileSync, writeFileSync } from 'node:fs';
import { signPdf, verifyPdf, signerFromPkcs12, SidianError } from '@sidian/core';
const [p12, caPem] = process.argv.slice(2);
const signer = await signerFromPkcs12(readFileSync(p12), 'secret');
const signed = await signPdf(readFileSync('in.pdf'), { signer, reason: 'package test' });
writeFileSync('signed.pdf', signed);
const good = await verifyPdf(signed, { trustAnchors: [readFileSync(caPem, 'utf8')] });
const changed = signed.slice();
// one byte of the page dictionary, inside the signed byte range
changed[Buffer.from(changed).indexOf('/MediaBox') + 2] ^= 1;
const bad = await verifyPdf(changed, { trustAnchors: [readFileSync(caPem, 'utf8')] });
let wrongPassword;
try { await signerFromPkcs12(readFileSync(p12), 'guess'); } catch (e) { wrongPassword = e instanceof SidianError ? e.code : String(e); }
console.log(JSON.stringify({ good: good.status, signatures: good.signatures.length, bad: bad.status, wrongPassword }));
`,
    );
    const r = run(process.execPath, ['sign.mjs', p12.file, ca.certFile], project, { NODE_OPTIONS: '' });
    expect(r.status, r.out).toBe(0);
    const result = JSON.parse(r.out.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(result.good).toBe('valid');
    expect(result.signatures).toBe(1);
    expect(result.bad).toBe('invalid');
    expect(result.wrongPassword).toMatch(/^[A-Z0-9_]+$/);
    // and pdfsig, an independent verifier, accepts the file plain node wrote
    const pdfsig = run('pdfsig', [path.join(project, 'signed.pdf')], project);
    expect(pdfsig.out).toMatch(/Signature Validation: Signature is Valid/);
  });

  it('Vite builds a page that uses only <licence-viewer>', { timeout: 240_000 }, () => {
    const site = path.join(project, 'site');
    mkdirSync(site);
    writeFileSync(
      path.join(site, 'index.html'),
      `<!doctype html><html lang="zh-CN"><body>
<licence-viewer src="/licence.pdf"></licence-viewer>
<script type="module" src="./main.js"></script></body></html>\n`,
    );
    writeFileSync(
      path.join(site, 'main.js'),
      `import { LicenceViewer } from '@sidian/elements/licence-viewer.js';\nconsole.log(customElements.get('licence-viewer') === LicenceViewer);\n`,
    );
    const r = run(process.execPath, [bin('vite/bin/vite.js'), 'build', '--logLevel', 'warn'], site);
    expect(r.status, r.out).toBe(0);
    const assets = path.join(site, 'dist/assets');
    const js = readdirSync(assets).filter((f) => f.endsWith('.js'));
    const entry = js.find((f) => f.startsWith('index-'))!;
    const code = readFileSync(path.join(assets, entry), 'utf8');
    expect(code).toContain('licence-viewer');
    // only what it needs: the other elements are not in the page's script
    for (const tag of ['seal-placer', 'signature-pad', 'material-uploader']) expect(code).not.toContain(tag);
    // the verification worker is emitted beside it, pdf.js is a separate chunk loaded on first use
    expect(js.some((f) => f.startsWith('verify-worker-'))).toBe(true);
    expect(js.filter((f) => f !== entry).length).toBeGreaterThan(1);
  });

  it(
    'TypeScript with moduleResolution node16 type-checks a consumer, and rejects a wrong call',
    { timeout: 240_000 },
    () => {
      const ts = path.join(project, 'ts');
      mkdirSync(ts);
      const tsconfig = {
        compilerOptions: {
          target: 'ES2022',
          module: 'Node16',
          moduleResolution: 'Node16',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        include: ['*.ts'],
      };
      writeFileSync(path.join(ts, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
      writeFileSync(path.join(ts, 'package.json'), JSON.stringify({ type: 'module' }));
      writeFileSync(
        path.join(ts, 'ok.ts'),
        `import { verifyPdf, type VerificationReport } from '@sidian/core';
import { LicenceViewer } from '@sidian/elements/licence-viewer.js';
export async function check(bytes: Uint8Array): Promise<string> {
  const report: VerificationReport = await verifyPdf(bytes, { trustAnchors: [] });
  const viewer: LicenceViewer = document.createElement('licence-viewer');
  return report.status + viewer.tagName;
}
`,
      );
      writeFileSync(
        path.join(ts, 'wrong.ts'),
        `import { verifyPdf } from '@sidian/core';\nexport const r = verifyPdf(42);\n`,
      );
      // one run: ok.ts type-checks, the wrong call in wrong.ts is refused (the types are not `any`)
      const r = run(process.execPath, [bin('typescript/bin/tsc'), '-p', 'tsconfig.json'], ts);
      expect(r.status, r.out).not.toBe(0);
      expect(r.out).toMatch(/wrong\.ts\(2,\d+\): error TS2345/);
      expect(
        r.out
          .trim()
          .split('\n')
          .filter((l) => /error TS/.test(l) && !l.startsWith('wrong.ts')),
      ).toEqual([]);
    },
  );
});
