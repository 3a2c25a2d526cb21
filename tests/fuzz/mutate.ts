/**
 * Seeded mutation fuzzing of Sidian's signed PDFs (issue 3): flip, insert, delete and truncate
 * bytes (plus a few PDF tokens spliced in), verify, and classify the outcome. Shared by
 * tests/verify/fuzz.test.ts (a few thousand cases in `npm test`) and tests/fuzz/run.ts (the long run).
 *
 * The property: nothing escapes verifyPdf but a SidianError; a case whose mutation touched a
 * signed byte (a byte inside some signature's ByteRange, or one moved by an insertion or deletion
 * before it) is never `valid`; every case ends within the time bound.
 */
import { isSidianError } from '../../packages/core/src/errors';
import { verifyPdf } from '../../packages/core/src/verify';
import type { VerificationReport } from '../../packages/core/src/verify/types';
import { prng } from '../verify/generator';

export type MutationKind = 'flip' | 'insert' | 'delete' | 'truncate' | 'token';

export interface Mutation {
  kind: MutationKind;
  /** First byte changed (for insertions: where the new bytes go). */
  at: number;
  /** Bytes removed (delete, truncate) or inserted (insert, token). */
  removed: number;
  inserted: number;
}

export interface FuzzInput {
  name: string;
  pdf: Uint8Array;
  /** Signed byte ranges of every signature: [start, end) pairs. */
  signed: [number, number][];
}

/** PDF tokens that steer a parser somewhere interesting. */
const TOKENS = [
  ' 0 R',
  '<<',
  '>>',
  '[',
  ']',
  'endobj',
  'endstream',
  'stream\n',
  '%%EOF\n',
  'startxref\n0\n',
  '/Prev 0',
  '/Length 99999999999',
  'trailer',
  'xref\n0 1\n',
  ' obj',
  '(',
  ')',
  '<',
  '>',
  '/',
  '\\',
  '9999999999',
  '-1',
  '1.5e308',
  '/ByteRange [0 1 2 3]',
  '/Contents <00>',
  '/Type /Sig',
  '/Kids [1 0 R]',
  '/Root 1 0 R',
  '\r',
  '\n',
  '\0',
];

/** Random mutation of `pdf` by the PRNG; half the positions fall near the structure at the end of the file. */
export function mutate(pdf: Uint8Array, rnd: () => number): { bytes: Uint8Array; mutation: Mutation } {
  const len = pdf.length;
  const pos = (): number => {
    const r = rnd();
    // the last 2 KB hold the newest revision's objects, xref and trailer: weight them up
    if (r < 0.4) return Math.max(0, len - 1 - Math.floor(rnd() * Math.min(len, 2048)));
    return Math.floor(rnd() * len);
  };
  const kindRoll = rnd();
  const kind: MutationKind =
    kindRoll < 0.4
      ? 'flip'
      : kindRoll < 0.6
        ? 'insert'
        : kindRoll < 0.75
          ? 'delete'
          : kindRoll < 0.85
            ? 'truncate'
            : 'token';
  switch (kind) {
    case 'flip': {
      const at = pos();
      const out = pdf.slice();
      const n = 1 + Math.floor(rnd() * 3);
      for (let i = 0; i < n && at + i < len; i++) out[at + i]! ^= 1 << Math.floor(rnd() * 8);
      return { bytes: out, mutation: { kind, at, removed: 0, inserted: 0 } };
    }
    case 'insert':
    case 'token': {
      const at = pos();
      let ins: Uint8Array;
      if (kind === 'token')
        ins = Uint8Array.from(TOKENS[Math.floor(rnd() * TOKENS.length)]!, (c) => c.charCodeAt(0));
      else {
        ins = new Uint8Array(1 + Math.floor(rnd() * 16));
        for (let i = 0; i < ins.length; i++) ins[i] = Math.floor(rnd() * 256);
      }
      const out = new Uint8Array(len + ins.length);
      out.set(pdf.subarray(0, at), 0);
      out.set(ins, at);
      out.set(pdf.subarray(at), at + ins.length);
      return { bytes: out, mutation: { kind, at, removed: 0, inserted: ins.length } };
    }
    case 'delete': {
      const at = pos();
      const n = Math.min(len - at, 1 + Math.floor(rnd() * 16));
      const out = new Uint8Array(len - n);
      out.set(pdf.subarray(0, at), 0);
      out.set(pdf.subarray(at + n), at);
      return { bytes: out, mutation: { kind, at, removed: n, inserted: 0 } };
    }
    case 'truncate': {
      const at = Math.max(0, len - 1 - Math.floor(rnd() * Math.min(len, 4096)));
      return { bytes: pdf.slice(0, at), mutation: { kind, at, removed: len - at, inserted: 0 } };
    }
  }
}

/**
 * Did the mutation touch a signed byte? A flip touches the bytes it changed; an insertion or a
 * deletion touches every signed byte at or after its position (they moved), and a deletion or
 * truncation the signed bytes it removed.
 */
export function touchesSigned(
  m: Mutation,
  signed: [number, number][],
  changed?: (i: number) => boolean,
): boolean {
  if (m.kind === 'flip') {
    for (const [s, e] of signed)
      for (let i = m.at; i < m.at + 3; i++) if (i >= s && i < e && (!changed || changed(i))) return true;
    return false;
  }
  // anything from `at` on moves or disappears
  return signed.some(([, e]) => e > m.at);
}

export interface CaseResult {
  outcome: VerificationReport['status'] | `error:${string}`;
  ms: number;
  touched: boolean;
  /** A broken property: a non-Sidian exception, a signed-byte mutation reported valid, a timeout. */
  violation?: string;
}

export const TIME_BOUND_MS = 10_000;

/** Mutates and verifies one case. */
export async function runCase(
  input: FuzzInput,
  rnd: () => number,
  anchors: (string | Uint8Array)[],
): Promise<CaseResult & { mutation: Mutation; bytes: Uint8Array }> {
  const { bytes, mutation } = mutate(input.pdf, rnd);
  const touched = touchesSigned(mutation, input.signed, (i) => bytes[i] !== input.pdf[i]);
  const t0 = performance.now();
  let outcome: CaseResult['outcome'];
  let violation: string | undefined;
  try {
    const r = await verifyPdf(bytes, { trustAnchors: anchors, timeBudgetMs: TIME_BOUND_MS });
    outcome = r.status;
    if (touched && r.status === 'valid')
      violation = `a mutation of signed bytes (${mutation.kind} at ${mutation.at}) verified valid`;
  } catch (e) {
    if (isSidianError(e)) outcome = `error:${e.code}`;
    else {
      outcome = 'error:NOT_A_SIDIAN_ERROR';
      violation = `a non-Sidian exception escaped: ${(e as Error)?.stack ?? String(e)}`;
    }
  }
  const ms = performance.now() - t0;
  if (ms > TIME_BOUND_MS) violation ??= `took ${ms.toFixed(0)} ms`;
  return { outcome, ms, touched, violation, mutation, bytes };
}

/** Signed ranges of the signatures of an unmodified file, from its report. */
export async function signedRanges(
  pdf: Uint8Array,
  anchors: (string | Uint8Array)[],
): Promise<[number, number][]> {
  const r = await verifyPdf(pdf, { trustAnchors: anchors });
  if (r.status !== 'valid')
    throw new Error(`fuzz input is not valid: ${JSON.stringify(r.signatures.map((s) => s.reasons))}`);
  return r.signatures.flatMap((s) => {
    const [, a, b, c] = s.byteRange!;
    return [
      [0, a!],
      [b!, b! + c!],
    ] as [number, number][];
  });
}

export interface FuzzSummary {
  cases: number;
  touched: number;
  outcomes: Record<string, number>;
  maxMs: number;
  totalMs: number;
  violations: { input: string; seed: number; index: number; mutation: Mutation; violation: string }[];
}

/** Runs `cases` cases round-robin over the inputs from one seed. */
export async function fuzz(
  inputs: FuzzInput[],
  cases: number,
  seed: number,
  anchors: (string | Uint8Array)[],
  onCase?: (i: number, s: FuzzSummary) => void,
): Promise<FuzzSummary> {
  const rnd = prng(seed);
  const s: FuzzSummary = { cases: 0, touched: 0, outcomes: {}, maxMs: 0, totalMs: 0, violations: [] };
  for (let i = 0; i < cases; i++) {
    const input = inputs[i % inputs.length]!;
    const r = await runCase(input, rnd, anchors);
    s.cases++;
    if (r.touched) s.touched++;
    s.outcomes[r.outcome] = (s.outcomes[r.outcome] ?? 0) + 1;
    s.maxMs = Math.max(s.maxMs, r.ms);
    s.totalMs += r.ms;
    if (r.violation)
      s.violations.push({ input: input.name, seed, index: i, mutation: r.mutation, violation: r.violation });
    onCase?.(i, s);
  }
  return s;
}
