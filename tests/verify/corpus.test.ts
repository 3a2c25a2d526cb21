/**
 * Third-party signed PDFs (tests/corpus, see its README.md) against the verdicts a correct
 * PAdES verifier gives (EU DSS, pyHanko): the number of signatures and, per signature in the
 * order they were applied, `integrity` and `modificationsAfter`. Fields marked "unknown" are not
 * judged; manifest "broken" means anything but "ok". Each file within 10 seconds, no exception
 * (files marked malformedInput may instead end in a SidianError).
 *
 * Policy for signed attributes that are not in DER order (node-forge output, marked unknown in
 * the manifest): tolerated as OpenSSL and pyHanko do — the signature verifies as encoded — with
 * a warning in `reasons`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSidianError } from '../../packages/core/src/errors';
import { verifyPdf } from '../../packages/core/src/verify';
import type { VerificationReport } from '../../packages/core/src/verify/types';
import { CORPUS_DIR } from '../fixtures/paths';

const CORPUS = CORPUS_DIR;

interface Expectation {
  field: string;
  kind: string;
  integrity: 'ok' | 'broken' | 'unknown';
  modificationsAfter: 'none' | 'allowed' | 'disallowed' | 'unknown';
}
interface Entry {
  file: string;
  sha256: string;
  signatures: number | 'unknown';
  expect: Expectation[];
  malformedInput?: boolean;
}

const manifest = JSON.parse(readFileSync(path.join(CORPUS, 'manifest.json'), 'utf8')) as { files: Entry[] };

/** README "Cases to know about": signed attributes out of DER order. */
const NON_DER_ORDER = new Set([
  'node-signpdf/signed-once.pdf',
  'node-signpdf/signed-twice.pdf',
  'node-signpdf/incrementally_signed.pdf',
  'dss/dss-818/Signature-P-DE_CRY-2-HASH_FAILURE.pdf',
  'dss/pades-5-signatures-and-1-document-timestamp.pdf',
]);
const DER_ORDER_WARNING = /not in DER order/;
const TIME_BOUND_MS = 10_000;

async function run(entry: Entry): Promise<{ report?: VerificationReport; error?: unknown; ms: number }> {
  const bytes = new Uint8Array(readFileSync(path.join(CORPUS, entry.file)));
  const t0 = performance.now();
  try {
    const report = await verifyPdf(bytes);
    return { report, ms: performance.now() - t0 };
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
}

describe('third-party corpus (tests/corpus)', () => {
  it('has the 25 files the README describes', () => {
    expect(manifest.files.length).toBe(25);
  });

  for (const entry of manifest.files) {
    it(`${entry.file}: verdicts per signature`, async () => {
      const { report, error, ms } = await run(entry);
      expect(ms, 'time bound').toBeLessThan(TIME_BOUND_MS);
      if (error !== undefined) {
        // Only a malformed input may end in an error, and then only in a typed one.
        expect(entry.malformedInput, `unexpected exception: ${(error as Error)?.message}`).toBe(true);
        expect(isSidianError(error), `not a SidianError: ${String(error)}`).toBe(true);
        return;
      }
      const r = report!;
      if (entry.malformedInput) expect(r.status, 'a malformed input is never valid').not.toBe('valid');
      if (entry.signatures !== 'unknown')
        expect(r.signatures.length, 'number of signatures').toBe(entry.signatures);
      // The report lists signatures by where their signed bytes end: the order of application.
      entry.expect.forEach((exp, i) => {
        const got = r.signatures[i];
        if (entry.signatures === 'unknown' && !got) return;
        expect(got, `signature ${i + 1} (${exp.field})`).toBeDefined();
        const where = `signature ${i + 1} (${exp.field}): ${got!.reasons.join(' | ')}`;
        if (exp.integrity === 'ok') expect(got!.integrity, where).toBe('ok');
        if (exp.integrity === 'broken') expect(got!.integrity, where).not.toBe('ok');
        if (exp.modificationsAfter !== 'unknown')
          expect(got!.modificationsAfter, where).toBe(exp.modificationsAfter);
        if (exp.kind !== 'unknown') expect(got!.kind, where).toBe(exp.kind);
        // A broken signature, or one followed by disallowed changes, is never valid.
        if (exp.integrity === 'broken' || exp.modificationsAfter === 'disallowed')
          expect(got!.status, where).toBe('invalid');
      });
    });
  }

  it('signed attributes out of DER order: tolerated (integrity ok) with a warning in reasons', async () => {
    for (const file of NON_DER_ORDER) {
      const entry = manifest.files.find((e) => e.file === file)!;
      const { report } = await run(entry);
      expect(report, file).toBeDefined();
      const flagged = entry.expect
        .map((exp, i) => ({ exp, got: report!.signatures[i]! }))
        .filter(({ exp }) => exp.integrity === 'unknown');
      expect(flagged.length, file).toBeGreaterThan(0);
      for (const { exp, got } of flagged) {
        expect(got.integrity, `${file} ${exp.field}`).toBe('ok');
        expect(
          got.reasons.some((r) => DER_ORDER_WARNING.test(r)),
          `${file} ${exp.field}: ${got.reasons.join(' | ')}`,
        ).toBe(true);
      }
    }
  });

  it('signatures in DER order carry no such warning', async () => {
    for (const entry of manifest.files.filter((e) => !NON_DER_ORDER.has(e.file) && !e.malformedInput)) {
      const { report } = await run(entry);
      for (const s of report?.signatures ?? [])
        expect(
          s.reasons.some((r) => DER_ORDER_WARNING.test(r)),
          `${entry.file} ${s.field}`,
        ).toBe(false);
    }
  });

  it("pdfsig's blind spots (coverage anomalies, an added page, the sneaky form update) are not valid", async () => {
    const files = [
      'pyhanko/coverage-anomalies/tail-uncovered.pdf',
      'pyhanko/coverage-anomalies/signature-gap-too-big.pdf',
      'pyhanko/coverage-anomalies/one-byterange.pdf',
      'pyhanko/coverage-anomalies/weird-byterange.pdf',
      'dss/pdf-signed-added-page.pdf',
      'pyhanko/form-update-override-appearance-stream-sneaky.pdf',
    ];
    for (const file of files) {
      const { report } = await run(manifest.files.find((e) => e.file === file)!);
      expect(report?.status, file).toBe('invalid');
    }
  });
});
