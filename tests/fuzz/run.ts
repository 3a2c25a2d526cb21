/**
 * The long fuzzing run: `npm run fuzz [-- CASES [SEED]]` (default 100,000 cases, seed 1).
 * Same inputs and properties as tests/verify/fuzz.test.ts; prints the counts (cases, outcomes by
 * status and error code, times) and every violation, and exits 1 when there is one.
 */
import { generateImages } from '../fixtures/images';
import { IMAGES_DIR, INPUTS_DIR } from '../fixtures/paths';
import { generateInputPdfs } from '../fixtures/pdfs';
import { makeTempDir, removeDir } from '../helpers/openssl-pki';
import { startOpensslTsa } from '../helpers/tsa-shim';
import { createTestPki } from '../verify/generator';
import { buildFuzzInputs } from './inputs';
import { TIME_BOUND_MS, fuzz } from './mutate';

const cases = Number(process.argv[2] ?? 100_000);
const seed = Number(process.argv[3] ?? 1);
if (!Number.isInteger(cases) || cases <= 0 || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- [CASES] [SEED]');
  process.exit(2);
}

// the generated inputs (cached under tests/.generated; vitest's global setup makes them too)
await Promise.all([generateInputPdfs(INPUTS_DIR), generateImages(IMAGES_DIR)]);
const dir = makeTempDir('sidian-fuzz-');
const tsa = await startOpensslTsa(dir);
try {
  const pki = await createTestPki(dir);
  const anchors = [pki.ca.certPem, tsa.caPem];
  const inputs = await buildFuzzInputs(pki, anchors, tsa.url);
  console.log(
    `fuzz: ${cases} cases, seed ${seed}, inputs ${inputs.map((i) => `${i.name} (${i.pdf.length} B)`).join(', ')}`,
  );
  const t0 = performance.now();
  const s = await fuzz(inputs, cases, seed, anchors, (i, sum) => {
    if ((i + 1) % 10_000 === 0) {
      console.log(
        `  ${i + 1} cases, ${((performance.now() - t0) / 1000).toFixed(0)} s, max ${sum.maxMs.toFixed(0)} ms, violations ${sum.violations.length}`,
      );
    }
  });
  const wall = (performance.now() - t0) / 1000;
  const entries = Object.entries(s.outcomes).sort((a, b) => b[1] - a[1]);
  const statuses = entries.filter(([k]) => !k.startsWith('error:'));
  const errors = entries.filter(([k]) => k.startsWith('error:'));
  console.log(`\ncases            ${s.cases} (${s.touched} touched signed bytes)`);
  console.log(`statuses         ${statuses.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(
    `errors by code   ${errors.map(([k, v]) => `${k.slice('error:'.length)} ${v}`).join(', ') || 'none'}`,
  );
  console.log(
    `time per case    max ${s.maxMs.toFixed(1)} ms, mean ${(s.totalMs / s.cases).toFixed(2)} ms (bound ${TIME_BOUND_MS} ms); wall ${wall.toFixed(1)} s`,
  );
  console.log(`violations       ${s.violations.length}`);
  for (const v of s.violations.slice(0, 20))
    console.log(`  ${v.input} case ${v.index} ${JSON.stringify(v.mutation)}: ${v.violation.slice(0, 500)}`);
  process.exitCode = s.violations.length ? 1 : 0;
} finally {
  await tsa.close();
  removeDir(dir);
}
