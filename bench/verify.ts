/**
 * bench/verify: documents/s and MB/s verifying (a) 200 one-signature PDFs and (b) one 100 MB signed
 * PDF, Sidian in ONE process (bench/verify-worker.ts) against `pdfsig` and `mutool sign -v` as
 * whole processes per file, with `openssl speed -evp sha256` as the floor (issue 3).
 * Writes bench/results/verify.md.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { signerFromPkcs12, signPdf } from '@sidian/core';
import { GENERATOR_VERSION } from '../tests/fixtures/pdfs';
import {
  benchPki,
  fmt,
  GEN_DIR,
  log,
  machineLine,
  median,
  mutoolCheck,
  runWorker,
  sealPng,
  sha256File,
  signInputs,
  smallVariants,
  table,
  timed,
  timedCpu,
  writeResult,
  type BenchPki,
} from './common';
import type { VerifyWorkerResult } from './verify-worker';

const DOCS = 200;
/**
 * Passes over each corpus (median reported): the 200 small files, the 100 MB file. Sidian runs one
 * more, first: that cold pass (module code not yet compiled, buffers not yet allocated) is reported
 * on its own row with the process start-up, and the steady-state rows are the median of the others.
 */
const PASSES_SMALL = 3;
const PASSES_BIG = 7;
/**
 * Rounds for (b). A round is `openssl speed` (the floor) and, straight after it, a fresh Sidian
 * process with its passes: the two see the same state of this shared machine, whose speed drifts
 * by 10–25% over seconds. The target is judged on the median round's ratio; every round is listed.
 */
const ROUNDS_BIG = 5;
const TARGET_FLOOR_SHARE = 0.8;

interface Corpus {
  name: string;
  passes: number;
  rounds: number;
  files: string[];
  bytes: number;
}

/** 200 small PDFs (every valid input shape, round robin), each signed once by Sidian; cached. */
async function smallCorpus(pki: BenchPki, seal: string): Promise<Corpus> {
  const dir = path.join(GEN_DIR, 'verify-200');
  const key = `v${GENERATOR_VERSION} n=${DOCS} ca=${sha256File(pki.caPemFile)}`;
  const stamp = path.join(dir, 'stamp');
  const files = Array.from({ length: DOCS }, (_, i) =>
    path.join(dir, `doc-${String(i).padStart(3, '0')}.pdf`),
  );
  if (!(existsSync(stamp) && readFileSync(stamp, 'utf8') === key && files.every((f) => existsSync(f)))) {
    log(`  signing ${DOCS} small PDFs once (cached in ${path.relative(process.cwd(), dir)})…`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const sources = await smallVariants();
    const signer = await signerFromPkcs12(new Uint8Array(readFileSync(pki.p12File)), pki.password);
    const image = new Uint8Array(readFileSync(seal));
    for (let i = 0; i < DOCS; i++) {
      const src = new Uint8Array(readFileSync(sources[i % sources.length]!));
      // Half sealed with the PNG (last page), half invisible.
      writeFileSync(
        files[i]!,
        await signPdf(src, { signer, image: i % 2 === 0 ? image : undefined, reason: `bench ${i}` }),
      );
    }
    writeFileSync(stamp, key);
  }
  return {
    name: `(a) ${DOCS} one-signature PDFs`,
    passes: PASSES_SMALL,
    rounds: 1,
    files,
    bytes: files.reduce((n, f) => n + statSync(f).size, 0),
  };
}

/** The 100 MB input sealed once by Sidian; cached. */
async function bigCorpus(pki: BenchPki, seal: string): Promise<Corpus> {
  const big = (await signInputs()).find((i) => i.name === '100 MB')!;
  const file = path.join(GEN_DIR, 'verify-100mb-signed.pdf');
  const stamp = `${file}.stamp`;
  const key = `v${GENERATOR_VERSION} ca=${sha256File(pki.caPemFile)} in=${big.bytes}`;
  if (!(existsSync(file) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key)) {
    log('  sealing the 100 MB PDF once…');
    const signer = await signerFromPkcs12(new Uint8Array(readFileSync(pki.p12File)), pki.password);
    const src = new Uint8Array(readFileSync(big.file));
    writeFileSync(file, await signPdf(src, { signer, image: new Uint8Array(readFileSync(seal)) }));
    writeFileSync(stamp, key);
  }
  return {
    name: '(b) one 100 MB signed PDF',
    passes: PASSES_BIG,
    rounds: ROUNDS_BIG,
    files: [file],
    bytes: statSync(file).size,
  };
}

/**
 * `openssl speed -evp sha256 -seconds N`: bytes/s for 16384-byte blocks, over its user CPU time
 * (the floor of the target), or with `elapsed` over wall time (what a wall-clock rate on this
 * shared machine can be compared with).
 */
function opensslFloor(seconds: number, elapsed = false): number {
  const { r } = timed('openssl', [
    'speed',
    ...(elapsed ? ['-elapsed'] : []),
    ...['-evp', 'sha256', '-bytes', '16384', '-seconds', String(seconds)],
  ]);
  if (r.status !== 0) throw new Error(`openssl speed failed: ${r.stderr}`);
  // Last table line: "sha256   <16>k <64>k <256>k <1024>k <8192>k <16384>k" (k = 1000 bytes/s)
  const line = r.stdout
    .split('\n')
    .reverse()
    .find((l) => /^\s*sha256\s/i.test(l) && /k\s*$/.test(l));
  const cols = line?.trim().split(/\s+/);
  const k = cols ? Number(cols[cols.length - 1]!.replace(/k$/, '')) : NaN;
  if (!Number.isFinite(k)) throw new Error(`cannot parse openssl speed output:\n${r.stdout}`);
  return k * 1000;
}

/** Two decimals, or two significant digits for small ratios. */
const ratio = (x: number): string => (x >= 0.1 ? x.toFixed(2) : x.toPrecision(2));

interface Row {
  tool: string;
  /** Seconds for one pass over the corpus (median). */
  seconds: number;
  /** CPU seconds (user + system) for one pass (median), when measured. */
  cpuSeconds?: number;
  verdict: string;
}

function wholeProcesses(
  corpus: Corpus,
  cmd: string,
  args: string[],
  check: (out: string) => { total: number; valid: number },
): Row {
  const passes: number[] = [];
  const cpu: number[] = [];
  let total = 0;
  let valid = 0;
  for (let p = 0; p < corpus.passes; p++) {
    let s = 0;
    let c = 0;
    for (const f of corpus.files) {
      const { ms, cpuMs, r } = timedCpu(cmd, [...args, f]);
      s += ms;
      c += cpuMs;
      if (p === 0) {
        const v = check(`${r.stdout ?? ''}${r.stderr ?? ''}`);
        total += v.total;
        valid += v.valid;
      }
    }
    passes.push(s / 1000);
    cpu.push(c / 1000);
  }
  return {
    tool: [cmd, ...args].join(' '),
    seconds: median(passes),
    cpuSeconds: median(cpu),
    verdict: `${valid}/${total} signatures ${cmd === 'pdfsig' ? '"Signature is Valid"' : '"unchanged since signing"'}`,
  };
}

export async function benchVerify(): Promise<string> {
  const t0 = Date.now();
  log('bench/verify: preparing inputs (cached in bench/.generated)…');
  const pki = benchPki();
  const seal = await sealPng();
  const corpora = [await smallCorpus(pki, seal), await bigCorpus(pki, seal)];
  // Bring every file into the page cache before timing anything.
  for (const c of corpora) for (const f of c.files) readFileSync(f);

  const rows: (string | number)[][] = [];
  const targets: string[] = [];
  const roundNotes: string[] = [];
  const floors: number[] = [];
  const listDir = path.join(GEN_DIR, 'lists');
  mkdirSync(listDir, { recursive: true });
  for (const corpus of corpora) {
    const list = path.join(listDir, `${corpus.files.length}.txt`);
    writeFileSync(list, corpus.files.join('\n') + '\n');
    const warm = <T,>(xs: T[]) => xs.slice(1); // the first pass has its own row
    const rounds: {
      floorMBps: number;
      elapsedFloorMBps?: number;
      w: ReturnType<typeof runWorker<VerifyWorkerResult>>;
      res: VerifyWorkerResult;
    }[] = [];
    for (let round = 0; round < corpus.rounds; round++) {
      log(`  ${corpus.name}, round ${round + 1}/${corpus.rounds}: openssl speed -evp sha256 -seconds 3 …`);
      const roundFloor = opensslFloor(3) / 1e6;
      floors.push(roundFloor);
      const w = runWorker<VerifyWorkerResult>('verify-worker.ts', [String(corpus.passes + 1), pki.caPemFile, list], {
        timeoutMs: 600_000,
      });
      if (!w.result) throw new Error(`verify worker failed: ${w.error}`);
      // the same floor over wall time, straight after: how much of the machine's time this process had
      const elapsedFloor = corpus.rounds > 1 ? opensslFloor(3, true) / 1e6 : undefined;
      rounds.push({ floorMBps: roundFloor, elapsedFloorMBps: elapsedFloor, w, res: w.result });
    }
    const share = (r: (typeof rounds)[number]) => corpus.bytes / 1e6 / (median(warm(r.res.passMs)) / 1000) / r.floorMBps;
    // The round whose ratio is the median one gives the table's numbers (floor included).
    const ranked = [...rounds].sort((x, y) => share(x) - share(y));
    const { w, res, floorMBps } = ranked[(ranked.length - 1) >> 1]!;
    if (corpus.rounds > 1) {
      roundNotes.push(
        `- ${corpus.name}, ${corpus.rounds} rounds in the order run (floor MB/s → Sidian MB/s = share): ` +
          rounds
            .map((r) => {
              const mbps = corpus.bytes / 1e6 / (median(warm(r.res.passMs)) / 1000);
              const wall = r.elapsedFloorMBps ? ` (${fmt((mbps / r.elapsedFloorMBps) * 100, 0)}% of ${fmt(r.elapsedFloorMBps)} with \`-elapsed\`)` : '';
              return `${fmt(r.floorMBps)} → ${fmt(mbps)} = ${fmt(share(r) * 100, 0)}%${wall}`;
            })
            .join('; ') +
          '. The table shows the median round. The `-elapsed` floor is openssl over wall time, measured right after the' +
          ' Sidian process: it is not the target, but shows when the machine itself was slow.',
      );
    }
    const pass = median(warm(res.passMs)) / 1000;
    // The whole `node` process for one pass: its start-up (Node, tsx, modules) plus the first pass.
    const oneProcess = (w.ms - res.passMs.reduce((a, b) => a + b, 0) + res.passMs[0]!) / 1000;
    const oneProcessCpu = (res.processCpuMs - res.cpuMs.reduce((a, b) => a + b, 0) + res.cpuMs[0]!) / 1000;
    const passCpu = median(warm(res.cpuMs)) / 1000;
    const verdict = Object.entries(res.verdicts)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
    const sidian: Row[] = [
      {
        tool: `Sidian verifyPdf, one process (median of ${corpus.passes} passes after the first)`,
        seconds: pass,
        cpuSeconds: passCpu,
        verdict,
      },
      {
        tool: 'Sidian, verifyPdf calls only (opening the files excluded)',
        seconds: median(warm(res.verifyMs)) / 1000,
        cpuSeconds: median(warm(res.verifyCpuMs)) / 1000,
        verdict,
      },
      {
        tool: 'Sidian, one whole `node` process incl. start-up, first pass',
        seconds: oneProcess,
        cpuSeconds: oneProcessCpu,
        verdict,
      },
    ];
    log(`  ${corpus.name}: Sidian ${fmt(pass, 3)} s/pass (${verdict}); pdfsig…`);
    const pdfsig = wholeProcesses(corpus, 'pdfsig', [], (out) => {
      const total = (out.match(/Signature Validation:/g) ?? []).length;
      return { total, valid: (out.match(/Signature Validation: Signature is Valid\./g) ?? []).length };
    });
    log(`  ${corpus.name}: pdfsig ${fmt(pdfsig.seconds, 3)} s/pass; mutool…`);
    const mutool = wholeProcesses(corpus, 'mutool', ['sign', '-v'], mutoolCheck);
    log(`  ${corpus.name}: mutool ${fmt(mutool.seconds, 3)} s/pass`);

    rows.push([
      corpus.name,
      '`openssl speed -evp sha256` (floor, 16384-byte blocks)',
      '—',
      fmt(floorMBps),
      '1.00',
      '—',
      '—',
      '1.00',
      '—',
    ]);
    for (const r of [
      ...sidian,
      { ...pdfsig, tool: '`pdfsig FILE`, a process per file' },
      { ...mutool, tool: '`mutool sign -v FILE`, a process per file' },
    ]) {
      const mbps = corpus.bytes / 1e6 / r.seconds;
      rows.push([
        corpus.name,
        r.tool,
        fmt(corpus.files.length / r.seconds, corpus.files.length > 1 ? 1 : 2),
        fmt(mbps),
        ratio(mbps / floorMBps),
        r.cpuSeconds ? fmt(corpus.files.length / r.cpuSeconds, corpus.files.length > 1 ? 1 : 2) : '—',
        r.cpuSeconds ? fmt(corpus.bytes / 1e6 / r.cpuSeconds) : '—',
        r.cpuSeconds ? ratio(corpus.bytes / 1e6 / r.cpuSeconds / floorMBps) : '—',
        r.verdict,
      ]);
    }
    const pct = (seconds: number): number => (corpus.bytes / 1e6 / seconds / floorMBps) * 100;
    const met = (ok: boolean): string => (ok ? '— met' : '— **missed**');
    if (corpus.files.length === 1) {
      const withReads = pct(pass);
      const verifyOnly = pct(median(warm(res.verifyMs)) / 1000);
      const cpuShare = pct(passCpu);
      const verifyCpuShare = pct(median(warm(res.verifyCpuMs)) / 1000);
      const goal = TARGET_FLOOR_SHARE * 100;
      targets.push(
        `- (b) 100 MB at ≥ ${goal}% of the floor: Sidian, wall time of the pass (file reads included) ` +
          `**${fmt(withReads, 0)}%** ${met(withReads >= goal)}; the verifyPdf call alone **${fmt(verifyOnly, 0)}%** ` +
          `${met(verifyOnly >= goal)} (for information, not the target: the CPU time of the pass, both threads, is at ` +
          `${fmt(cpuShare, 0)}% and of the verifyPdf call alone at ${fmt(verifyCpuShare, 0)}%, since a second thread reads ` +
          `the file ahead of the hashing one and stays awake, spinning, while it waits for a free buffer) ` +
          `(pdfsig ${fmt(pct(pdfsig.seconds), 0)}% / CPU ${fmt(pct(pdfsig.cpuSeconds!), 0)}%, ` +
          `mutool ${fmt(pct(mutool.seconds), 0)}% / CPU ${fmt(pct(mutool.cpuSeconds!), 0)}%, whole processes)`,
      );
    } else {
      const s = corpus.files.length / pass;
      const p = corpus.files.length / pdfsig.seconds;
      const sc = corpus.files.length / passCpu;
      const pc = corpus.files.length / pdfsig.cpuSeconds!;
      targets.push(
        `- (a) ${DOCS} PDFs, one process faster than pdfsig's whole-process rate: Sidian **${fmt(s)} docs/s** ` +
          `vs pdfsig ${fmt(p)} docs/s ${met(s > p)}; per CPU second ${fmt(sc)} vs ${fmt(pc)} ${met(sc > pc)}`,
      );
    }
  }

  const md = [
    '# bench/verify',
    '',
    `${machineLine()}. Generated by \`npm run bench -- verify\` in ${Math.round((Date.now() - t0) / 1000)} s.`,
    '',
    `Files (all signed by Sidian, RSA-2048, chain to a test root): (a) ${DOCS} PDFs, every valid input shape of`,
    '`generateInputPdfs` round robin, half sealed with a PNG and half invisible; (b) the 100 MB benchmark PDF,',
    'sealed. Sidian: one `node` process opens each file and runs `verifyPdf(file, { trustAnchors: [root] })`, as',
    '`sidian verify` does: files under 4 MiB are read whole in one read, larger ones only where verification must',
    'look, with the signed ranges hashed straight from the file, read ahead by a reader thread into a ring of',
    '4 x 1 MiB page-aligned buffers (server/src/read-ahead.ts; the first pass, while that thread starts, reads',
    'through libuv\'s pool);',
    `median of ${PASSES_SMALL} passes for (a), ${PASSES_BIG} for (b), after a first pass, file reads included (a second row times the`,
    '`verifyPdf` calls without opening and closing; a third is the first pass with the process start-up). pdfsig and mutool: one',
    'process per file, run sequentially, as many passes, median. MB = 10^6 bytes. "× floor" = MB/s ÷',
    '`openssl speed -evp sha256 -seconds 3` at 16384-byte blocks, run just before the Sidian process it is compared',
    `with; (b) is measured in ${ROUNDS_BIG} such rounds (listed below the table) and the table shows the round with the median`,
    'share, its floor included. Files are in the page cache. `openssl speed`',
    'divides by its user CPU time (not wall time, unless `-elapsed`), so its floor does not drop when other work',
    'loads the machine while every wall-clock rate does: the CPU columns (user + system time; bash `time` for',
    'pdfsig and mutool, `process.cpuUsage()` for Sidian) compare like with like.',
    '',
    table(
      [
        'Case',
        'Tool',
        'Docs/s',
        'MB/s',
        '× floor',
        'Docs/CPU-s',
        'MB/CPU-s',
        '× floor (CPU)',
        'Verdicts (first pass)',
      ],
      rows,
    ),
    '',
    ...roundNotes,
    `- floors measured in this run: ${floors.map((f) => fmt(f)).join(', ')} MB/s`,
    '',
    '## Targets (issue 3)',
    '',
    ...targets,
    '',
  ].join('\n');
  const file = writeResult('verify.md', md);
  log(`bench/verify: wrote ${path.relative(process.cwd(), file)}`);
  return md;
}
