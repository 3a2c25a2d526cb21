/**
 * bench/gm — 国密 speed, side by side in one run, written to bench/results/gm.md:
 *  - SM3 over 100 MB: Sidian's JavaScript SM3 in Node and in Chromium, Node's native (OpenSSL) sm3,
 *    sm-crypto's sm3, against `openssl speed -evp sm3` (target: JavaScript ≥ 70% of OpenSSL);
 *  - a 100 MB PDF sealed with SM2 by `sidian sign --key --cert` (a fresh process, as a user runs it)
 *    against `openssl dgst -sm3` on the same file (target ≤ 1.3×);
 *  - SM2 sign and verify per operation in Chromium and Node, Sidian (@noble/curves) beside
 *    sm-crypto, against `openssl speed sm2` (targets in Chromium: sign ≤ 2 ms, verify ≤ 3 ms).
 *
 *   npx tsx bench/gm/gm.bench.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import smCrypto from 'sm-crypto';

const { sm2: smCryptoSm2, sm3: smCryptoSm3 } = smCrypto;
import { sm2PublicKey, sm2RandomPrivateKey, sm2Sign, sm2Verify } from '../../packages/core/src/gm/sm2';
import { setSm3Engine, sm3, sm3EngineInUse } from '../../packages/core/src/gm/sm3';
import { createCa, issueCertificate } from '../../tests/helpers/openssl-pki';
import { CHROMIUM_FLAGS } from '../../tests/browser/chromium-flags.mjs';
import { GEN_DIR, REPO_ROOT, machineLine, median, nowMs, signInputs, writeResult } from '../common';

const MB = 1024 * 1024;
const fmt = (x: number, d = 0) => x.toFixed(d);
const mark = (ok: boolean) => (ok ? '✅' : '❌');
const t0 = Date.now();

function best(runs: number, f: () => void): number {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    f();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

// ---- OpenSSL references -------------------------------------------------------------------------

/** `openssl speed -evp sm3` at 16 KiB blocks, MB/s (10^6 bytes; speed prints 1000s of bytes per second). */
function opensslSm3Speed(elapsed = true): number {
  // -elapsed: wall-clock time like every other row (speed's default divides by CPU user time)
  const out = execFileSync(
    'openssl',
    ['speed', ...(elapsed ? ['-elapsed'] : []), '-seconds', '3', '-bytes', '16384', '-evp', 'sm3'],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const line = out.split('\n').find((l) => /^sm3\s/i.test(l.trim()));
  const k = Number(/([\d.]+)k\s*$/.exec(line ?? '')?.[1]);
  return (k * 1000) / MB;
}

/** `openssl speed sm2`: sign and verify ms per operation. */
function opensslSm2Speed(): { sign: number; verify: number } {
  const out = execFileSync('openssl', ['speed', '-elapsed', '-seconds', '3', 'sm2'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const line = out.split('\n').find((l) => /^\s*256 bits? SM2/i.test(l)) ?? '';
  const [sign, verify] = line.match(/\d+\.\d+s/g)?.map((s) => parseFloat(s) * 1000) ?? [NaN, NaN];
  return { sign: sign!, verify: verify! };
}

// ---- Node ---------------------------------------------------------------------------------------

const data = new Uint8Array(100 * MB);
for (let i = 0; i < data.length; i++) data[i] = i & 0xff;
const rate = (ms: number, mb = 100) => mb / (ms / 1000);
/** Sidian's SM3 with one engine forced: wall-clock MB/s (best of 3) and CPU-time MB/s (mean of the 3). */
function sidianSm3(engine: 'wasm' | 'js'): { wall: number; cpu: number } {
  setSm3Engine(engine);
  if (sm3EngineInUse() !== engine) throw new Error(`SM3 engine ${engine} unavailable`);
  const cpuBefore = process.cpuUsage();
  const wall = rate(
    best(3, () => {
      const h = sm3.create();
      for (let i = 0; i < data.length; i += MB) h.update(data.subarray(i, i + MB));
      h.digest();
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  setSm3Engine('auto');
  return { wall, cpu: rate((cpu.user + cpu.system) / 1000 / 3) };
}
const nodeJs = sidianSm3('js');
const nodeWasm = sidianSm3('wasm');
const nodeJsSm3 = nodeJs.wall;
const nodeJsSm3Cpu = nodeJs.cpu;
const nativeCpuBefore = process.cpuUsage();
const nodeNativeSm3 = rate(
  best(3, () => {
    const h = createHash('sm3');
    for (let i = 0; i < data.length; i += MB) h.update(data.subarray(i, i + MB));
    h.digest();
  }),
);
const nativeCpu = process.cpuUsage(nativeCpuBefore);
const nodeNativeSm3Cpu = rate((nativeCpu.user + nativeCpu.system) / 1000 / 3);
const small = Array.from(data.subarray(0, 4 * MB));
const nodeSmCryptoSm3 = rate(
  best(1, () => smCryptoSm3(small)),
  4,
);

const d = sm2RandomPrivateKey();
const P = sm2PublicKey(d);
const msg = new Uint8Array(200).fill(7);
const sig = sm2Sign(d, msg, { publicKey: P });
for (let i = 0; i < 30; i++) sm2Verify(P, msg, sm2Sign(d, msg, { publicKey: P }));
const N = 200;
const nodeSign =
  best(1, () => {
    for (let i = 0; i < N; i++) sm2Sign(d, msg, { publicKey: P });
  }) / N;
const nodeVerify =
  best(1, () => {
    for (let i = 0; i < N; i++) if (!sm2Verify(P, msg, sig)) throw new Error('verify failed');
  }) / N;
const freshKeys = Array.from({ length: 30 }, () => {
  const k = sm2RandomPrivateKey();
  const pk = sm2PublicKey(k);
  return { pk, sig: sm2Sign(k, msg, { publicKey: pk }) };
});
const nodeVerifyNewKey =
  best(1, () => {
    for (const f of freshKeys) if (!sm2Verify(f.pk, msg, f.sig)) throw new Error('verify failed');
  }) / freshKeys.length;
const text = 'x'.repeat(200);
const scKeys = smCryptoSm2.generateKeyPairHex();
const scSig = smCryptoSm2.doSignature(text, scKeys.privateKey, { hash: true });
const M = 50;
const nodeScSign =
  best(1, () => {
    for (let i = 0; i < M; i++) smCryptoSm2.doSignature(text, scKeys.privateKey, { hash: true });
  }) / M;
const nodeScVerify =
  best(1, () => {
    for (let i = 0; i < M; i++) smCryptoSm2.doVerifySignature(text, scSig, scKeys.publicKey, { hash: true });
  }) / M;

// ---- Chromium -----------------------------------------------------------------------------------

const bundle = await build({
  entryPoints: [path.join(REPO_ROOT, 'bench/gm/gm-page.ts')],
  bundle: true,
  write: false,
  format: 'iife',
  target: 'es2022',
  platform: 'browser',
  define: { 'process.env.NODE_ENV': '"production"' },
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: CHROMIUM_FLAGS,
});
type PageResult = {
  userAgent: string;
  sm3MBps: number;
  sm3WasmMBps: number;
  verifyNewKeyMs: number;
  smCryptoSm3MBps: number;
  check: string;
  signMs: number;
  verifyMs: number;
  scSignMs: number;
  scVerifyMs: number;
};
let web: PageResult;
try {
  const page = await browser.newPage();
  await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
  web = (await page.evaluate('gmBench()')) as PageResult;
} finally {
  await browser.close();
}
if (web.check !== '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0')
  throw new Error('SM3 in Chromium gave a wrong digest');

// ---- a 100 MB PDF sealed with SM2 by the CLI vs openssl dgst -sm3 --------------------------------

const big = (await signInputs()).find((i) => i.name === '100 MB')!;
const pkiDir = path.join(GEN_DIR, 'gm-pki');
rmSync(pkiDir, { recursive: true, force: true });
mkdirSync(pkiDir, { recursive: true });
const ca = createCa(pkiDir, {
  name: 'sm2-root',
  key: 'sm2',
  subject: '/C=CN/O=Sidian Bench/CN=Bench SM2 Root',
});
const seal = issueCertificate(ca, {
  name: 'sm2-seal',
  key: 'sm2',
  subject: '/C=CN/O=Sidian Bench/CN=Bench SM2 Seal',
});
const out = path.join(GEN_DIR, 'big-100mb-sm2.pdf');
const cli = path.join(REPO_ROOT, 'server/bin/sidian.mjs');
const sidianRuns: number[] = [];
const p12Runs: number[] = [];
const opensslRuns: number[] = [];
// the same key in a PKCS#12 file (as GmSSL, Tongsuo or OpenSSL 3 export it): the CLI learns that
// the digest is SM3 only once it has decrypted the key
const p12File = path.join(pkiDir, 'sm2-seal.p12');
execFileSync('openssl', [
  'pkcs12',
  '-export',
  '-inkey',
  seal.keyFile,
  '-in',
  seal.certFile,
  '-out',
  p12File,
  '-passout',
  'pass:bench',
]);
// as users run Node: without NODE_EXTRA_CA_CERTS, which this machine sets and which makes every
// Node start read a CA file (bench/cli.ts measures both)
const userEnv = { ...process.env, NODE_EXTRA_CA_CERTS: undefined };
for (let i = 0; i < 9; i++) {
  rmSync(out, { force: true });
  let t = nowMs();
  const r = spawnSync(
    process.execPath,
    [cli, 'sign', big.file, '-o', out, '--key', seal.keyFile, '--cert', seal.certFile],
    {
      encoding: 'utf8',
      env: userEnv,
    },
  );
  sidianRuns.push(nowMs() - t);
  if (r.status !== 0) throw new Error(`sidian sign failed: ${r.stderr}`);
  rmSync(out, { force: true });
  t = nowMs();
  const p = spawnSync(
    process.execPath,
    [cli, 'sign', big.file, '-o', out, '--p12', p12File, '--password', 'bench'],
    { encoding: 'utf8', env: userEnv },
  );
  p12Runs.push(nowMs() - t);
  if (p.status !== 0) throw new Error(`sidian sign --p12 failed: ${p.stderr}`);
  t = nowMs();
  execFileSync('openssl', ['dgst', '-sm3', big.file], { stdio: 'ignore' });
  opensslRuns.push(nowMs() - t);
}
const verify = spawnSync(process.execPath, [cli, 'verify', out, '--trust', ca.certFile, '--json'], {
  encoding: 'utf8',
});
const verdict = JSON.parse(verify.stdout) as { status: string; signatures: { algorithm?: string }[] };
const sidianMs = median(sidianRuns);
const p12Ms = median(p12Runs);
const opensslMs = median(opensslRuns);

// ---- report -------------------------------------------------------------------------------------

const osslSm3 = opensslSm3Speed();
/** The same by CPU user time (speed's default), to set beside the CPU-time rows. */
const osslSm3Cpu = opensslSm3Speed(false);
const osslSm2 = opensslSm2Speed();
const target = 0.7 * osslSm3;
const ratio = sidianMs / opensslMs;
const md = [
  '# bench/gm',
  '',
  `${machineLine()}. ${web.userAgent.replace(/^.*?(Chrome\/[\d.]+).*$/, 'Chromium $1')}. Generated by \`npx tsx bench/gm/gm.bench.ts\` in ${Math.round((Date.now() - t0) / 1000)} s.`,
  '',
  '## SM3 over 100 MB (1 MiB updates, best of 3; MB/s = MiB/s)',
  '',
  '| implementation | where | MB/s | vs `openssl speed -evp sm3` |',
  '|---|---|---:|---:|',
  `| OpenSSL 3 (\`openssl speed -elapsed -evp sm3\`, 16 KiB blocks) | native | ${fmt(osslSm3)} | 100% |`,
  `| Node \`createHash('sm3')\` (OpenSSL; what core uses in Node) | Node | ${fmt(nodeNativeSm3)} | ${fmt((100 * nodeNativeSm3) / osslSm3)}% |`,
  `| OpenSSL 3 (\`openssl speed -evp sm3\`), by CPU user time | native | ${fmt(osslSm3Cpu)} | — |`,
  `| Node \`createHash('sm3')\`, by CPU time (mean of the 3 runs) | Node | ${fmt(nodeNativeSm3Cpu)} | ${fmt((100 * nodeNativeSm3Cpu) / osslSm3Cpu)}% of openssl by CPU |`,
  `| **Sidian \`gm/sm3.wat\`** (WebAssembly; what core uses in browsers) | Chromium | ${fmt(web.sm3WasmMBps)} | ${fmt((100 * web.sm3WasmMBps) / osslSm3)}% ${mark(web.sm3WasmMBps >= target)} |`,
  `| Sidian \`gm/sm3.wat\` | Node | ${fmt(nodeWasm.wall)} | ${fmt((100 * nodeWasm.wall) / osslSm3)}% ${mark(nodeWasm.wall >= target)} |`,
  `| Sidian \`gm/sm3.wat\`, by CPU time | Node | ${fmt(nodeWasm.cpu)} | ${fmt((100 * nodeWasm.cpu) / osslSm3Cpu)}% of openssl, ${fmt((100 * nodeWasm.cpu) / nodeNativeSm3Cpu)}% of Node native by CPU ${mark(nodeWasm.cpu >= 0.7 * osslSm3Cpu)} |`,
  `| Sidian \`gm/sm3.ts\` (JavaScript; the fallback where WebAssembly is refused) | Chromium | ${fmt(web.sm3MBps)} | ${fmt((100 * web.sm3MBps) / osslSm3)}% ${mark(web.sm3MBps >= target)} |`,
  `| Sidian \`gm/sm3.ts\` | Node | ${fmt(nodeJsSm3)} | ${fmt((100 * nodeJsSm3) / osslSm3)}% ${mark(nodeJsSm3 >= target)} |`,
  `| Sidian \`gm/sm3.ts\`, by CPU time | Node | ${fmt(nodeJsSm3Cpu)} | ${fmt((100 * nodeJsSm3Cpu) / osslSm3Cpu)}% of openssl, ${fmt((100 * nodeJsSm3Cpu) / nodeNativeSm3Cpu)}% of Node native by CPU |`,
  `| sm-crypto 0.5 \`sm3\` (4 MB, scaled) | Chromium | ${fmt(web.smCryptoSm3MBps, 1)} | ${fmt((100 * web.smCryptoSm3MBps) / osslSm3, 1)}% |`,
  `| sm-crypto 0.5 \`sm3\` (4 MB, scaled) | Node | ${fmt(nodeSmCryptoSm3, 1)} | ${fmt((100 * nodeSmCryptoSm3) / osslSm3, 1)}% |`,
  '',
  `Target: SM3 in the browser ≥ 70% of OpenSSL = ${fmt(target)} MB/s. Every row is wall-clock time (\`openssl speed -elapsed\`), so all rows suffer the machine's load alike; Node's own OpenSSL sm3 in the same process is the closest like-for-like reference for the JavaScript rows (wall clock, WebAssembly / native in Node: ${fmt((100 * nodeWasm.wall) / nodeNativeSm3)}%; JavaScript / native: ${fmt((100 * nodeJsSm3) / nodeNativeSm3)}%).`,
  '',
  '## A 100 MB PDF sealed with SM2',
  '',
  `\`sidian sign ${path.basename(big.file)} -o OUT --key sm2.key --cert sm2.pem\` (a fresh Node process: start-up, reading, SM3 over the byte ranges, SM2, writing ${fmt(statSync(out).size / MB)} MiB; without NODE_EXTRA_CA_CERTS, as users run Node) against \`openssl dgst -sm3\` on the same ${fmt(big.bytes / MB)} MiB file; median of 9, interleaved.`,
  '',
  '| | ms (runs) |',
  '|---|---:|',
  `| \`sidian sign\` (SM2) | ${fmt(sidianMs)} (${sidianRuns.map((x) => fmt(x)).join(', ')}) |`,
  `| \`sidian sign\` (SM2, the same key in a PKCS#12 file: \`--p12\`) | ${fmt(p12Ms)} (${p12Runs.map((x) => fmt(x)).join(', ')}) |`,
  `| \`openssl dgst -sm3\` | ${fmt(opensslMs)} (${opensslRuns.map((x) => fmt(x)).join(', ')}) |`,
  `| ratio | **${fmt(ratio, 2)}×** ${mark(ratio <= 1.3)} (target ≤ 1.3×); \`--p12\`: **${fmt(p12Ms / opensslMs, 2)}×** ${mark(p12Ms / opensslMs <= 1.3)} |`,
  '',
  `The sealed file verifies: \`sidian verify\` says ${verdict.status}, algorithm ${verdict.signatures.map((s) => s.algorithm).join(', ')}.`,
  '',
  '## SM2 per operation (200-byte message, the size of PAdES signed attributes; Z and SM3 included)',
  '',
  '| implementation | where | sign ms | verify ms (same key again) | verify ms (a new key each time) |',
  '|---|---|---:|---:|---:|',
  `| OpenSSL 3 (\`openssl speed -elapsed sm2\`) | native | ${fmt(osslSm2.sign, 3)} | ${fmt(osslSm2.verify, 3)} | — |`,
  `| **Sidian** (\`gm/sm2.ts\` on @noble/curves 2) | Chromium | ${fmt(web.signMs, 3)} ${mark(web.signMs <= 2)} | ${fmt(web.verifyMs, 3)} ${mark(web.verifyMs <= 3)} | ${fmt(web.verifyNewKeyMs, 3)} ${mark(web.verifyNewKeyMs <= 3)} |`,
  `| Sidian | Node | ${fmt(nodeSign, 3)} | ${fmt(nodeVerify, 3)} | ${fmt(nodeVerifyNewKey, 3)} |`,
  `| sm-crypto 0.5 (jsbn) | Chromium | ${fmt(web.scSignMs, 3)} | ${fmt(web.scVerifyMs, 3)} | — |`,
  `| sm-crypto 0.5 (jsbn) | Node | ${fmt(nodeScSign, 3)} | ${fmt(nodeScVerify, 3)} | — |`,
  '',
  'Targets in Chromium: sign ≤ 2 ms, verify ≤ 3 ms.',
  '',
  '## Notes',
  '',
  '- **Load.** On a shared machine (see the load average above) every wall-clock number is inflated,',
  `  unevenly: OpenSSL's SM3 measured ${fmt(osslSm3)} MB/s in this run`,
  '  against about 264 MB/s on a quiet machine. Read the rows against each other, and rerun on a',
  '  quiet machine before judging the targets.',
  '- **Why our own SM3.** WebCrypto has no SM3, @noble/hashes has none, and sm-crypto works on',
  "  arrays of numbers at a few MB/s. Core picks per hasher (`gm/sm3.ts`, `setSm3Engine`): Node's",
  '  OpenSSL sm3 where Node has it; else `gm/sm3.wat`, the same compression function in WebAssembly',
  '  (assembled by scripts/build-wasm.mjs with wabt, embedded as base64: no extra file to serve);',
  "  else, where a page's CSP lacks 'wasm-unsafe-eval', the JavaScript block loop. By CPU time, which",
  `  load does not inflate, the WebAssembly SM3 ran at ${fmt((100 * nodeWasm.cpu) / nodeNativeSm3Cpu)}% and the JavaScript at ${fmt((100 * nodeJsSm3Cpu) / nodeNativeSm3Cpu)}% of Node's native sm3 in this run.`,
  '- **Why @noble/curves for SM2.** Audited, maintained, constant-time-minded point arithmetic with',
  '  the SM2 curve given as parameters, the same code in Node and browsers; sign is within reach of',
  '  the 2 ms target and ~40x faster than sm-crypto (jsbn BigIntegers). Verify is the slower half:',
  '  [s]G + [t]P with a variable point P (256 doublings of generic-prime BigInt arithmetic; SM2 has',
  '  no GLV endomorphism). A key verified a third time gets a window-6 table (~40 ms once, 8 keys',
  '  kept), after which [t]P needs no doublings: the "same key again" column; a key never seen',
  '  before takes the joint Strauss–Shamir walk: the "new key" column.',
  "- **100 MB sealed.** In Node the digest is OpenSSL's own sm3 (the same C as `openssl dgst -sm3`).",
  "  server/bin/sidian.mjs starts it on a thread as the process's first step (server/src/hash-thread.mjs),",
  '  so the CLI, the key and the certificate load and the 100 MB output copy is made beside the hash;',
  "  the main thread builds SM2's table of G's multiples while it waits, so the signature after the",
  "  hash takes about a millisecond. What is left over openssl is Node's start-up, the thread's start",
  '  and the tail (signing, writing the update, exit).',
  '',
].join('\n');
console.log(md);
writeResult('gm.md', md);
