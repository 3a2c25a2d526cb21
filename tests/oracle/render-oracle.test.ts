/**
 * The render oracle (issue 14): what viewers show decides. For every file the attack generator
 * makes (tests/oracle/catalog.ts) and a seeded batch of fuzzed signed files (tests/fuzz/), each
 * signature Sidian reports with `modificationsAfter` `none` or `allowed` is checked against three
 * viewers: the signed revision (the file cut at the end of its ByteRange) and the final file are
 * rendered by pdf.js, poppler and MuPDF; if any viewer shows something in the final file that the
 * signed revision did not — another page count, words, or pixels outside the rectangles the rules
 * let change — the verdict is wrong and this test fails.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CORPUS_DIR } from '../fixtures/paths';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSidianError } from '../../packages/core/src/errors';
import { verifyPdf } from '../../packages/core/src/verify';
import type { SignatureReport, VerificationReport } from '../../packages/core/src/verify/types';
import { buildFuzzInputs } from '../fuzz/inputs';
import { mutate, type FuzzInput } from '../fuzz/mutate';
import { makeTempDir, removeDir } from '../helpers/openssl-pki';
import { startOpensslTsa, type OpensslTsa } from '../helpers/tsa-shim';
import { createTestPki, prng, type TestPki } from '../verify/generator';
import {
  buildCatalog,
  delimitedHeaderUpdate,
  duplicateInObjectStream,
  linearizedShadowSigned,
  type CatalogFile,
} from './catalog';
import { allowedRects, compare, render, type Difference, type Permission, type Rendering } from './render';

/** Fuzzed files: a fixed seed, a bounded count (most mutations break a signature and need no rendering). */
const FUZZ_CASES = 600;
const FUZZ_SEED = 0x0dac1e;

let dir: string;
let tsa: OpensslTsa;
let pki: TestPki;
let anchors: string[];

beforeAll(async () => {
  dir = makeTempDir('sidian-render-oracle-');
  pki = await createTestPki(dir);
  tsa = await startOpensslTsa(dir);
  anchors = [pki.ca.certPem, tsa.caPem];
});

afterAll(async () => {
  await tsa?.close();
  if (dir) removeDir(dir);
});

interface Finding {
  file: string;
  field: string;
  verdict: SignatureReport['modificationsAfter'];
  differences: Difference[];
}

interface OracleRun {
  files: number;
  /** Signatures with `none`/`allowed` whose signed revision is shorter than the file: rendered and compared. */
  compared: number;
  /** Signatures with `none` over the whole file: nothing to compare (the bytes are the same). */
  wholeFile: number;
  findings: Finding[];
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** What the rules let change after `sig`, given the document's certification (DocMDP P caps it). */
function permissionFor(report: VerificationReport, sig: SignatureReport): Permission {
  if (sig.modificationsAfter === 'none') return 'nothing';
  const p = Math.min(
    4,
    ...report.signatures.filter((s) => s.kind === 'certification' && s.docMdp).map((s) => s.docMdp!),
  );
  return p === 1 ? 'nothing' : p === 3 ? 'annotations' : 'form';
}

async function runOracle(files: CatalogFile[]): Promise<OracleRun> {
  const renders = new Map<string, Promise<Rendering>>();
  const rendered = (b: Uint8Array) => {
    const k = sha(b);
    let r = renders.get(k);
    if (!r) renders.set(k, (r = render(b)));
    return r;
  };
  const run: OracleRun = { files: files.length, compared: 0, wholeFile: 0, findings: [] };
  for (const f of files) {
    let report: VerificationReport;
    try {
      report = await verifyPdf(f.pdf, { trustAnchors: anchors });
    } catch (e) {
      if (isSidianError(e)) continue; // unreadable: no verdict to check
      throw e;
    }
    for (const sig of report.signatures) {
      if (sig.modificationsAfter !== 'none' && sig.modificationsAfter !== 'allowed') continue;
      const br = sig.byteRange;
      if (!br || br.length !== 4 || !br.every((x) => Number.isInteger(x) && x >= 0)) continue;
      const cut = br[2]! + br[3]!;
      if (cut <= 0 || cut > f.pdf.length) continue;
      if (cut === f.pdf.length) {
        run.wholeFile++;
        continue;
      }
      run.compared++;
      const signedRevision = f.pdf.subarray(0, cut);
      const [signedView, finalView] = await Promise.all([rendered(signedRevision), rendered(f.pdf)]);
      const allowed = allowedRects(signedView, finalView, permissionFor(report, sig));
      const differences = compare(signedView, finalView, allowed);
      if (differences.length)
        run.findings.push({ file: f.name, field: sig.field, verdict: sig.modificationsAfter, differences });
    }
  }
  return run;
}

function describeFindings(findings: Finding[]): string {
  return findings
    .map(
      (f) =>
        `${f.file} [${f.field}] reported ${f.verdict}, but:\n` +
        f.differences.map((d) => `    ${d.renderer} page ${d.page}: ${d.what}`).join('\n'),
    )
    .join('\n');
}

describe('render oracle: a none/allowed verdict never hides what viewers show', () => {
  it('the oracle itself sees real changes (a page added, content rewritten) and passes allowed ones', async () => {
    // positive and negative controls with the verdict forced, so the oracle is tested apart from Sidian
    const { addPage, changeContentStream, fillTextField, loadInput, addCoveringAnnotation } =
      await import('../verify/generator');
    const { signPdf } = await import('../../packages/core/src/sign/sign-pdf');
    const classic = await signPdf(loadInput('classic-1.3'), { signer: pki.signer, contentsSize: 3072 });
    const form = await signPdf(loadInput('acroform'), { signer: pki.signer, contentsSize: 3072 });
    const diff = async (signed: Uint8Array, final: Uint8Array, permission: Permission) => {
      const [s, f] = await Promise.all([render(signed), render(final)]);
      return compare(s, f, allowedRects(s, f, permission));
    };
    const added = await diff(classic, addPage(classic), 'form');
    expect(new Set(added.map((d) => d.renderer))).toEqual(new Set(['pdfjs', 'poppler', 'mupdf']));
    const rewritten = await diff(classic, changeContentStream(classic), 'form');
    expect(rewritten.some((d) => d.renderer === 'pdfjs' && /PAID/.test(d.what))).toBe(true);
    expect(rewritten.some((d) => /pixels changed/.test(d.what))).toBe(true);
    // a white square over the text: the words are still there, only the pixels tell (all three draw it)
    const covered = await diff(classic, addCoveringAnnotation(classic, 'Square'), 'form');
    expect(
      covered
        .filter((d) => /pixels changed/.test(d.what))
        .map((d) => d.renderer)
        .sort(),
    ).toEqual(['mupdf', 'pdfjs', 'poppler']);
    // ... which DocMDP P=3 allows: inside the annotation's rectangle
    expect(await diff(classic, addCoveringAnnotation(classic, 'Square'), 'annotations')).toEqual([]);
    // form filling changes only the field's widget
    const filled = fillTextField(form, 'applicant-name', 'Li Si');
    expect(await diff(form, filled, 'form')).toEqual([]);
    // ... which P=1 does not allow
    const locked = await diff(form, filled, 'nothing');
    expect(locked.some((d) => /Li|Si|pixels/.test(d.what))).toBe(true);
    // a repairing viewer (MuPDF) finds an object header after a delimiter and shows new content
    // (issue 14 class 5): the oracle sees what MuPDF shows even where the others show the signed page
    const delimited = await diff(classic, delimitedHeaderUpdate(classic, '(x)'), 'form');
    expect(delimited.filter((d) => d.renderer === 'mupdf').map((d) => d.what)).toContain(
      'text added: PAID - nothing owed',
    );
    // a linearized original padded to its /L after signing (issue 14 class 3): poppler shows the
    // first-page section's other content
    const lin = await linearizedShadowSigned(pki.signer);
    const padded = await diff(lin.signed, lin.padded, 'form');
    expect(padded.filter((d) => d.renderer === 'poppler').map((d) => d.what)).toContain('text gone: 100');
    // an object written twice in one object stream (issue 14 class 4): pdf.js shows the last copy
    const duplicated = await diff(classic, duplicateInObjectStream(classic), 'form');
    expect(duplicated.filter((d) => d.renderer === 'pdfjs').map((d) => d.what)).toContain(
      'text added: PAID - nothing owed',
    );
  }, 120_000);

  let catalog: Promise<CatalogFile[]> | undefined;
  const getCatalog = () => (catalog ??= buildCatalog(pki, tsa.url));

  it('over every file the attack generator makes', async () => {
    const run = await runOracle(await getCatalog());
    console.log(
      `render oracle, generator: ${run.files} files, ${run.compared} signature verdicts rendered and compared, ${run.wholeFile} over the whole file, ${run.findings.length} wrong`,
    );
    expect(run.compared).toBeGreaterThan(20);
    expect(run.findings, describeFindings(run.findings)).toEqual([]);
  }, 240_000);

  it('the catalog covers every attack variant the generator exports (its *_VARIANTS lists and SHADOW)', async () => {
    const generator: Record<string, unknown> = await import('../verify/generator');
    const variants = Object.entries(generator).flatMap(([name, v]) =>
      /_VARIANTS$/.test(name) && Array.isArray(v)
        ? v.map((x) => ({ list: name, variant: String(x) }))
        : name === 'SHADOW'
          ? Object.keys(v as object).map((x) => ({ list: name, variant: x }))
          : [],
    );
    expect(variants.length).toBeGreaterThan(30);
    const names = (await getCatalog()).map((f) => f.name);
    const missing = variants.filter(
      ({ variant }) => !names.some((n) => n.endsWith(`-${variant}`) || n.endsWith(`/${variant}`)),
    );
    expect(missing, 'add these to tests/oracle/catalog.ts').toEqual([]);
  });

  it('over the third-party corpus (tests/corpus)', async () => {
    const manifest = JSON.parse(readFileSync(path.join(CORPUS_DIR, 'manifest.json'), 'utf8')) as {
      files: { file: string }[];
    };
    const files = manifest.files.map((f) => ({
      name: `corpus/${f.file}`,
      pdf: new Uint8Array(readFileSync(path.join(CORPUS_DIR, f.file))),
    }));
    const run = await runOracle(files);
    console.log(
      `render oracle, corpus: ${run.files} files, ${run.compared} signature verdicts rendered and compared, ${run.wholeFile} over the whole file, ${run.findings.length} wrong`,
    );
    expect(run.compared).toBeGreaterThan(10);
    expect(run.findings, describeFindings(run.findings)).toEqual([]);
  }, 240_000);

  it(`over ${FUZZ_CASES} fuzzed signed files (seed ${FUZZ_SEED})`, async () => {
    const inputs: FuzzInput[] = await buildFuzzInputs(pki, anchors, tsa.url);
    const rnd = prng(FUZZ_SEED);
    const files: CatalogFile[] = [];
    for (let i = 0; i < FUZZ_CASES; i++) {
      const input = inputs[i % inputs.length]!;
      const { bytes, mutation } = mutate(input.pdf, rnd);
      files.push({ name: `fuzz/${input.name}#${i} ${mutation.kind}@${mutation.at}`, pdf: bytes });
    }
    const run = await runOracle(files);
    console.log(
      `render oracle, fuzzer: ${run.files} files, ${run.compared} signature verdicts rendered and compared, ${run.wholeFile} over the whole file, ${run.findings.length} wrong`,
    );
    expect(run.compared).toBeGreaterThan(10);
    expect(run.findings, describeFindings(run.findings)).toEqual([]);
  }, 240_000);
});
