/**
 * Cross-reference entries stored compactly: four typed arrays sorted by object number (21 bytes an
 * entry), not one JS object per entry. A file's declarations (/Size, /Index, a subsection's count)
 * can then cost at most what its rows really hold, and that is charged to the job's WorkBudget.
 * Entries are answered as small objects made on demand; the table reads like a Map.
 */
import type { WorkBudget } from './budget';

export type XrefEntry =
  | { type: 0; gen: number }
  | { type: 1; offset: number; gen: number }
  | { type: 2; stream: number; index: number };

/** Bytes one entry takes in the arrays (num u32, type u8, two float64 fields). */
export const XREF_ENTRY_BYTES = 21;
/** Object numbers above this are not objects any reader can hold (ISO 32000-1 Annex C: 8,388,607). */
const MAX_OBJECT_NUMBER = 0xfffffffe;

function entryOf(type: number, f2: number, f3: number): XrefEntry {
  if (type === 1) return { type: 1, offset: f2, gen: f3 };
  if (type === 2) return { type: 2, stream: f2, index: f3 };
  return { type: 0, gen: f3 };
}

export class XrefTable extends Map<number, XrefEntry> {
  constructor(
    private readonly nums: Uint32Array,
    private readonly types: Uint8Array,
    private readonly f2: Float64Array,
    private readonly f3: Float64Array,
  ) {
    super();
  }

  static readonly empty = new XrefTable(
    new Uint32Array(0),
    new Uint8Array(0),
    new Float64Array(0),
    new Float64Array(0),
  );

  /** A table of the entries of `m` (a small map: a reconstructed or hand-made section). */
  static fromMap(m: Map<number, XrefEntry>, budget?: WorkBudget): XrefTable {
    const b = new XrefTableBuilder(budget, m.size);
    for (const [n, e] of m)
      b.add(n, e.type, e.type === 1 ? e.offset : e.type === 2 ? e.stream : 0, e.type === 2 ? e.index : e.gen);
    return b.build();
  }

  private find(num: number): number {
    let lo = 0;
    let hi = this.nums.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.nums[mid]!;
      if (v === num) return mid;
      if (v < num) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  override get(num: number): XrefEntry | undefined {
    const i = this.find(num);
    return i < 0 ? undefined : entryOf(this.types[i]!, this.f2[i]!, this.f3[i]!);
  }

  override has(num: number): boolean {
    return this.find(num) >= 0;
  }

  override get size(): number {
    return this.nums.length;
  }

  /** The highest object number with an entry (-1 when none). */
  maxKey(): number {
    return this.nums.length ? this.nums[this.nums.length - 1]! : -1;
  }

  override set(): this {
    throw new Error('XrefTable is read-only');
  }

  override delete(): boolean {
    throw new Error('XrefTable is read-only');
  }

  override clear(): void {
    throw new Error('XrefTable is read-only');
  }

  override *keys(): MapIterator<number> {
    for (let i = 0; i < this.nums.length; i++) yield this.nums[i]!;
  }

  override *values(): MapIterator<XrefEntry> {
    for (let i = 0; i < this.nums.length; i++) yield entryOf(this.types[i]!, this.f2[i]!, this.f3[i]!);
  }

  override *entries(): MapIterator<[number, XrefEntry]> {
    for (let i = 0; i < this.nums.length; i++)
      yield [this.nums[i]!, entryOf(this.types[i]!, this.f2[i]!, this.f3[i]!)];
  }

  override [Symbol.iterator](): MapIterator<[number, XrefEntry]> {
    return this.entries();
  }

  override forEach(
    fn: (value: XrefEntry, key: number, map: Map<number, XrefEntry>) => void,
    thisArg?: unknown,
  ): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }

  /**
   * One table from several, the first holding an object number winning (sections newest first):
   * merged pairwise, halves first, so k tables of n entries in all cost O(n log k).
   */
  static merge(tables: XrefTable[], budget?: WorkBudget): XrefTable {
    if (tables.length === 0) return XrefTable.empty;
    if (tables.length === 1) return tables[0]!;
    const mid = tables.length >> 1;
    return merge2(
      XrefTable.merge(tables.slice(0, mid), budget),
      XrefTable.merge(tables.slice(mid), budget),
      budget,
    );
  }

  /** @internal */
  static parts(t: XrefTable) {
    return { nums: t.nums, types: t.types, f2: t.f2, f3: t.f3 };
  }
}

/** a ∪ b, a's entry where both have one. */
function merge2(a: XrefTable, b: XrefTable, budget?: WorkBudget): XrefTable {
  const A = XrefTable.parts(a);
  const B = XrefTable.parts(b);
  let n = 0;
  for (let i = 0, j = 0; i < A.nums.length || j < B.nums.length; n++) {
    if (j >= B.nums.length || (i < A.nums.length && A.nums[i]! < B.nums[j]!)) i++;
    else if (i >= A.nums.length || B.nums[j]! < A.nums[i]!) j++;
    else {
      i++;
      j++;
    }
  }
  budget?.charge(n * XREF_ENTRY_BYTES, 'cross-reference tables');
  const out = {
    nums: new Uint32Array(n),
    types: new Uint8Array(n),
    f2: new Float64Array(n),
    f3: new Float64Array(n),
  };
  const take = (src: typeof A, k: number, o: number) => {
    out.nums[o] = src.nums[k]!;
    out.types[o] = src.types[k]!;
    out.f2[o] = src.f2[k]!;
    out.f3[o] = src.f3[k]!;
  };
  for (let i = 0, j = 0, o = 0; o < n; o++) {
    if (j >= B.nums.length || (i < A.nums.length && A.nums[i]! < B.nums[j]!)) take(A, i++, o);
    else if (i >= A.nums.length || B.nums[j]! < A.nums[i]!) take(B, j++, o);
    else {
      take(A, i++, o);
      j++;
    }
  }
  return new XrefTable(out.nums, out.types, out.f2, out.f3);
}

/**
 * Collects entries in file order; the first entry for an object number wins (a section lists each
 * number once, ISO 32000-2 §7.5.4 and Table 17; a duplicate is ignored, as before). Every byte the
 * arrays take is charged to the budget as they grow.
 */
export class XrefTableBuilder {
  private nums: Uint32Array;
  private types: Uint8Array;
  private f2: Float64Array;
  private f3: Float64Array;
  private n = 0;
  private sorted = true;
  private checked = 0;

  constructor(
    private readonly budget?: WorkBudget,
    capacity = 16,
  ) {
    const c = Math.max(1, capacity);
    budget?.charge(c * XREF_ENTRY_BYTES, 'cross-reference tables');
    this.nums = new Uint32Array(c);
    this.types = new Uint8Array(c);
    this.f2 = new Float64Array(c);
    this.f3 = new Float64Array(c);
  }

  get count(): number {
    return this.n;
  }

  add(num: number, type: number, f2: number, f3: number): void {
    if (!Number.isInteger(num) || num < 0 || num > MAX_OBJECT_NUMBER) return;
    if (this.n === this.nums.length) this.grow();
    if (this.n > 0 && num <= this.nums[this.n - 1]!) this.sorted = false;
    this.nums[this.n] = num;
    this.types[this.n] = type;
    this.f2[this.n] = f2;
    this.f3[this.n] = f3;
    this.n++;
    if (this.budget && this.n - this.checked >= 65536) {
      this.checked = this.n;
      this.budget.checkTime();
    }
  }

  private grow(): void {
    const c = this.nums.length * 2;
    this.budget?.charge((c - this.nums.length) * XREF_ENTRY_BYTES, 'cross-reference tables');
    const nums = new Uint32Array(c);
    nums.set(this.nums);
    this.nums = nums;
    const types = new Uint8Array(c);
    types.set(this.types);
    this.types = types;
    const f2 = new Float64Array(c);
    f2.set(this.f2);
    this.f2 = f2;
    const f3 = new Float64Array(c);
    f3.set(this.f3);
    this.f3 = f3;
  }

  build(): XrefTable {
    const n = this.n;
    if (this.sorted) {
      // views, no copy: the spare capacity was charged already
      return new XrefTable(
        this.nums.subarray(0, n),
        this.types.subarray(0, n),
        this.f2.subarray(0, n),
        this.f3.subarray(0, n),
      );
    }
    // out of order or with duplicates: sort a permutation (stable: file order breaks ties), keep firsts
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const nums = this.nums;
    order.sort((x, y) => nums[x]! - nums[y]! || x - y);
    let m = 0;
    for (let k = 0; k < n; k++)
      if (k === 0 || nums[order[k]!] !== nums[order[k - 1]!]) order[m++] = order[k]!;
    const out = new XrefTable(
      new Uint32Array(m),
      new Uint8Array(m),
      new Float64Array(m),
      new Float64Array(m),
    );
    const o = XrefTable.parts(out);
    for (let k = 0; k < m; k++) {
      const i = order[k]!;
      o.nums[k] = nums[i]!;
      o.types[k] = this.types[i]!;
      o.f2[k] = this.f2[i]!;
      o.f3[k] = this.f3[i]!;
    }
    return out;
  }
}
