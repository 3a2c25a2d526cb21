/**
 * Shared helpers for the benchmarks: generated inputs (bench/.generated, git-ignored), the test PKI,
 * child processes, statistics, memory readings and Markdown tables.
 *
 * Node-only (benchmarks are never bundled).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  generateBigPdf,
  generateInputPdfs,
  generateLargePdf,
  GENERATOR_VERSION,
} from '../tests/fixtures/pdfs';
import { makeSealPng } from '../tests/fixtures/images';
import { createCa, issueCertificate, makePkcs12 } from '../tests/helpers/openssl-pki';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(BENCH_DIR, '..');
export const GEN_DIR = path.join(BENCH_DIR, '.generated');
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

export interface BenchPki {
  /** PKCS#12 (RSA-2048 leaf + RSA-2048 root, OpenSSL 3 defaults). */
  p12File: string;
  password: string;
  /** PEM of the root CA (the trust anchor). */
  caPemFile: string;
}

/**
 * RSA-2048 everywhere: @signpdf/signer-p12 signs with node-forge, which reads only RSA keys and
 * RSA certificates (an ECDSA root in the PKCS#12 would make it fail), so all tools share one
 * RSA-2048 PKCS#12 with its RSA-2048 root.
 */
export function benchPki(): BenchPki {
  const dir = path.join(GEN_DIR, 'pki');
  const stamp = path.join(dir, 'pki.json');
  if (existsSync(stamp)) {
    const p = JSON.parse(readFileSync(stamp, 'utf8')) as BenchPki;
    if (existsSync(p.p12File) && existsSync(p.caPemFile)) return p;
  }
  mkdirSync(dir, { recursive: true });
  const ca = createCa(dir, {
    name: 'ca',
    key: 'rsa-2048',
    subject: '/C=CN/O=Sidian Bench/CN=Sidian Bench Root CA',
    days: 3650,
  });
  const seal = issueCertificate(ca, {
    name: 'seal',
    key: 'rsa-2048',
    subject: '/C=CN/O=Sidian Bench/CN=Sidian Bench Seal',
    days: 3000,
  });
  const password = 'bench';
  const p12 = makePkcs12(seal, { password, chain: [ca] });
  const pki: BenchPki = { p12File: p12.file, password, caPemFile: ca.certFile };
  writeFileSync(stamp, JSON.stringify(pki, null, 2) + '\n');
  return pki;
}

export interface BenchInput {
  name: string;
  file: string;
  bytes: number;
  pages: number;
}

async function cachedGenerated(file: string, key: string, make: () => Promise<unknown>): Promise<void> {
  const stamp = `${file}.stamp`;
  if (existsSync(file) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key) return;
  await make();
  writeFileSync(stamp, key);
}

/** The three sign inputs: the 1-page classic-1.3 variant, a 1000-page file and a 100 MB file. */
export async function signInputs(): Promise<BenchInput[]> {
  const variants = await generateInputPdfs(path.join(GEN_DIR, 'inputs'));
  const one = variants.find((v) => v.name === 'classic-1.3');
  if (!one) throw new Error('classic-1.3 variant missing');
  const large = path.join(GEN_DIR, 'large-1000.pdf');
  await cachedGenerated(large, `v${GENERATOR_VERSION} pages=1000`, () =>
    generateLargePdf(large, { pages: 1000 }),
  );
  const big = path.join(GEN_DIR, 'big-100mb.pdf');
  await cachedGenerated(big, `v${GENERATOR_VERSION} mb=100`, () => generateBigPdf(big, { megabytes: 100 }));
  return [
    { name: '1 page', file: one.file, bytes: statSync(one.file).size, pages: 1 },
    { name: '1000 pages', file: large, bytes: statSync(large).size, pages: 1000 },
    { name: '100 MB', file: big, bytes: statSync(big).size, pages: 4 },
  ];
}

/** The small valid input variants (every shape generateInputPdfs makes, minus the broken ones). */
export async function smallVariants(): Promise<string[]> {
  const variants = await generateInputPdfs(path.join(GEN_DIR, 'inputs'));
  return variants.filter((v) => !v.invalid).map((v) => v.file);
}

export async function sealPng(): Promise<string> {
  const f = path.join(GEN_DIR, 'seal.png');
  if (!existsSync(f)) await makeSealPng(f);
  return f;
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Processes, time, memory
// ---------------------------------------------------------------------------------------------

export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Runs a command; returns its result and wall time in ms. */
export function timed(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; input?: string } = {},
): { ms: number; r: SpawnSyncReturns<string> } {
  const t0 = nowMs();
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: opts.timeoutMs,
    input: opts.input,
    cwd: REPO_ROOT,
  });
  return { ms: nowMs() - t0, r };
}

/**
 * Runs a command under bash's `time`: wall ms (bash's %R, without bash's own start) and the CPU time
 * (user + system) of the command and its children, both from the kernel, so CPU time is meaningful
 * even when other work loads the machine. The command's stdout and stderr are returned as usual.
 */
export function timedCpu(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number } = {},
): { ms: number; cpuMs: number; r: SpawnSyncReturns<string> } {
  const script = 'exec 4>&2; TIMEFORMAT="%3R %3U %3S"; { time "$@" 2>&4; } 2>&3';
  const r = spawnSync('bash', ['-c', script, 'bash', cmd, ...args], {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
    timeout: opts.timeoutMs,
    cwd: REPO_ROOT,
  });
  const t = String(r.output?.[3] ?? '')
    .trim()
    .split(/\s+/)
    .map(Number);
  if (t.length !== 3 || t.some((x) => !Number.isFinite(x))) {
    throw new Error(`cannot time ${cmd}: ${r.error?.message ?? r.stderr}`);
  }
  return { ms: t[0]! * 1000, cpuMs: (t[1]! + t[2]!) * 1000, r };
}

/** CPU time (user + system) of this process so far, ms (all its threads). */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Runs a TypeScript worker in a fresh Node process (tsx), returns the JSON it prints last. */
export function runWorker<T>(
  script: string,
  args: string[],
  opts: { timeoutMs?: number; nodeArgs?: string[] } = {},
): { ms: number; result?: T; error?: string } {
  const { ms, r } = timed(
    process.execPath,
    [...(opts.nodeArgs ?? []), '--import', 'tsx', path.join(BENCH_DIR, script), ...args],
    { timeoutMs: opts.timeoutMs },
  );
  if (r.error || r.status !== 0) {
    const why = r.signal
      ? `killed by ${r.signal}${r.signal === 'SIGTERM' ? ' (timeout)' : ''}`
      : `exit ${r.status}`;
    const tail = (r.stderr ?? '').trim().split('\n').slice(-6).join('\n');
    return { ms, error: `${why}${r.error ? ` ${r.error.message}` : ''}\n${tail}` };
  }
  const lines = r.stdout.trim().split('\n');
  return { ms, result: JSON.parse(lines[lines.length - 1]!) as T };
}

/** VmRSS / VmHWM of this process in MiB (Linux /proc/self/status). */
export function procMemory(): { rss: number; hwm: number } {
  const s = readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// ---------------------------------------------------------------------------------------------
// Independent verifiers
// ---------------------------------------------------------------------------------------------

/** pdfsig's verdict: how many signatures it lists and how many are "Signature is Valid". */
export function pdfsigCheck(file: string): { total: number; valid: number; text: string } {
  const r = spawnSync('pdfsig', [file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const total = (out.match(/Signature Validation:/g) ?? []).length;
  const valid = (out.match(/Signature Validation: Signature is Valid\./g) ?? []).length;
  return { total, valid, text: out };
}

export function pdfsigVerdict(file: string): string {
  const c = pdfsigCheck(file);
  if (c.total === 0) return 'no signature found';
  return c.valid === c.total ? `valid (${c.valid}/${c.total})` : `NOT valid (${c.valid}/${c.total} valid)`;
}

/**
 * mutool sign -v: how many signatures it lists and how many are "unchanged since signing" (its
 * digest-and-signature verdict; it takes no trust anchors, so it always adds a certificate error for
 * a private root).
 */
export function mutoolCheck(text: string): { total: number; valid: number } {
  // It also lists empty signature fields ("Signature is not signed."): not signatures.
  const total =
    (text.match(/^Verifying signature/gm) ?? []).length -
    (text.match(/Signature is not signed\./g) ?? []).length;
  const valid = (text.match(/The document is unchanged since signing\./g) ?? []).length;
  return { total, valid };
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

export function table(header: string[], rows: (string | number)[][]): string {
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

export const fmt = (x: number | undefined, digits = 1): string =>
  x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);

export function machineLine(): string {
  const cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  const cores = (readFileSync('/proc/cpuinfo', 'utf8').match(/^processor\s*:/gm) ?? []).length;
  const ossl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).stdout.trim();
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return `${cpu}, ${cores} cores; Node ${process.version}; ${ossl}; ${new Date().toISOString().slice(0, 16)}Z; load average at the end ${load} (other work on the machine inflates times)`;
}

export function writeResult(name: string, markdown: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const f = path.join(RESULTS_DIR, name);
  writeFileSync(f, markdown);
  return f;
}

export function log(msg: string): void {
  process.stderr.write(msg + '\n');
}
