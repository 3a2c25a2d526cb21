/**
 * Arrays of references (page trees' /Kids) are read by a fast path; every array must still parse
 * exactly as the general path reads it, wherever the fast path stops.
 */
import { describe, expect, it } from 'vitest';
import { PdfName, PdfRef, PdfString } from './objects';
import { Parser } from './parser';

const parse = (s: string) => new Parser(new TextEncoder().encode(s), 0).parseObject();
const r = (n: number, g = 0) => new PdfRef(n, g);

describe('arrays of references', () => {
  const cases: [string, unknown[]][] = [
    ['[1 0 R 2 0 R 3 0 R]', [r(1), r(2), r(3)]],
    ['[ 10 0 R\r\n11 2 R\n\t12 0 R ]', [r(10), r(11, 2), r(12)]],
    ['[1 0 R 2 0 R /X 3 0 R]', [r(1), r(2), PdfName.of('X'), r(3)]],
    ['[1 0 R 2 0]', [r(1), 2, 0]],
    ['[1 0 R 5]', [r(1), 5]],
    ['[1 0 R%comment\n2 0 R]', [r(1), r(2)]],
    ['[1 0 R(x)2 0 R]', [r(1), new PdfString(new TextEncoder().encode('x')), r(2)]],
    ['[1 0 R[2 0 R]]', [r(1), [r(2)]]],
    ['[1.5 0 R]', [1.5, 0, 'R']],
    ['[-1 0 R]', [-1, 0, 'R']],
    ['[12345678901 0 R]', [r(12345678901)]],
    ['[1 0 Rx]', 'error' as unknown as unknown[]],
    ['[]', []],
  ];
  for (const [src, want] of cases) {
    it(src.replace(/\s+/g, ' '), () => {
      if ((want as unknown) === 'error') return expect(() => parse(src)).toThrow();
      if (want.includes('R')) return expect(() => parse(src)).toThrow(/reference/);
      expect(parse(src)).toEqual(want);
    });
  }
});
