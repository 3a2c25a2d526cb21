/**
 * Reading a PDF without holding all of it: a file the reader fetches ranges of on demand. Signing
 * needs only the file's tail (cross-reference, trailer) and a handful of objects; verification needs
 * the signed ranges only to hash them. Core stays free of Node built-ins: the caller supplies the
 * reads (in Node, a file descriptor and `fs.readSync`; see `server/src/file-source.ts`).
 */
import { SidianError } from '../errors';

export interface RandomAccessFile {
  /** The file's length in bytes; it must not change while the file is being read. */
  readonly size: number;
  /** Fills all of `into` with the bytes that start at `position`; throws on a short read. */
  readSync(into: Uint8Array, position: number): void;
  /** The same, asynchronously: lets hashing overlap reading. Optional. */
  read?(into: Uint8Array, position: number): Promise<void>;
  /**
   * Optional: calls `each` with the bytes of `ranges` ([start, end) pairs), in order, in chunks,
   * each valid only during its call; or answers undefined, and the caller reads the ranges itself.
   * In Node, `openFile` (server/src/file-source.ts) reads them ahead on a thread of its own.
   */
  readRanges?(ranges: [number, number][], each: (chunk: Uint8Array) => void): Promise<void> | undefined;
  /**
   * Optional: the digest (`hash` is a DigestName such as 'SHA-256') of `ranges` followed by `extra`
   * from a hash of the file the caller has already started, or undefined when it has none that
   * fits. Signing appends to the file and digests all of it first, so a command that knows it will
   * sign can hash the input while it loads the key (`sidian sign`, server/src/cli/sign.ts).
   */
  digestRanges?(hash: string, ranges: [number, number][], extra: Uint8Array[]): Promise<Uint8Array> | undefined;
}

/** What `signPdfUpdate`, `verifyPdf` and `PdfDocument.load` read: the bytes, or a file to read them from. */
export type PdfInput = Uint8Array | RandomAccessFile;

export function isRandomAccessFile(x: unknown): x is RandomAccessFile {
  return (
    typeof x === 'object' &&
    x !== null &&
    !(x instanceof Uint8Array) &&
    typeof (x as RandomAccessFile).size === 'number' &&
    typeof (x as RandomAccessFile).readSync === 'function'
  );
}

/**
 * How lazily a RandomAccessFile is read. Internal; tests shrink these to drive every path (windows
 * that end inside objects, chunks that are missing) with small files.
 */
export const LAZY_READING = {
  /** Files smaller than this are read whole, in one read. */
  readWholeBelow: 4 * 1024 * 1024,
  /** Reads fetch the file in aligned chunks of 2^chunkBits bytes. */
  chunkBits: 16,
  /** A forward read first sees this much of the file from where it starts, then 8x more each retry. */
  firstWindow: 64 * 1024,
  /** The search for startxref and %%EOF first looks at this much of the file's end. */
  firstTail: 64 * 1024,
};

/**
 * A buffer of the file's full size whose chunks are read from the file the first time they are
 * asked for. The buffer is allocated zero-filled and untouched, so the operating system commits
 * memory only for the chunks actually read.
 */
export class LazyBytes {
  readonly bytes: Uint8Array;
  private readonly loaded: Uint8Array;
  private loadedCount = 0;
  private readonly bits = LAZY_READING.chunkBits;

  constructor(readonly file: RandomAccessFile) {
    const size = file.size;
    if (!Number.isSafeInteger(size) || size < 0) throw new SidianError('PDF_MALFORMED', `bad file size ${size}`);
    // A SharedArrayBuffer where there is one: V8 counts a plain ArrayBuffer this size as external
    // memory and answers with full garbage collections (~20 ms for 100 MB); a shared one it does not.
    // Either way the pages are committed only when written. Views of it must not reach WebCrypto,
    // which refuses shared memory: the parser copies stream data out of it.
    this.bytes = new Uint8Array(typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
    this.loaded = new Uint8Array(Math.ceil(size / 2 ** this.bits));
  }

  get complete(): boolean {
    return this.loadedCount === this.loaded.length;
  }

  /** Makes the bytes [start, end) present (clamped to the file). */
  ensure(start: number, end: number): void {
    const size = this.bytes.length;
    start = Math.max(0, Math.min(start, size));
    end = Math.max(start, Math.min(end, size));
    if (end === start) return;
    const bits = this.bits;
    let c = Math.floor(start / 2 ** bits);
    const last = Math.floor((end - 1) / 2 ** bits);
    while (c <= last) {
      if (this.loaded[c]) {
        c++;
        continue;
      }
      // one read for each run of missing chunks
      let d = c;
      while (d + 1 <= last && !this.loaded[d + 1]) d++;
      const from = c * 2 ** bits;
      const to = Math.min(size, (d + 1) * 2 ** bits);
      this.file.readSync(this.bytes.subarray(from, to), from);
      for (let k = c; k <= d; k++) this.loaded[k] = 1;
      this.loadedCount += d - c + 1;
      c = d + 1;
    }
  }

  ensureAll(): void {
    if (!this.complete) this.ensure(0, this.bytes.length);
  }
}
