/** The work budget inside decoding, and the compact cross-reference tables it charges. */
import { deflateRawSync, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isSidianError } from '../errors';
import { DECODE_BUDGET, WorkBudget } from './budget';
import { inflateBounded } from './filters';
import { XREF_ENTRY_BYTES, XrefTable, XrefTableBuilder } from './xref-table';

const limitError = (e: unknown) => isSidianError(e) && e.code === 'LIMIT_EXCEEDED';

describe('WorkBudget', () => {
  it('scales with the file, with a floor and a cap', () => {
    expect(WorkBudget.forFile(1000).limitBytes).toBe(DECODE_BUDGET.floor);
    expect(WorkBudget.forFile(10 * 1024 * 1024).limitBytes).toBe(160 * 1024 * 1024);
    expect(WorkBudget.forFile(1024 * 1024 * 1024).limitBytes).toBe(DECODE_BUDGET.cap);
    expect(WorkBudget.forFile(1000, { limitBytes: 5 }).limitBytes).toBe(5);
  });

  it('an overrun is kept: a caller that swallowed it can end the job with it', () => {
    const b = new WorkBudget(10);
    b.charge(10, 'streams');
    let first: unknown;
    try {
      b.charge(1, 'streams');
    } catch (e) {
      first = e;
    }
    expect(limitError(first)).toBe(true);
    expect(() => b.rethrow()).toThrow(first as Error);
    expect(() => new WorkBudget(10, Date.now() - 1).checkTime()).toThrow(/time budget/);
  });
});

describe('inflate under a budget', () => {
  // 256 MB of blanks, deflated (~250 KB)
  const bomb = new Uint8Array(deflateSync(Buffer.alloc(256 * 1024 * 1024, 0x20), { level: 9 }));

  it('stops as soon as the budget is passed, without inflating the rest first', () => {
    const t0 = performance.now();
    const full = inflateBounded(bomb, 512 * 1024 * 1024);
    const fullMs = performance.now() - t0;
    expect(full.length).toBe(256 * 1024 * 1024);
    const budget = new WorkBudget(4 * 1024 * 1024);
    const t1 = performance.now();
    expect(() => inflateBounded(bomb, 512 * 1024 * 1024, budget)).toThrow(/MB this file may decode/);
    const budgetMs = performance.now() - t1;
    // what was inflated before stopping: the budget and at most one output chunk more
    expect(budget.spent).toBeLessThan(8 * 1024 * 1024);
    expect(budgetMs).toBeLessThan(fullMs / 4);
  });

  it('charges every stream to the same budget', () => {
    const small = new Uint8Array(deflateSync(Buffer.alloc(3 * 1024 * 1024, 0x41)));
    const budget = new WorkBudget(8 * 1024 * 1024);
    inflateBounded(small, undefined, budget);
    inflateBounded(small, undefined, budget);
    expect(budget.spent).toBe(6 * 1024 * 1024);
    expect(() => inflateBounded(small, undefined, budget)).toThrow(/MB this file may decode/);
  });

  it('a stream zlib refuses (a bad block after good ones) still gives what can be read; a passed deadline stops decoding', () => {
    const raw = new Uint8Array(deflateRawSync(Buffer.alloc(1024 * 1024, 0x42)));
    const broken = new Uint8Array(raw.length + 1);
    broken.set(raw.subarray(0, raw.length - 2));
    broken.set([0xff, 0xff, 0xff], raw.length - 2); // a block type 3 (reserved): zlib gives up
    // with time left, what was readable comes back (as fflate always did)
    expect(inflateBounded(broken).length).toBeGreaterThan(0);
    expect(() => inflateBounded(broken, undefined, new WorkBudget(1e9, Date.now() - 1))).toThrow(
      /time budget/,
    );
  });
});

describe('XrefTable', () => {
  it('holds entries sorted by number, the first of a duplicate winning, 21 bytes each', () => {
    const budget = new WorkBudget(1e9);
    const b = new XrefTableBuilder(budget, 4);
    b.add(5, 1, 500, 0);
    b.add(2, 2, 9, 3);
    b.add(5, 1, 999, 0); // duplicate: ignored
    b.add(0, 0, 0, 65535);
    b.add(7, 1, 700, 2);
    b.add(-1, 1, 1, 0); // not an object number
    const t = b.build();
    expect([...t.keys()]).toEqual([0, 2, 5, 7]);
    expect(t.get(5)).toEqual({ type: 1, offset: 500, gen: 0 });
    expect(t.get(2)).toEqual({ type: 2, stream: 9, index: 3 });
    expect(t.get(0)).toEqual({ type: 0, gen: 65535 });
    expect(t.get(3)).toBeUndefined();
    expect(t.has(7) && !t.has(6)).toBe(true);
    expect(t.size).toBe(4);
    expect(t.maxKey()).toBe(7);
    // capacity 4 grew to 8: both charged
    expect(budget.spent).toBe(8 * XREF_ENTRY_BYTES);
    expect(() => t.set()).toThrow();
  });

  it('merges newest first, the first table holding a number winning', () => {
    const table = (rows: [number, number][]) => {
      const b = new XrefTableBuilder();
      for (const [n, off] of rows) b.add(n, 1, off, 0);
      return b.build();
    };
    const newest = table([
      [3, 30],
      [9, 90],
    ]);
    const middle = table([
      [1, 11],
      [3, 31],
    ]);
    const oldest = table([
      [1, 12],
      [2, 22],
      [3, 32],
      [4, 42],
    ]);
    const m = XrefTable.merge([newest, middle, oldest]);
    expect([...m].map(([n, e]) => [n, (e as { offset: number }).offset])).toEqual([
      [1, 11],
      [2, 22],
      [3, 30],
      [4, 42],
      [9, 90],
    ]);
  });

  it('a table the budget cannot hold stops as it grows', () => {
    const b = new XrefTableBuilder(new WorkBudget(1000));
    expect(() => {
      for (let i = 0; i < 1000; i++) b.add(i, 1, i, 0);
    }).toThrow(/cross-reference tables need more than/);
  });
});
