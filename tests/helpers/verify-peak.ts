/**
 * Verifies one PDF in a fresh process and prints what it cost:
 *   node --import tsx tests/helpers/verify-peak.ts FILE.pdf
 * -> {"status"|"code","name","message","ms","maxRssMb","heapUsedMb","arrayBuffersMb"} on stdout.
 * The peak RSS is the kernel's (getrusage ru_maxrss) for this process alone, so earlier work in a
 * test runner cannot hide (or inflate) what verifying this file needed.
 */
import { readFileSync } from 'node:fs';
import { verifyPdf } from '../../packages/core/src/verify';

const pdf = new Uint8Array(readFileSync(process.argv[2]!));
const t0 = performance.now();
let out: Record<string, unknown>;
try {
  out = { status: (await verifyPdf(pdf, { timeBudgetMs: 60_000 })).status };
} catch (e) {
  const x = e as { name?: string; code?: string; message?: string };
  out = { name: x.name, code: x.code, message: x.message };
}
const ms = Math.round(performance.now() - t0);
const m = process.memoryUsage();
const mb = (n: number) => Math.round(n / 1048576);
process.stdout.write(
  JSON.stringify({
    ...out,
    ms,
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    heapUsedMb: mb(m.heapUsed),
    arrayBuffersMb: mb(m.arrayBuffers),
  }),
);
