/**
 * The elements' words, walked whole: every error code (the engine's SidianErrorCode, read from the
 * source of packages/core/src/errors.ts so that a new code cannot slip by, and the elements' own
 * ElementErrorCode) has a zh-CN and an English message in every element's table; zh-CN text carries
 * no English words, English text no Chinese punctuation; the registry's statuses have their words.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LICENCE_STATUSES, licenceStatusTerms } from '../../packages/core/src/licence/status';
import { errorStrings } from '../../packages/elements/src/shared/error-strings';
import { sealPlacerStrings } from '../../packages/elements/src/seal-placer/seal-placer.strings';
import { signaturePadStrings } from '../../packages/elements/src/signature-pad/signature-pad.strings';
import { licenceViewerStrings } from '../../packages/elements/src/licence-viewer/licence-viewer.strings';
import {
  fileSize,
  materialUploaderStrings,
} from '../../packages/elements/src/material-uploader/material-uploader.strings';

const root = path.resolve(import.meta.dirname, '../..');

/** The string literals of a union type alias in a source file (`export type X = | 'A' | 'B';`). */
function unionMembers(file: string, typeName: string): string[] {
  const src = fs
    .readFileSync(path.join(root, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
  const at = src.indexOf(`export type ${typeName} =`);
  expect(at, `${typeName} in ${file}`).toBeGreaterThan(-1);
  const body = src.slice(at, src.indexOf(';', at));
  return [...body.matchAll(/'([A-Z0-9_]+)'/g)].map((m) => m[1]!);
}

const coreCodes = unionMembers('packages/core/src/errors.ts', 'SidianErrorCode');
const elementCodes = unionMembers('packages/elements/src/shared/errors.ts', 'ElementErrorCode');
const serverAnswerCodes = ['UNAUTHORIZED', 'NOT_SIGNED_IN', 'UNKNOWN'];
const allCodes = [...coreCodes, ...elementCodes, ...serverAnswerCodes];

/** Letters-only words that may stand in Chinese text: formats, algorithms, standards, protocol names. */
const ALLOWED_LATIN = new Set([
  'PDF',
  'OFD',
  'PNG',
  'JPEG',
  'SM2',
  'SM3',
  'ID',
  'CA',
  'URL',
  'PAdES',
  'PKCS',
  'USB',
  'Windows',
  'Linux',
  'macOS',
  'Ctrl',
  'V',
  'Shift',
  'PageUp',
  'PageDown',
  'X',
  'Y',
  'SHA',
  'B',
  'KB',
  'MB',
  'GB',
  'TB',
]);

/** Every string a table yields: plain text, and functions called with sample arguments. */
function texts(table: unknown, at = ''): { at: string; text: string }[] {
  if (typeof table === 'string') return [{ at, text: table }];
  if (typeof table === 'function') {
    const key = at.split('.').pop()!;
    const args =
      SAMPLE_ARGS[key] ??
      Array.from({ length: (table as (...a: unknown[]) => string).length }, (_, i) => sampleArg(i));
    return [{ at, text: String((table as (...a: unknown[]) => string)(...args)) }];
  }
  if (table && typeof table === 'object')
    return Object.entries(table).flatMap(([k, v]) => texts(v, at ? `${at}.${k}` : k));
  return [];
}
/** Arguments for the functions that need a particular kind (a status, a date). */
const SAMPLE_ARGS: Record<string, unknown[]> = {
  withdrawnAt: ['revoked', '2026-01-02T03:04:05Z', '原因'],
  list: [['甲', '乙']],
};
/** Arguments with no letters of their own, so that any letters in the output come from the table. */
function sampleArg(i: number): never {
  return [3, 12, 7, 5][i % 4] as never;
}

function latinWords(text: string): string[] {
  return (text.match(/[A-Za-z][A-Za-z0-9-]*/g) ?? []).filter(
    (w) => !ALLOWED_LATIN.has(w) && !ALLOWED_LATIN.has(w.replace(/-.*/, '')),
  );
}

const tables = {
  'seal-placer': sealPlacerStrings,
  'signature-pad': signaturePadStrings,
  'licence-viewer': licenceViewerStrings,
  'material-uploader': materialUploaderStrings,
} as const;

describe('the error table', () => {
  it('reads the codes from the sources (the walk is not empty)', () => {
    expect(coreCodes).toContain('SIGN_CERTIFY_NOT_FIRST');
    expect(coreCodes.length).toBeGreaterThan(30);
    expect(elementCodes).toContain('ALREADY_SEALED');
  });

  it('every code has zh-CN and English text in the shared table and in each element', () => {
    const missing: string[] = [];
    for (const code of allCodes) {
      for (const locale of ['zh-CN', 'en'] as const) {
        if (!(errorStrings[locale] as Record<string, string>)[code]?.trim())
          missing.push(`shared ${locale} ${code}`);
        for (const [name, t] of Object.entries(tables)) {
          const errors = t[locale].errors as Record<string, string>;
          if (!errors[code]?.trim()) missing.push(`${name} ${locale} ${code}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('zh-CN text has no English words (whitelisted names aside); English has no Chinese punctuation', () => {
    const english: string[] = [];
    const cjkPunctuation: string[] = [];
    for (const [name, t] of Object.entries(tables)) {
      for (const { at, text } of texts(t['zh-CN'])) {
        const words = latinWords(text);
        if (words.length) english.push(`${name} ${at}: ${words.join(' ')} in "${text}"`);
      }
      for (const { at, text } of texts(t.en)) {
        if (/[，。；：（）、！？「」【】]/.test(text)) cjkPunctuation.push(`${name} ${at}: "${text}"`);
      }
    }
    expect(english).toEqual([]);
    expect(cjkPunctuation).toEqual([]);
  });

  it('the engine’s message that only the first signature may certify is Chinese in zh-CN', () => {
    const zh = sealPlacerStrings['zh-CN'].errors.SIGN_CERTIFY_NOT_FIRST!;
    expect(zh).toContain('认证签名');
    expect(latinWords(zh)).toEqual([]);
  });
});

describe('licence status words', () => {
  it('every registry status has its words in both languages; 注销 and 吊销 never swap', () => {
    for (const s of LICENCE_STATUSES)
      for (const l of ['zh-CN', 'en'] as const) expect(licenceStatusTerms[l][s].term.trim()).not.toBe('');
    expect(licenceStatusTerms['zh-CN'].cancelled.term).toBe('已注销');
    expect(licenceStatusTerms['zh-CN'].revoked.term).toBe('已吊销');
    expect(licenceStatusTerms.en.cancelled.term).toBe('cancelled');
    expect(licenceStatusTerms.en.revoked.term).toBe('revoked');
    expect(JSON.stringify(licenceStatusTerms['zh-CN'].cancelled)).not.toContain('吊销');
  });
});

describe('file sizes', () => {
  it('bytes, KB, MB and GB, written the locale’s way (never "0 MB")', () => {
    expect(fileSize(0, 'en')).toBe('0 B');
    expect(fileSize(512, 'zh-CN')).toBe('512 B');
    expect(fileSize(20 * 1024, 'en')).toBe('20 KB');
    expect(fileSize(1536, 'en')).toBe('1.5 KB');
    expect(fileSize(3.25 * 1024 * 1024, 'zh-CN')).toBe('3.3 MB');
    expect(fileSize(1234 * 1024 * 1024, 'en')).toBe('1.2 GB');
    expect(fileSize(1000 * 1024, 'en')).toBe('1,000 KB');
    expect(materialUploaderStrings.en.size(40_000)).toBe('39.1 KB');
  });
});
