/**
 * Sidian's side of bench/verify, all files in ONE process:
 *
 *   node --import tsx bench/verify-worker.ts PASSES CA_PEM LIST_FILE
 *
 * LIST_FILE names one PDF per line. Each pass opens every file and runs verifyPdf on it with the
 * CA as trust anchor, as `sidian verify` does (files under 4 MiB are read whole in one read; larger
 * ones only where verification must look, the signed ranges hashed from the file). Prints one JSON line: per-pass times, bytes, verdicts of pass 1.
 */
import { readFileSync } from 'node:fs';
import { verifyPdf } from '@sidian/core';
import { openFile } from '../server/src/file-source';
import { cpuMs, nowMs, procMemory } from './common';

export interface VerifyWorkerResult {
  passMs: number[];
  /** The part of each pass spent in verifyPdf (which reads the file itself; opening and closing it excluded). */
  verifyMs: number[];
  /** CPU time (user + system, all threads) of each pass. */
  cpuMs: number[];
  /** CPU time of the verifyPdf calls of each pass. */
  verifyCpuMs: number[];
  files: number;
  bytes: number;
  /** "status/trust" of each signature in pass 1 -> count. */
  verdicts: Record<string, number>;
  /** ms from process start (performance.timeOrigin) to the first file read: Node + tsx + modules. */
  startupMs: number;
  /** CPU time of the whole process (start-up included) when it prints, ms. */
  processCpuMs: number;
  peakRss: number;
}

async function main(): Promise<void> {
  const startupMs = performance.now();
  const [passesArg, caFile, listFile] = process.argv.slice(2);
  if (!passesArg || !caFile || !listFile) throw new Error('usage: verify-worker.ts PASSES CA_PEM LIST_FILE');
  const files = readFileSync(listFile, 'utf8').split('\n').filter(Boolean);
  const trustAnchors = [readFileSync(caFile, 'utf8')];
  const passMs: number[] = [];
  const verifyMs: number[] = [];
  const passCpu: number[] = [];
  const verifyCpu: number[] = [];
  const verdicts: Record<string, number> = {};
  let bytes = 0;
  for (let p = 0; p < Number(passesArg); p++) {
    const t0 = nowMs();
    const c0 = cpuMs();
    let inVerify = 0;
    let inVerifyCpu = 0;
    for (const f of files) {
      const pdf = openFile(f);
      const v0 = nowMs();
      const vc = cpuMs();
      const report = await verifyPdf(pdf, { trustAnchors });
      inVerifyCpu += cpuMs() - vc;
      inVerify += nowMs() - v0;
      pdf.close();
      if (p === 0) {
        bytes += pdf.size;
        const keys = report.signatures.length
          ? report.signatures.map((s) => `${s.status}/${s.trust}`)
          : [report.status];
        for (const k of keys) verdicts[k] = (verdicts[k] ?? 0) + 1;
      }
    }
    passMs.push(nowMs() - t0);
    verifyMs.push(inVerify);
    passCpu.push(cpuMs() - c0);
    verifyCpu.push(inVerifyCpu);
  }
  const result: VerifyWorkerResult = {
    passMs,
    verifyMs,
    cpuMs: passCpu,
    verifyCpuMs: verifyCpu,
    files: files.length,
    bytes,
    verdicts,
    startupMs,
    processCpuMs: cpuMs(),
    peakRss: procMemory().hwm,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
