/**
 * Lazy reader of a PDF's structure: header, the chain of cross-reference sections (tables,
 * streams, hybrids), revisions, and objects on demand (ISO 32000-2 §7.5). Nothing is parsed until
 * asked for; every walk is bounded.
 */
import { type DigestName, digestChunks, digestFileRanges } from '../digest';
import { SidianError } from '../errors';
import { WorkBudget } from './budget';
import { decodeStream } from './filters';
import { PdfDict, PdfName, PdfRef, PdfStream, latin1Bytes, type PdfObject } from './objects';
import { Parser, indexOfBytes, isWhite, lastIndexOfBytes } from './parser';
import { LAZY_READING, LazyBytes, isRandomAccessFile, type PdfInput } from './source';
import { XrefTable, XrefTableBuilder, type XrefEntry } from './xref-table';

export type { XrefEntry } from './xref-table';

export interface XrefSection {
  kind: 'table' | 'stream';
  /** Byte offset of `xref` or of the xref stream object (the value of startxref). */
  offset: number;
  trailer: PdfDict;
  entries: Map<number, XrefEntry>;
  /** Object number of the xref stream itself, when kind is 'stream'. */
  streamNum?: number;
  /** Offset just after the `%%EOF` (and its line end) that closes this section, or -1. */
  eofEnd: number;
  /**
   * A hybrid section's disagreements (ISO 32000-2 §7.5.8.4): objects its classic table and its
   * /XRefStm both list, differently. The view takes the table's in-use entry, and the stream's
   * entry over a free one (as the standard's example does for compressed objects); readers differ
   * on the latter (MuPDF keeps the free entry).
   */
  conflicts?: HybridConflict[];
}

export interface HybridConflict {
  num: number;
  table: XrefEntry;
  stream: XrefEntry;
}

export interface PageInfo {
  index: number;
  ref: PdfRef;
  dict: PdfDict;
  mediaBox: [number, number, number, number];
  cropBox: [number, number, number, number];
  rotate: 0 | 90 | 180 | 270;
}

export interface LoadOptions {
  /** Rebuild the cross-reference from object markers when the chain is broken (verification). */
  recover?: boolean;
  /** Upper bound on xref sections followed. */
  maxSections?: number;
  /**
   * Decode entries of classic xref tables only when asked for (signing, which looks at a handful of
   * objects): a well-formed table's 20-byte entries are found by arithmetic. The verifier, which
   * compares every entry of every revision, reads them all at once.
   */
  lazyTables?: boolean;
  /**
   * What decoding streams and building cross-reference tables may spend (bytes, deadline); by
   * default WorkBudget.forFile(size of the file), without a deadline.
   */
  budget?: WorkBudget;
}

const MAX_PAGES = 100_000;
const MAX_RESOLVE_DEPTH = 64;
/** Object markers tried, newest first, when an object is not where its entry says. */
const MAX_MARKER_TRIES = 16;
/**
 * Bytes that failed object parses may scan in all, beyond twice the file's size. A hostile file
 * can make each failed parse run to its end (an unterminated string after each of thousands of
 * markers); once this is spent no further object is parsed and the reader is marked exhausted.
 */
const FAILED_PARSE_ALLOWANCE = 4 * 1024 * 1024;

const enc = (s: string) => latin1Bytes(s);
const STARTXREF = enc('startxref');
const EOF_MARK = enc('%%EOF');
/** A windowed read counts only if it ended at least this far before the window's end. */
const WINDOW_MARGIN = 80;

/**
 * The file's bytes. When the file is read lazily (a RandomAccessFile), `bytes` has the file's full
 * length but holds only the parts fetched so far: every read goes through `from`, `ensure` or
 * `all`, which fetch what it needs first.
 */
export class ByteAccess {
  constructor(
    readonly bytes: Uint8Array,
    private readonly lazy?: LazyBytes,
  ) {}

  static of(input: PdfInput): ByteAccess {
    if (!isRandomAccessFile(input)) return new ByteAccess(input);
    const lazy = new LazyBytes(input);
    if (input.size < LAZY_READING.readWholeBelow) lazy.ensureAll();
    return lazy.complete ? new ByteAccess(lazy.bytes) : new ByteAccess(lazy.bytes, lazy);
  }

  get size(): number {
    return this.bytes.length;
  }

  /** The file it reads from when the bytes are fetched on demand. */
  get file() {
    return this.lazy && !this.lazy.complete ? this.lazy.file : undefined;
  }

  /** Makes bytes [start, end) present. */
  ensure(start: number, end: number): void {
    this.lazy?.ensure(start, end);
  }

  /** All of the file (for the rare whole-file scans: repairs, object markers). */
  all(): Uint8Array {
    this.lazy?.ensureAll();
    return this.bytes;
  }

  /**
   * Runs a read that starts at `start` and moves forward. A lazily read file is shown to it as a
   * prefix ending some way past `start`, fully present from `start` on; the read's result counts
   * only when it succeeded and `reach` (the furthest byte it looked at) ended clearly inside that
   * prefix, so it never took the prefix's end for the file's. Otherwise it runs again over 8x
   * more, at most up to the whole file, where its result or error stands.
   */
  from<T>(start: number, read: (bytes: Uint8Array) => T, reach: (result: T) => number): T {
    const lazy = this.lazy;
    if (!lazy || lazy.complete) return read(this.bytes);
    const size = this.bytes.length;
    for (let w = LAZY_READING.firstWindow; ; w *= 8) {
      const limit = Math.min(size, Math.max(0, start) + w);
      lazy.ensure(start, limit);
      if (limit >= size) return read(this.bytes);
      let r: T;
      try {
        r = read(this.bytes.subarray(0, limit));
      } catch (e) {
        if (e instanceof SidianError && e.code === 'LIMIT_EXCEEDED') throw e;
        continue;
      }
      if (reach(r) + WINDOW_MARGIN <= limit) return r;
    }
  }

  /** The last occurrence of `needle` in the file, looking at ever larger tails. */
  lastIndexOf(needle: Uint8Array): number {
    const size = this.bytes.length;
    if (!this.lazy) return lastIndexOfBytes(this.bytes, needle);
    for (let w = LAZY_READING.firstTail; ; w *= 16) {
      const from = Math.max(0, size - w);
      this.lazy.ensure(from, size);
      const k = lastIndexOfBytes(this.bytes, needle, size - needle.length, from);
      if (k >= 0 || from === 0) return k;
    }
  }
}

export class PdfDocument {
  /** Sections in chain order: the newest first (the one startxref points at). */
  readonly sections: XrefSection[];
  readonly version: string;
  readonly startxref: number;
  /** The newest state of the document. */
  readonly latest: PdfView;
  readonly recovered: boolean;
  private objIndex?: Map<number, number[]>;
  /** Decoded object streams by where they start and how long their data is (shared by all views). */
  private readonly decoded = new Map<string, Uint8Array>();
  /** Bytes scanned by object parses that failed (see FAILED_PARSE_ALLOWANCE). */
  private failedParseBytes = 0;

  private constructor(
    readonly access: ByteAccess,
    sections: XrefSection[],
    version: string,
    startxref: number,
    recovered: boolean,
    /** What this file's decoding may still spend (see LoadOptions.budget). */
    readonly budget: WorkBudget,
  ) {
    this.sections = sections;
    this.version = version;
    this.startxref = startxref;
    this.recovered = recovered;
    this.latest = new PdfView(this, sections);
  }

  /**
   * The file's bytes. For a file read on demand (`load` given a RandomAccessFile) only the parts
   * read so far are present: read through `access`, never directly.
   */
  get bytes(): Uint8Array {
    return this.access.bytes;
  }

  get size(): number {
    return this.access.size;
  }

  static load(input: PdfInput, options: LoadOptions = {}): PdfDocument {
    const acc = ByteAccess.of(input);
    const bytes = acc.bytes;
    const budget = options.budget ?? WorkBudget.forFile(acc.size);
    acc.ensure(0, 1024 + 9);
    const head = indexOfBytes(bytes, enc('%PDF-'), 0, Math.min(bytes.length, 1024 + 5));
    if (head < 0) throw new SidianError('PDF_NOT_PDF', 'the input is not a PDF (no %PDF- header)');
    let version = '';
    for (let p = head + 5; p < bytes.length && p < head + 9 && /[0-9.]/.test(String.fromCharCode(bytes[p]!)); p++) {
      version += String.fromCharCode(bytes[p]!);
    }
    const sx = acc.lastIndexOf(STARTXREF);
    if (sx < 0 || acc.lastIndexOf(EOF_MARK) < 0) {
      if (options.recover) return PdfDocument.reconstruct(acc, version, budget);
      throw new SidianError('PDF_TRUNCATED', 'the PDF is truncated: it has no startxref and %%EOF at its end');
    }
    const p = new Parser(bytes, sx + STARTXREF.length);
    let startxref: number;
    try {
      startxref = p.readInt();
    } catch {
      if (options.recover) return PdfDocument.reconstruct(acc, version, budget);
      throw new SidianError('PDF_NO_XREF', 'startxref is not followed by an offset');
    }
    try {
      const sections = readSectionChain(
        acc,
        startxref,
        options.maxSections ?? 10_000,
        !!options.recover,
        !!options.lazyTables,
        {},
        budget,
      );
      return new PdfDocument(acc, sections, version, startxref, false, budget);
    } catch (e) {
      if (options.recover && e instanceof SidianError && e.code !== 'LIMIT_EXCEEDED') {
        return PdfDocument.reconstruct(acc, version, budget);
      }
      throw e;
    }
  }

  /** Builds one synthetic section from every `n g obj` in the file (the last definition wins). */
  private static reconstruct(acc: ByteAccess, version: string, budget: WorkBudget): PdfDocument {
    const bytes = acc.all();
    const index = scanObjects(bytes);
    const found = new XrefTableBuilder(budget, index.size);
    let trailer: PdfDict | undefined;
    for (const [num, offsets] of index) found.add(num, 1, offsets[offsets.length - 1]!, 0);
    const entries = found.build();
    // the last trailer dictionary in the file, or a catalog found by type
    const t = lastIndexOfBytes(bytes, enc('trailer'));
    if (t >= 0) {
      try {
        const d = new Parser(bytes, t + 7).parseObject();
        if (d instanceof PdfDict) trailer = d;
      } catch {
        /* fall through */
      }
    }
    const section: XrefSection = { kind: 'table', offset: -1, trailer: trailer ?? new PdfDict(), entries, eofEnd: bytes.length };
    trailer = section.trailer;
    const doc = new PdfDocument(acc, [section], version, -1, true, budget);
    if (!(trailer.get('Root') instanceof PdfRef)) {
      for (const [num] of index) {
        const o = doc.latest.get(num);
        if (o instanceof PdfDict && o.name('Type') === 'Catalog') {
          section.trailer.set('Root', new PdfRef(num, 0));
          break;
        }
      }
    }
    return doc;
  }

  /** Offsets of every `n g obj` marker, by object number (built once, on demand). */
  objectMarkers(): Map<number, number[]> {
    if (!this.objIndex) this.objIndex = scanObjects(this.access.all());
    return this.objIndex;
  }

  /**
   * The revision the bytes [0, end) describe themselves (a signed revision): the cross-reference
   * chain that starts at the last `startxref` before `end`, every section of it inside [0, end).
   * Sections this document's own chain holds are shared with it. Undefined when no `startxref`
   * ends those bytes or the first section it names cannot be read.
   */
  revisionAt(end: number): PdfView | undefined {
    const from = Math.max(0, end - 4096);
    this.access.ensure(from, end);
    const k = lastIndexOfBytes(this.bytes, STARTXREF, end - STARTXREF.length, from);
    if (k < 0) return undefined;
    let startxref: number;
    try {
      startxref = new Parser(this.bytes.subarray(0, end), k + STARTXREF.length).readInt();
    } catch {
      return undefined;
    }
    const known = new Map(this.sections.map((s) => [s.offset, s]));
    try {
      const sections = readSectionChain(
        this.access,
        startxref,
        10_000,
        true,
        false,
        { known, end },
        this.budget,
      );
      return new PdfView(this, sections);
    } catch (e) {
      if (e instanceof SidianError && e.code === 'LIMIT_EXCEEDED') throw e;
      return undefined;
    }
  }

  /** The document as it was when the bytes [0, end) were all there was (a signed revision). */
  viewAt(end: number): PdfView {
    return new PdfView(
      this,
      this.sections.filter((s) => s.offset < end),
    );
  }

  /**
   * The decoded data of the stream object that starts at `offset`, decoded once for all views (a
   * revision's view and the newest one read the same object streams) and charged to the budget once.
   */
  decodedAt(offset: number, stream: PdfStream): Uint8Array {
    const key = `${offset}:${stream.data.length}`;
    let d = this.decoded.get(key);
    if (!d) {
      d = decodeStream(stream, undefined, this.budget);
      this.decoded.set(key, d);
    }
    return d;
  }

  /** How many bytes failed object parses may still scan. */
  private get parseAllowance(): number {
    return FAILED_PARSE_ALLOWANCE + 2 * this.size - this.failedParseBytes;
  }

  /**
   * True once failed object parses have scanned more than the file's allowance: from then on no
   * object is parsed, so what was read after that (by any view) is incomplete.
   */
  get parseExhausted(): boolean {
    return this.parseAllowance <= 0;
  }

  /**
   * The indirect object that starts at `offset` (`n g obj ... endobj`), or undefined when none
   * parses there. Failed parses are charged to the file's allowance; none is run once it is spent,
   * and none may scan past what is left of it.
   */
  parseIndirectAt(offset: number, resolveLength?: (ref: PdfRef) => number | undefined): { num: number; value: PdfObject } | undefined {
    if (offset < 0 || offset >= this.size || this.parseExhausted) return undefined;
    const limit = offset + this.parseAllowance;
    try {
      return this.access.from(
        offset,
        (b) => {
          const p = new Parser(b.length > limit ? b.subarray(0, limit) : b, offset, resolveLength);
          try {
            const o = p.parseIndirect();
            return { num: o.num, value: o.value, end: p.pos };
          } catch (e) {
            this.failedParseBytes += Math.max(1, p.pos - offset);
            throw e;
          }
        },
        (r) => r.end,
      );
    } catch (e) {
      if (e instanceof SidianError && (e.code === 'PDF_TOO_COMPLEX' || e.code === 'LIMIT_EXCEEDED')) throw e;
      return undefined;
    }
  }

  /**
   * The digest of the file's byte ranges ([start, end) pairs), then of `extra`. A file read on
   * demand is hashed straight from the file in chunks, never held whole.
   */
  digestRanges(hash: DigestName, ranges: [number, number][], extra: Uint8Array[] = []): Promise<Uint8Array> {
    const file = this.access.file;
    if (file) return digestFileRanges(hash, file, ranges, extra);
    return digestChunks(hash, [...ranges.map(([a, b]) => this.bytes.subarray(a, b)), ...extra]);
  }

  get encrypted(): boolean {
    return this.sections[0]!.trailer.has('Encrypt');
  }
}

/**
 * The chain of sections from `startxref` along /Prev. `within.end` keeps it inside the bytes
 * [0, end) (a revision's own chain), `within.known` are sections already read, by offset.
 */
function readSectionChain(
  acc: ByteAccess,
  startxref: number,
  maxSections: number,
  recover: boolean,
  lazyTables = false,
  within: { known?: Map<number, XrefSection>; end?: number } = {},
  budget?: WorkBudget,
): XrefSection[] {
  const sections: XrefSection[] = [];
  const seen = new Set<number>();
  let offset: number | undefined = startxref;
  const end = within.end ?? acc.size;
  let scanFrom = end;
  while (offset !== undefined) {
    if (seen.has(offset)) break; // a /Prev loop: stop, the chain so far is all there is
    if (sections.length >= maxSections) throw new SidianError('LIMIT_EXCEEDED', 'too many cross-reference sections');
    seen.add(offset);
    let section: XrefSection;
    try {
      if (!Number.isInteger(offset) || offset < 0 || offset >= end) {
        throw new SidianError('PDF_NO_XREF', `cross-reference offset ${offset} is outside the file`);
      }
      section = within.known?.get(offset) ?? readSection(acc, offset, lazyTables, budget);
    } catch (e) {
      if (!recover || sections.length === 0 || !(e instanceof SidianError) || e.code === 'LIMIT_EXCEEDED') throw e;
      // A broken /Prev: continue with the startxref written before the newer section, if any.
      const newer = sections[sections.length - 1]!.offset;
      const alt = previousStartxref(acc.all(), Math.min(newer, scanFrom), newer);
      if (alt === undefined) break;
      scanFrom = alt.marker;
      offset = alt.value;
      continue;
    }
    sections.push(section);
    const prev = section.trailer.get('Prev');
    offset = typeof prev === 'number' ? prev : undefined;
  }
  return sections;
}

/** The value of the last `startxref` that appears before byte `before` and points before it. */
function previousStartxref(bytes: Uint8Array, before: number, limit: number): { value: number; marker: number } | undefined {
  let k = lastIndexOfBytes(bytes, STARTXREF, before - STARTXREF.length);
  while (k >= 0) {
    try {
      const v = new Parser(bytes, k + STARTXREF.length).readInt();
      if (v < limit && v > 0) return { value: v, marker: k };
    } catch {
      /* not a number: keep looking */
    }
    k = lastIndexOfBytes(bytes, STARTXREF, k - 1);
  }
  return undefined;
}

function findEofEnd(bytes: Uint8Array, from: number): number {
  const k = indexOfBytes(bytes, EOF_MARK, from);
  if (k < 0) return -1;
  let e = k + EOF_MARK.length;
  if (bytes[e] === 0x0d) e++;
  if (bytes[e] === 0x0a) e++;
  return e;
}

/** How far a section read looked: to its %%EOF, or (none found yet) past any window. */
const sectionReach = (s: XrefSection, pos: number) => (s.eofEnd < 0 ? Number.POSITIVE_INFINITY : Math.max(pos, s.eofEnd));

function readSection(acc: ByteAccess, offset: number, lazyTables = false, budget?: WorkBudget): XrefSection {
  const { section } = acc.from(
    offset,
    (b) => readSectionAt(b, offset, lazyTables, budget),
    (r) => sectionReach(r.section, r.pos),
  );
  // Hybrid-reference file (ISO 32000-2 §7.5.8.4): entries for compressed objects in /XRefStm.
  const xs = section.trailer.get('XRefStm');
  if (section.kind === 'table' && typeof xs === 'number' && xs > 0 && xs < acc.size && xs !== offset) {
    let hybrid: XrefSection;
    try {
      hybrid = readXrefStream(acc, xs, budget);
    } catch (e) {
      if (e instanceof SidianError && e.code === 'LIMIT_EXCEEDED') throw e;
      return section; // a reader without xref stream support ignores it too
    }
    const conflicts: HybridConflict[] = [];
    const table = section.entries;
    const fromStream = table instanceof XrefTable ? new XrefTableBuilder(budget) : undefined;
    for (const [num, e] of hybrid.entries) {
      const cur = table.get(num);
      if (cur && e.type !== 0 && !sameEntry(cur, e) && conflicts.length < MAX_CONFLICTS)
        conflicts.push({ num, table: cur, stream: e });
      if (cur && cur.type !== 0) continue;
      if (fromStream)
        fromStream.add(
          num,
          e.type,
          e.type === 1 ? e.offset : e.type === 2 ? e.stream : 0,
          e.type === 2 ? e.index : e.gen,
        );
      else table.set(num, e);
    }
    if (fromStream) section.entries = XrefTable.merge([fromStream.build(), table as XrefTable], budget);
    if (conflicts.length) section.conflicts = conflicts;
  }
  return section;
}

const MAX_CONFLICTS = 1000;

function sameEntry(a: XrefEntry, b: XrefEntry): boolean {
  if (a.type === 1 && b.type === 1) return a.offset === b.offset && a.gen === b.gen;
  if (a.type === 2 && b.type === 2) return a.stream === b.stream && a.index === b.index;
  return a.type === 0 && b.type === 0;
}

function readSectionAt(
  bytes: Uint8Array,
  offset: number,
  lazyTables = false,
  budget?: WorkBudget,
): { section: XrefSection; pos: number } {
  const p = new Parser(bytes, offset);
  // Some writers are off by a few bytes; look for the keyword or object marker nearby.
  const t = p.peekToken();
  if (t === 'xref') {
    p.readKeyword();
    const tableAt = p.pos;
    let entries: Map<number, XrefEntry> | undefined = lazyTables
      ? lazyTable(bytes, p, () => readSectionAt(bytes, offset, false, budget).section.entries)
      : undefined;
    if (!entries) {
      p.pos = tableAt;
      entries = readTableEntries(bytes, p, budget);
    }
    const trailer = p.parseObject();
    if (!(trailer instanceof PdfDict)) throw new SidianError('PDF_MALFORMED', `trailer at byte ${p.pos} is not a dictionary`);
    const section: XrefSection = { kind: 'table', offset, trailer, entries, eofEnd: findEofEnd(bytes, p.pos) };
    return { section, pos: p.pos };
  }
  if (/^\d+$/.test(t)) return readXrefStreamAt(bytes, offset, budget);
  throw new SidianError('PDF_NO_XREF', `no cross-reference section at byte ${offset}`);
}

/** Every entry of the classic table the parser stands in (the first of a duplicated number wins); leaves it after `trailer`. */
function readTableEntries(bytes: Uint8Array, p: Parser, budget?: WorkBudget): XrefTable {
  const entries = new XrefTableBuilder(budget);
  for (;;) {
    const tok = p.peekToken();
    if (tok === 'trailer') break;
    const start = p.readInt();
    const count = p.readInt();
    if (count > bytes.length / 18 + 1) throw new SidianError('PDF_MALFORMED', 'xref subsection larger than the file');
    for (let i = 0; i < count; i++) {
      p.skipWhitespace();
      const num = start + i;
      // the standard 20-byte entry at once; anything else token by token
      const standard = standardEntry(bytes, p.pos, num);
      if (standard) {
        p.pos += 18;
        if (standard.type === 1) entries.add(num, 1, standard.offset, standard.gen);
        else entries.add(num, 0, 0, (standard as { gen: number }).gen);
        continue;
      }
      const off = p.readInt();
      const gen = p.readInt();
      const kind = p.readKeyword();
      if (kind === 'n')
        entries.add(num, off === 0 && num === 0 ? 0 : 1, off === 0 && num === 0 ? 0 : off, gen);
      else if (kind === 'f') entries.add(num, 0, 0, gen);
      else p.fail(`bad xref entry type '${kind}'`);
    }
  }
  p.readKeyword();
  return entries.build();
}

/** One classic xref subsection of standard 20-byte entries: objects start … start + count - 1 at byte `at`. */
interface Subsection {
  start: number;
  count: number;
  at: number;
}

/** The entry at byte q when it has the standard layout "oooooooooo ggggg n" (ISO 32000-2 §7.5.4), else undefined. */
function standardEntry(bytes: Uint8Array, q: number, num: number): XrefEntry | undefined {
  if (q + 20 > bytes.length || bytes[q + 10] !== 0x20 || bytes[q + 16] !== 0x20) return undefined;
  const kind = bytes[q + 17];
  if (kind !== 0x6e && kind !== 0x66) return undefined;
  let off = 0;
  let gen = 0;
  for (let k = 0; k < 10; k++) {
    const d = bytes[q + k]! - 0x30;
    if (d < 0 || d > 9) return undefined;
    off = off * 10 + d;
  }
  for (let k = 11; k < 16; k++) {
    const d = bytes[q + k]! - 0x30;
    if (d < 0 || d > 9) return undefined;
    gen = gen * 10 + d;
  }
  return kind === 0x66 || (off === 0 && num === 0) ? { type: 0, gen } : { type: 1, offset: off, gen };
}

/**
 * The subsections of the table the parser stands in, when every one has standard entries exactly
 * 20 bytes apart (checked at its first and last entry and where the next token starts); the parser
 * is then left after `trailer`. Undefined when the table is irregular: the caller parses it whole.
 */
function lazyTable(bytes: Uint8Array, p: Parser, eager: () => Map<number, XrefEntry>): LazyTableEntries | undefined {
  const subsections: Subsection[] = [];
  try {
    for (;;) {
      const tok = p.peekToken();
      if (tok === 'trailer') break;
      const start = p.readInt();
      const count = p.readInt();
      if (count > bytes.length / 18 + 1) return undefined;
      p.skipWhitespace();
      const at = p.pos;
      if (count > 0) {
        if (!standardEntry(bytes, at, start) || !standardEntry(bytes, at + (count - 1) * 20, start + count - 1)) return undefined;
        const eol = bytes[at + count * 20 - 1];
        if (eol !== 0x0a && eol !== 0x0d) return undefined;
      }
      subsections.push({ start, count, at });
      p.pos = at + count * 20;
    }
    p.readKeyword();
  } catch {
    return undefined;
  }
  return new LazyTableEntries(bytes, subsections, eager);
}

/**
 * A classic xref table's entries, decoded one at a time when asked for; the first question that
 * needs them all (size, iteration, a change) parses the table whole, as would have happened at load,
 * and so does an entry that turns out irregular. Either way the answers are the whole parse's.
 */
export class LazyTableEntries extends Map<number, XrefEntry> {
  private whole = false;

  constructor(
    private readonly table: Uint8Array,
    private readonly subsections: Subsection[],
    private readonly eager: () => Map<number, XrefEntry>,
  ) {
    super();
  }

  private materialize(): void {
    if (this.whole) return;
    const all = this.eager(); // may throw, as the whole parse at load would have: nothing is marked done
    this.whole = true;
    for (const [n, e] of all) super.set(n, e);
  }

  /** The highest object number with an entry, without decoding any. */
  maxKey(): number {
    let max = -1;
    if (this.whole) for (const n of super.keys()) max = Math.max(max, n);
    else for (const s of this.subsections) if (s.count > 0) max = Math.max(max, s.start + s.count - 1);
    return max;
  }

  override get(num: number): XrefEntry | undefined {
    if (!this.whole) {
      for (const s of this.subsections) {
        if (num < s.start || num >= s.start + s.count) continue;
        const e = standardEntry(this.table, s.at + (num - s.start) * 20, num);
        if (e) return e;
        this.materialize(); // irregular: the whole parse decides
        return super.get(num);
      }
      return undefined;
    }
    return super.get(num);
  }

  override has(num: number): boolean {
    return this.get(num) !== undefined;
  }

  override set(num: number, e: XrefEntry): this {
    this.materialize();
    return super.set(num, e);
  }

  override delete(num: number): boolean {
    this.materialize();
    return super.delete(num);
  }

  override clear(): void {
    this.whole = true;
    super.clear();
  }

  override get size(): number {
    this.materialize();
    return super.size;
  }

  override forEach(fn: (value: XrefEntry, key: number, map: Map<number, XrefEntry>) => void, thisArg?: unknown): void {
    this.materialize();
    super.forEach(fn, thisArg);
  }

  override keys(): MapIterator<number> {
    this.materialize();
    return super.keys();
  }

  override values(): MapIterator<XrefEntry> {
    this.materialize();
    return super.values();
  }

  override entries(): MapIterator<[number, XrefEntry]> {
    this.materialize();
    return super.entries();
  }

  override [Symbol.iterator](): MapIterator<[number, XrefEntry]> {
    return this.entries();
  }
}

function readXrefStream(acc: ByteAccess, offset: number, budget?: WorkBudget): XrefSection {
  return acc.from(
    offset,
    (b) => readXrefStreamAt(b, offset, budget),
    (r) => sectionReach(r.section, r.pos),
  ).section;
}

function readXrefStreamAt(
  bytes: Uint8Array,
  offset: number,
  budget?: WorkBudget,
): { section: XrefSection; pos: number } {
  const p = new Parser(bytes, offset);
  const { num, value } = p.parseIndirect();
  if (!(value instanceof PdfStream) || value.dict.name('Type') !== 'XRef') {
    throw new SidianError('PDF_NO_XREF', `object at byte ${offset} is not a cross-reference stream`);
  }
  const d = value.dict;
  const data = decodeStream(value, 64 * 1024 * 1024, budget);
  const w = d.get('W');
  if (!Array.isArray(w) || w.length !== 3 || !w.every((x) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 8)) {
    throw new SidianError('PDF_MALFORMED', 'bad /W in cross-reference stream');
  }
  const [w0, w1, w2] = w as number[];
  const size = d.get('Size');
  if (typeof size !== 'number') throw new SidianError('PDF_MALFORMED', 'cross-reference stream without /Size');
  const idx = d.get('Index');
  const index = Array.isArray(idx) ? (idx as number[]) : [0, size];
  const rowLen = w0! + w1! + w2!;
  if (rowLen === 0) throw new SidianError('PDF_MALFORMED', 'bad /W in cross-reference stream');
  // /Size and /Index declare; the rows decoded are what there is (an entry is a row of the data)
  let declared = 0;
  for (let s = 1; s < index.length; s += 2)
    declared += typeof index[s] === 'number' && index[s]! > 0 ? index[s]! : 0;
  const entries = new XrefTableBuilder(budget, Math.min(declared, Math.floor(data.length / rowLen)));
  let pos = 0;
  const field = (width: number, dflt: number) => {
    if (width === 0) return dflt;
    let v = 0;
    for (let i = 0; i < width; i++) v = v * 256 + data[pos++]!;
    return v;
  };
  for (let s = 0; s + 1 < index.length; s += 2) {
    const start = index[s]!;
    const count = index[s + 1]!;
    if (!Number.isInteger(start) || !Number.isInteger(count) || count < 0) throw new SidianError('PDF_MALFORMED', 'bad /Index');
    for (let i = 0; i < count; i++) {
      if (pos + rowLen > data.length) break;
      const type = field(w0!, 1);
      const a = field(w1!, 0);
      const b = field(w2!, 0);
      // other types are references to the null object (ISO 32000-2 §7.5.8.3): no entry
      if (type === 0) entries.add(start + i, 0, 0, b);
      else if (type === 1 || type === 2) entries.add(start + i, type, a, b);
    }
  }
  return {
    section: {
      kind: 'stream',
      offset,
      trailer: d,
      entries: entries.build(),
      streamNum: num,
      eofEnd: findEofEnd(bytes, p.pos),
    },
    pos: p.pos,
  };
}

/**
 * Finds every `n g obj` marker (bounded: one linear pass), where a repairing reader would: MuPDF's
 * repair (pdf-repair.c) lexes the file token by token, so a marker counts after any whitespace run
 * and after any delimiter that ends a token (`(x)5 0 obj`, `[]5 0 obj`, `>>5 0 obj`), not only at
 * a line start.
 */
function scanObjects(bytes: Uint8Array): Map<number, number[]> {
  const index = new Map<number, number[]>();
  const OBJ = enc('obj');
  const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
  for (let k = indexOfBytes(bytes, OBJ, 0); k >= 0; k = indexOfBytes(bytes, OBJ, k + 3)) {
    // `obj` must end its token
    const after = bytes[k + 3];
    if (after !== undefined && !isWhite(after) && !isDelimiter(after)) continue;
    // walk back over whitespace, "gen", whitespace, "num"
    let p = k;
    if (p === 0 || !isWhite(bytes[p - 1]!)) continue;
    while (p > 0 && isWhite(bytes[p - 1]!)) p--;
    const genEnd = p;
    while (p > 0 && isDigit(bytes[p - 1])) p--;
    if (p === genEnd || genEnd - p > 5 || p === 0 || !isWhite(bytes[p - 1]!)) continue;
    while (p > 0 && isWhite(bytes[p - 1]!)) p--;
    const e = p;
    while (p > 0 && isDigit(bytes[p - 1])) p--;
    if (p === e || e - p > 8) continue;
    // after a token-ending delimiter; `/5` is a name and `%5` a comment
    const before = bytes[p - 1];
    if (p > 0 && !isWhite(before!) && (!isDelimiter(before!) || before === 0x2f || before === 0x25)) continue;
    let num = 0;
    for (let i = p; i < e; i++) num = num * 10 + bytes[i]! - 0x30;
    if (num > 10_000_000) continue;
    const list = index.get(num) ?? [];
    list.push(p);
    index.set(num, list);
  }
  return index;
}

/** PDF delimiters (ISO 32000-2 §7.2.3), which end the token before them. */
function isDelimiter(c: number): boolean {
  return c === 0x28 || c === 0x29 || c === 0x3c || c === 0x3e || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x2f || c === 0x25;
}

/** One state of the document: the merged cross-reference of a set of sections. */
export class PdfView {
  readonly entries: Map<number, XrefEntry>;
  readonly trailer: PdfDict;
  private readonly cache = new Map<number, PdfObject>();
  private readonly objStreams = new Map<number, { offsets: number[]; nums: number[]; data: Uint8Array; first: number }>();
  private readonly resolving = new Set<number>();
  /** Objects found nowhere (neither where their entry points nor at a marker): asked once. */
  private readonly unreadable = new Map<number, SidianError>();
  private pageList?: PageInfo[];

  constructor(
    readonly doc: PdfDocument,
    readonly sections: XrefSection[],
  ) {
    if (sections.length === 1) {
      // one section (an unchanged file, the usual input to signing): its entries are the view's
      this.entries = sections[0]!.entries;
    } else if (sections.every((s) => s.entries instanceof XrefTable)) {
      // newest first: the first table holding a number wins
      this.entries = XrefTable.merge(
        sections.map((s) => s.entries as XrefTable),
        doc.budget,
      );
    } else {
      this.entries = new Map();
      // oldest first so that newer sections override
      for (let i = sections.length - 1; i >= 0; i--) {
        for (const [n, e] of sections[i]!.entries) this.entries.set(n, e);
      }
    }
    this.trailer = sections[0]?.trailer ?? new PdfDict();
  }

  /** The highest object number + 1 over all sections (the next free object number). */
  get size(): number {
    let size = 0;
    for (const s of this.sections) {
      const v = s.trailer.get('Size');
      if (typeof v === 'number' && v > size) size = v;
    }
    if (this.entries instanceof LazyTableEntries || this.entries instanceof XrefTable)
      return Math.max(size, this.entries.maxKey() + 1);
    for (const n of this.entries.keys()) if (n + 1 > size) size = n + 1;
    return size;
  }

  /** The object with this number, or undefined when it is free or missing. */
  get(num: number): PdfObject | undefined {
    if (this.cache.has(num)) return this.cache.get(num);
    const e = this.entries.get(num);
    if (!e || e.type === 0) return undefined;
    if (this.resolving.has(num)) throw new SidianError('PDF_MALFORMED', `object ${num} refers to itself while being read`);
    if (this.resolving.size > MAX_RESOLVE_DEPTH) throw new SidianError('PDF_TOO_COMPLEX', 'object references nest too deep');
    this.resolving.add(num);
    try {
      const v = e.type === 1 ? this.readAt(num, e.offset) : this.readCompressed(num, e.stream, e.index);
      this.cache.set(num, v);
      return v;
    } finally {
      this.resolving.delete(num);
    }
  }

  /** Where object `num` starts in the file (only for uncompressed objects). */
  offsetOf(num: number): number | undefined {
    const e = this.entries.get(num);
    return e?.type === 1 ? e.offset : undefined;
  }

  private readAt(num: number, offset: number): PdfObject {
    const length = (ref: PdfRef) => {
      const v = this.get(ref.num);
      return typeof v === 'number' ? v : undefined;
    };
    const tryAt = (off: number): PdfObject | undefined => {
      const o = this.doc.parseIndirectAt(off, length);
      return o?.num === num ? o.value : undefined;
    };
    const known = this.unreadable.get(num);
    if (known) throw known;
    const v = tryAt(offset);
    if (v !== undefined) return v;
    // Off-by-some offsets are common in the wild: use the newest markers for this number (a few:
    // thousands of markers that do not parse must not each be tried).
    const markers = this.doc.objectMarkers().get(num);
    if (markers) {
      for (let i = markers.length - 1; i >= Math.max(0, markers.length - MAX_MARKER_TRIES); i--) {
        const w = tryAt(markers[i]!);
        if (w !== undefined) return w;
      }
    }
    const e = new SidianError('PDF_MALFORMED', `object ${num} is not at byte ${offset}`);
    this.unreadable.set(num, e);
    throw e;
  }

  /** The object numbers object stream `streamNum` declares in its header, in order. */
  objectStreamNumbers(streamNum: number): number[] {
    return this.objectStream(streamNum).nums;
  }

  private objectStream(streamNum: number): { offsets: number[]; nums: number[]; data: Uint8Array; first: number } {
    let os = this.objStreams.get(streamNum);
    if (!os) {
      const e = this.entries.get(streamNum);
      if (!e || e.type !== 1) throw new SidianError('PDF_MALFORMED', `object stream ${streamNum} is missing`);
      const s = this.get(streamNum);
      if (!(s instanceof PdfStream)) throw new SidianError('PDF_MALFORMED', `object ${streamNum} is not an object stream`);
      const n = s.dict.get('N');
      const first = s.dict.get('First');
      if (typeof n !== 'number' || typeof first !== 'number' || n < 0 || first < 0) {
        throw new SidianError('PDF_MALFORMED', `object stream ${streamNum} lacks /N or /First`);
      }
      const data = this.doc.decodedAt(e.offset, s);
      const p = new Parser(data, 0);
      const nums: number[] = [];
      const offsets: number[] = [];
      for (let i = 0; i < n && p.pos < first; i++) {
        nums.push(p.readInt());
        offsets.push(p.readInt());
      }
      os = { nums, offsets, data, first };
      this.objStreams.set(streamNum, os);
    }
    return os;
  }

  private readCompressed(num: number, streamNum: number, index: number): PdfObject {
    const os = this.objectStream(streamNum);
    // The entry's index must name this object (as poppler requires): an entry that names another
    // slot is broken, not a hint to search the stream for the number (MuPDF does, and the two
    // would then show different objects).
    if (os.nums[index] !== num) {
      throw new SidianError('PDF_MALFORMED', `object ${num} is not at index ${index} of object stream ${streamNum}`);
    }
    const p = new Parser(os.data, os.first + os.offsets[index]!);
    return p.parseObject();
  }

  /** Follows references (bounded) until a direct object; undefined for free or missing objects. */
  resolve(o: PdfObject | undefined): PdfObject | undefined {
    let depth = 0;
    while (o instanceof PdfRef) {
      if (++depth > MAX_RESOLVE_DEPTH) throw new SidianError('PDF_TOO_COMPLEX', 'reference chain too long');
      o = this.get(o.num);
    }
    return o;
  }

  dict(o: PdfObject | undefined): PdfDict | undefined {
    const r = this.resolve(o);
    if (r instanceof PdfDict) return r;
    if (r instanceof PdfStream) return r.dict;
    return undefined;
  }

  array(o: PdfObject | undefined): PdfObject[] | undefined {
    const r = this.resolve(o);
    return Array.isArray(r) ? r : undefined;
  }

  number(o: PdfObject | undefined): number | undefined {
    const r = this.resolve(o);
    return typeof r === 'number' ? r : undefined;
  }

  get rootRef(): PdfRef {
    const r = this.trailer.get('Root');
    if (!(r instanceof PdfRef)) throw new SidianError('PDF_MALFORMED', 'the trailer has no /Root');
    return r;
  }

  catalog(): PdfDict {
    const c = this.dict(this.rootRef);
    if (!c) throw new SidianError('PDF_MALFORMED', 'the document catalog is missing');
    return c;
  }

  /** The number of pages: the page tree root's /Count when plausible, else by walking the tree. */
  pageCount(): number {
    if (this.pageList) return this.pageList.length;
    const root = this.dict(this.catalog().get('Pages'));
    const c = this.number(root?.get('Count'));
    if (c !== undefined && Number.isInteger(c) && c >= 0 && c <= MAX_PAGES) return c;
    return this.pages().length;
  }

  /**
   * One page by 0-based index without reading the others: descends the page tree by /Count
   * (ISO 32000-2 §7.7.3.2). Falls back to the full walk when the counts do not add up.
   */
  pageAt(index: number): PageInfo | undefined {
    if (this.pageList) return this.pageList[index];
    try {
      const found = this.descendTo(index);
      if (found) return found;
    } catch (e) {
      if (e instanceof SidianError && e.code === 'LIMIT_EXCEEDED') throw e;
    }
    return this.pages()[index];
  }

  /**
   * The 0-based index of the page `ref` (-1 when it is not a page of the tree) without reading the
   * other pages: climbs /Parent, counting the kids before each node (a node whose /Count equals its
   * number of kids holds only leaves), then checks the answer by descending to that index. Falls
   * back to the full walk whenever the tree does not add up.
   */
  pageIndexOf(ref: PdfRef): number {
    if (!this.pageList) {
      try {
        const index = this.climbToRoot(ref);
        if (index !== undefined && this.descendTo(index)?.ref.num === ref.num) return index;
      } catch (e) {
        if (e instanceof SidianError && e.code === 'LIMIT_EXCEEDED') throw e;
      }
    }
    return this.pages().findIndex((p) => p.ref.num === ref.num);
  }

  private climbToRoot(ref: PdfRef): number | undefined {
    const root = this.catalog().get('Pages');
    let node = ref;
    let index = 0;
    const seen = new Set<number>([ref.num]);
    for (let depth = 0; depth < 64; depth++) {
      if (root instanceof PdfRef && node.num === root.num) return index;
      const parentRef = this.dict(node)?.get('Parent');
      if (!(parentRef instanceof PdfRef) || seen.has(parentRef.num)) return undefined;
      seen.add(parentRef.num);
      const parent = this.dict(parentRef);
      const kids = parent && this.array(parent.get('Kids'));
      if (!kids) return undefined;
      const at = kids.findIndex((k) => k instanceof PdfRef && k.num === node.num);
      if (at < 0) return undefined;
      if (this.number(parent.get('Count')) === kids.length) index += at;
      else {
        for (let i = 0; i < at; i++) {
          const kd = this.dict(kids[i]);
          const n = kd?.name('Type') === 'Page' ? 1 : this.number(kd?.get('Count'));
          if (n === undefined || n < 0) return undefined;
          index += n;
        }
      }
      node = parentRef;
    }
    return undefined;
  }

  private descendTo(index: number): PageInfo | undefined {
    let node = this.catalog().get('Pages');
    let i = index;
    const inh: { mediaBox?: number[]; cropBox?: number[]; rotate?: number } = {};
    const seen = new Set<number>();
    for (let depth = 0; depth < 64; depth++) {
      if (!(node instanceof PdfRef) || seen.has(node.num)) return undefined;
      seen.add(node.num);
      const d = this.dict(node);
      if (!d) return undefined;
      inh.mediaBox = this.box(d.get('MediaBox')) ?? inh.mediaBox;
      inh.cropBox = this.box(d.get('CropBox')) ?? inh.cropBox;
      inh.rotate = this.number(d.get('Rotate')) ?? inh.rotate;
      if (d.name('Type') === 'Page') return i === 0 ? this.pageInfo(index, node, d, inh) : undefined;
      const kids = this.array(d.get('Kids'));
      if (!kids) return undefined;
      // A node whose /Count equals its number of kids holds only leaves: jump straight there.
      if (this.number(d.get('Count')) === kids.length) {
        const kid = kids[i];
        const kd = kid instanceof PdfRef ? this.dict(kid) : undefined;
        if (kd && kd.name('Type') === 'Page' && !kd.has('Kids')) {
          node = kid;
          i = 0;
          continue;
        }
        // not a leaf after all (a node with one kid that is itself a node): count below
      }
      let next: PdfObject | undefined;
      for (const kid of kids) {
        const kd = this.dict(kid);
        if (!kd) return undefined;
        const n = kd.name('Type') === 'Page' ? 1 : this.number(kd.get('Count'));
        if (n === undefined || n < 0) return undefined;
        if (i < n) {
          next = kid;
          break;
        }
        i -= n;
      }
      if (next === undefined) return undefined;
      node = next;
    }
    return undefined;
  }

  private pageInfo(index: number, ref: PdfRef, dict: PdfDict, here: { mediaBox?: number[]; cropBox?: number[]; rotate?: number }): PageInfo {
    const mb = (here.mediaBox ?? [0, 0, 612, 792]) as [number, number, number, number];
    const cb = intersect((here.cropBox ?? mb) as [number, number, number, number], mb);
    let rot = (((here.rotate ?? 0) % 360) + 360) % 360;
    if (rot % 90 !== 0) rot = 0;
    return { index, ref, dict, mediaBox: mb, cropBox: cb, rotate: rot as PageInfo['rotate'] };
  }

  /** All pages in order, with inherited attributes resolved. */
  pages(): PageInfo[] {
    if (this.pageList) return this.pageList;
    const out: PageInfo[] = [];
    const visited = new Set<number>();
    const rootRef = this.catalog().get('Pages');
    if (!(rootRef instanceof PdfRef)) throw new SidianError('PDF_MALFORMED', 'the catalog has no page tree');
    type Inh = { mediaBox?: number[]; cropBox?: number[]; rotate?: number };
    const walk = (ref: PdfRef, inh: Inh, depth: number) => {
      if (depth > 64) throw new SidianError('PDF_TOO_COMPLEX', 'page tree too deep');
      if (visited.has(ref.num)) throw new SidianError('PDF_MALFORMED', 'page tree has a cycle');
      visited.add(ref.num);
      const node = this.dict(ref);
      if (!node) throw new SidianError('PDF_MALFORMED', `page tree node ${ref.num} is missing`);
      const here: Inh = {
        mediaBox: this.box(node.get('MediaBox')) ?? inh.mediaBox,
        cropBox: this.box(node.get('CropBox')) ?? inh.cropBox,
        rotate: this.number(node.get('Rotate')) ?? inh.rotate,
      };
      const kids = this.array(node.get('Kids'));
      const type = node.name('Type');
      if (type === 'Pages' || (type !== 'Page' && kids)) {
        for (const k of kids ?? []) {
          if (k instanceof PdfRef) walk(k, here, depth + 1);
          if (out.length > MAX_PAGES) throw new SidianError('LIMIT_EXCEEDED', 'too many pages');
        }
      } else {
        out.push(this.pageInfo(out.length, ref, node, here));
      }
    };
    walk(rootRef, {}, 0);
    this.pageList = out;
    return out;
  }

  private box(o: PdfObject | undefined): number[] | undefined {
    const a = this.array(o);
    if (!a || a.length !== 4) return undefined;
    const n = a.map((x) => this.number(x));
    if (n.some((x) => x === undefined)) return undefined;
    const [x0, y0, x1, y1] = n as number[];
    return [Math.min(x0!, x1!), Math.min(y0!, y1!), Math.max(x0!, x1!), Math.max(y0!, y1!)];
  }
}

function intersect(a: [number, number, number, number], b: [number, number, number, number]): [number, number, number, number] {
  const r: [number, number, number, number] = [Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.min(a[3], b[3])];
  return r[2] > r[0] && r[3] > r[1] ? r : b;
}

export function isName(o: PdfObject | undefined, n: string): boolean {
  return o instanceof PdfName && o.value === n;
}
