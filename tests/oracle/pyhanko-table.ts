/**
 * The pyHanko oracle's table (issue 14): pyHanko's verdict beside Sidian's, per file and signature,
 * on integrity, coverage and modifications after the signature. Written by `npm run oracle:pyhanko`
 * (tests/oracle/pyhanko-oracle.ts, which runs pyHanko built by scripts/pyhanko-oracle/setup.sh);
 * read by tests/oracle/pyhanko-oracle.test.ts, which runs Sidian afresh on the same bytes and fails
 * on a disagreement the table gives no reason for. Node-only test helper.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isSidianError } from '../../packages/core/src/errors';
import { verifyPdf } from '../../packages/core/src/verify';
import type { VerificationReport } from '../../packages/core/src/verify/types';
import { CORPUS_DIR, REPO_ROOT } from '../fixtures/paths';

export const ORACLE_DIR = path.join(REPO_ROOT, 'tests', 'oracle');
export const TABLE_FILE = path.join(ORACLE_DIR, 'pyhanko-table.json');
export const TABLE_VIEW = path.join(ORACLE_DIR, 'pyhanko-table.md');
/** Why Sidian is right where the two disagree: hand-written, keyed `file#field:aspect`. */
export const REASONS_FILE = path.join(ORACLE_DIR, 'pyhanko-reasons.json');
/** The generated files pyHanko judged (gzip: their /Contents reservations are mostly zeros). */
export const GENERATED_DIR = path.join(ORACLE_DIR, 'generated');

/** What scripts/pyhanko-oracle/validate.py prints per signature. */
export interface PyhankoSignature {
  field: string | null;
  kind: 'signature' | 'document-timestamp';
  intact: boolean | null;
  valid: boolean | null;
  coverage: 'UNCLEAR' | 'CONTIGUOUS_BLOCK_FROM_START' | 'ENTIRE_REVISION' | 'ENTIRE_FILE' | null;
  modificationLevel: 'NONE' | 'LTA_UPDATES' | 'FORM_FILLING' | 'ANNOTATIONS' | 'OTHER' | null;
  docmdpOk: boolean | null;
  error: string | null;
}

export interface PyhankoFile {
  file: string;
  error: string | null;
  signatures: PyhankoSignature[];
}

export type Integrity = 'ok' | 'broken';
export type Modifications = 'none' | 'allowed' | 'disallowed';
export type Aspect = 'presence' | 'integrity' | 'modifications';

/** One signature as Sidian judges it, in the table's terms. */
export interface OurVerdict {
  integrity: Integrity;
  coverage: string;
  modificationsAfter: Modifications;
}

export interface TheirVerdict {
  integrity: Integrity;
  coverage: string | null;
  modificationLevel: string | null;
  docmdpOk: boolean | null;
  /** pyHanko's levels in our terms (null: moot, the signature is not intact). */
  modificationsAfter: Modifications | null;
  error: string | null;
}

export interface TableRow {
  field: string;
  /** pyHanko's name for the field where it differs from ours (paired by position). */
  theirField?: string;
  /** null: that side reports no such signature. */
  ours: OurVerdict | null;
  pyhanko: TheirVerdict | null;
  disagree: Aspect[];
  reasons: Partial<Record<Aspect, string>>;
}

export interface TableFile {
  /** `corpus/<path in tests/corpus>` or `generated/<recipe>`. */
  file: string;
  sha256: string;
  /** A file-level error (Sidian's error code, pyHanko's exception), when one side cannot read it. */
  oursError: string | null;
  pyhankoError: string | null;
  rows: TableRow[];
}

export interface Table {
  pyhanko: { repository: string; commit: string; uritools: string };
  ranAt: string;
  counts: {
    files: number;
    signatures: number;
    agree: number;
    disagreeWithReason: number;
    disagreeWithoutReason: number;
  };
  files: TableFile[];
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The bytes a table entry names: a corpus file, or a stored generated one. */
export function loadTableFile(name: string): Uint8Array {
  if (name.startsWith('corpus/'))
    return new Uint8Array(readFileSync(path.join(CORPUS_DIR, name.slice('corpus/'.length))));
  if (name.startsWith('generated/'))
    return new Uint8Array(
      gunzipSync(readFileSync(path.join(GENERATED_DIR, generatedFileName(name.slice('generated/'.length))))),
    );
  throw new Error(`unknown table file ${name}`);
}

export function generatedFileName(recipe: string): string {
  return `${recipe.replace(/\//g, '--')}.pdf.gz`;
}

/** pyHanko's verdict in our terms. */
export function theirVerdict(s: PyhankoSignature): TheirVerdict {
  const integrity: Integrity = !s.error && s.intact && s.valid ? 'ok' : 'broken';
  return {
    integrity,
    coverage: s.coverage,
    modificationLevel: s.modificationLevel,
    docmdpOk: s.docmdpOk,
    modificationsAfter: theirModifications(integrity, s.coverage, s.modificationLevel, s.docmdpOk),
    error: s.error,
  };
}

/** The same, from a verdict stored in the table (the mapping to our terms applied afresh). */
export function storedVerdict(v: TheirVerdict): TheirVerdict {
  return {
    ...v,
    modificationsAfter: theirModifications(v.integrity, v.coverage, v.modificationLevel, v.docmdpOk),
  };
}

function theirModifications(
  integrity: Integrity,
  coverage: string | null,
  level: string | null,
  docmdpOk: boolean | null,
): Modifications | null {
  if (integrity !== 'ok') return null; // moot
  // NONE after a revision: the later updates change nothing pyHanko compares
  if (coverage === 'ENTIRE_FILE' || (coverage === 'ENTIRE_REVISION' && level === 'NONE')) return 'none';
  if (coverage === 'ENTIRE_REVISION')
    return level === 'OTHER' || docmdpOk === false ? 'disallowed' : 'allowed';
  return 'disallowed';
}

/** Sidian's verdicts on `pdf` (no trust anchors: trust is not compared), or its error code. */
export async function ourVerdicts(
  pdf: Uint8Array,
): Promise<{ error: string | null; signatures: { field: string; verdict: OurVerdict }[] }> {
  let report: VerificationReport;
  try {
    report = await verifyPdf(pdf, { trustAnchors: [] });
  } catch (e) {
    if (isSidianError(e)) return { error: e.code, signatures: [] };
    throw e;
  }
  return {
    error: null,
    signatures: report.signatures.map((s) => ({
      field: s.field,
      verdict: {
        integrity: s.integrity === 'ok' ? 'ok' : 'broken',
        coverage: s.coverage,
        modificationsAfter: s.modificationsAfter,
      },
    })),
  };
}

export function reasonKey(file: string, field: string, aspect: Aspect): string {
  return `${file}#${field}:${aspect}`;
}

/**
 * Pairs the two sides' signatures by field name (the n-th of a name with the n-th) and lists
 * where they disagree: a signature only one side reports; integrity; modifications after the
 * signature, compared only where both call the signature intact (otherwise the question is moot).
 */
export function compareFile(
  file: string,
  ours: { error: string | null; signatures: { field: string; verdict: OurVerdict }[] },
  theirs: { field: string; verdict: TheirVerdict }[],
  reasons: Record<string, string>,
): TableRow[] {
  const rows: TableRow[] = [];
  const pending = theirs.map((t) => ({ t, used: false }));
  for (const o of ours.signatures) {
    const p = pending.find((x) => !x.used && x.t.field === o.field);
    if (p) p.used = true;
    rows.push(row(file, o.field, o.verdict, p ? p.t.verdict : null, reasons));
  }
  // names that differ (Sidian shows an encrypted file's /T as stored): pair the rest in order
  const rest = pending.filter((p) => !p.used);
  for (const r of rows)
    if (!r.pyhanko && rest.length) {
      const p = rest.shift()!;
      p.used = true;
      Object.assign(r, row(file, r.field, r.ours, p.t.verdict, reasons), { theirField: p.t.field });
    }
  for (const p of pending) if (!p.used) rows.push(row(file, p.t.field, null, p.t.verdict, reasons));
  return rows;
}

/** pyHanko's signatures of a file, in our terms. */
export function theirVerdicts(py: PyhankoFile): { field: string; verdict: TheirVerdict }[] {
  return py.signatures.map((s) => ({ field: s.field ?? '', verdict: theirVerdict(s) }));
}

/** The reasons a table gives, keyed as in pyhanko-reasons.json. */
export function tableReasons(t: Table): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of t.files)
    for (const r of f.rows)
      for (const [a, why] of Object.entries(r.reasons)) out[reasonKey(f.file, r.field, a as Aspect)] = why;
  return out;
}

function row(
  file: string,
  field: string,
  ours: OurVerdict | null,
  theirs: TheirVerdict | null,
  reasons: Record<string, string>,
): TableRow {
  const disagree: Aspect[] = [];
  if (!ours || !theirs) {
    // a signature one side does not report: only a disagreement if the other calls it intact
    if ((ours?.integrity ?? theirs?.integrity) === 'ok') disagree.push('presence');
  } else {
    if (ours.integrity !== theirs.integrity) disagree.push('integrity');
    else if (
      ours.integrity === 'ok' &&
      theirs.modificationsAfter !== null &&
      ours.modificationsAfter !== theirs.modificationsAfter
    )
      disagree.push('modifications');
  }
  const r: TableRow['reasons'] = {};
  for (const a of disagree) {
    const why = reasons[reasonKey(file, field, a)];
    if (why) r[a] = why;
  }
  return { field, ours, pyhanko: theirs, disagree, reasons: r };
}

export function countRows(files: TableFile[]): Table['counts'] {
  const rows = files.flatMap((f) => f.rows);
  const disagreeing = rows.filter((r) => r.disagree.length);
  const withReason = disagreeing.filter((r) => r.disagree.every((a) => r.reasons[a]));
  return {
    files: files.length,
    signatures: rows.length,
    agree: rows.length - disagreeing.length,
    disagreeWithReason: withReason.length,
    disagreeWithoutReason: disagreeing.length - withReason.length,
  };
}

/** The markdown view of the table. */
export function tableMarkdown(t: Table): string {
  const v = (o: OurVerdict | null) => (o ? `${o.integrity} / ${o.coverage} / ${o.modificationsAfter}` : '—');
  const p = (x: TheirVerdict | null) =>
    x
      ? x.error
        ? `error: ${x.error.replace(/\|/g, '\\|').slice(0, 80)}`
        : `${x.integrity} / ${x.coverage} / ${x.modificationLevel}${x.docmdpOk === false ? ' (DocMDP violated)' : ''} → ${x.modificationsAfter ?? 'moot'}`
      : '—';
  const lines = [
    '# pyHanko beside Sidian',
    '',
    `Generated by \`npm run oracle:pyhanko\` (${t.ranAt}); pyHanko ${t.pyhanko.commit} built from ${t.pyhanko.repository}.`,
    "Per signature: integrity / coverage / modifications after it. pyHanko's modification level maps to ours as",
    'ENTIRE_FILE, or ENTIRE_REVISION with NONE → none; ENTIRE_REVISION with OTHER or a DocMDP violation → disallowed, else allowed; other coverage → disallowed.',
    'Modifications are compared only where both call the signature intact. Do not edit by hand: reasons live in',
    '`pyhanko-reasons.json`.',
    '',
    `Files ${t.counts.files}, signatures ${t.counts.signatures}: agree ${t.counts.agree}, disagree with a reason ${t.counts.disagreeWithReason}, disagree without a reason ${t.counts.disagreeWithoutReason}.`,
    '',
    '| file | field | Sidian | pyHanko | disagree | why Sidian is right |',
    '|---|---|---|---|---|---|',
  ];
  for (const f of t.files) {
    if (!f.rows.length)
      lines.push(
        `| ${f.file} | — | ${f.oursError ?? 'no signature'} | ${f.pyhankoError ?? 'no signature'} | | |`,
      );
    for (const r of f.rows)
      lines.push(
        `| ${f.file} | ${r.field} | ${v(r.ours)} | ${p(r.pyhanko)} | ${r.disagree.join(', ')} | ${r.disagree.map((a) => r.reasons[a] ?? '**none given**').join(' ')} |`,
      );
  }
  return lines.join('\n') + '\n';
}
