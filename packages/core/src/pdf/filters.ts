/** Stream filters we need to read structure: FlateDecode with PNG/TIFF predictors (ISO 32000-2 §7.4.4). */
import { Inflate } from 'fflate';
import { SidianError } from '../errors';
import { nodeBuiltin } from '../platform';
import type { WorkBudget } from './budget';
import { PdfDict, PdfName, PdfStream } from './objects';

/** No decoded stream may exceed this (a zip bomb stops here, not in an out-of-memory crash). */
export const MAX_DECODED_BYTES = 256 * 1024 * 1024;

/**
 * Compressed bytes given to the inflater at a time: its output is checked against the limits after
 * each piece, so one check lets through at most ~1032 times this (deflate's best ratio), never the
 * whole expansion first.
 */
const INFLATE_PIECE = 16 * 1024;

/**
 * Inflates `data`, stopping with LIMIT_EXCEEDED as soon as the output passes `limit` or the
 * budget's bytes, or the budget's deadline passes.
 */
export function inflateBounded(data: Uint8Array, limit = MAX_DECODED_BYTES, budget?: WorkBudget): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let failed: unknown;
  // Skip a zlib header when present; tolerate raw deflate and a missing checksum.
  let body = data;
  if (data.length >= 2 && (data[0]! & 0x0f) === 8 && ((data[0]! << 8) | data[1]!) % 31 === 0)
    body = data.subarray(2);
  budget?.checkTime();
  const native = nativeInflate(body, Math.min(limit, budget?.remaining ?? limit));
  if (native === 'over') {
    if (!budget || budget.remaining >= limit)
      throw new SidianError('LIMIT_EXCEEDED', `a stream decodes to more than ${limit} bytes`);
    budget.charge(budget.remaining + 1, 'streams');
  }
  if (native instanceof Uint8Array) {
    budget?.charge(native.length, 'streams');
    budget?.checkTime();
    return native;
  }
  // no native zlib (a browser), or it refused the data: the lenient inflater, piece by piece
  const inf = new Inflate((chunk) => {
    total += chunk.length;
    if (total > limit)
      throw new SidianError('LIMIT_EXCEEDED', `a stream decodes to more than ${limit} bytes`);
    budget?.charge(chunk.length, 'streams');
    chunks.push(chunk);
  });
  try {
    for (let at = 0; at < body.length || at === 0; at += INFLATE_PIECE) {
      const end = Math.min(body.length, at + INFLATE_PIECE);
      inf.push(body.subarray(at, end), end === body.length);
      budget?.checkTime();
      if (end === body.length) break;
    }
  } catch (e) {
    if (e instanceof SidianError) throw e;
    failed = e;
  }
  if (failed && total === 0) throw new SidianError('PDF_MALFORMED', 'a Flate stream cannot be decoded');
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * Node's zlib, several times faster than fflate here: raw inflate (the header is gone, so no
 * checksum is demanded, as fflate demands none), a truncated stream ending as far as it reads
 * (Z_SYNC_FLUSH). It stops as soon as the output passes `room` ('over'). Undefined without Node or
 * when zlib refuses the data (the caller then decodes with fflate, which keeps what it could read).
 */
function nativeInflate(body: Uint8Array, room: number): Uint8Array | 'over' | undefined {
  const z = getNodeZlib();
  if (!z) return undefined;
  try {
    const out = z.inflateRawSync(body, {
      maxOutputLength: Math.max(1, room),
      finishFlush: z.constants.Z_SYNC_FLUSH,
    });
    if (out.length > room) return 'over';
    // a small result may sit in Node's shared pool: copy it, so that it owns its memory
    return out.byteLength === out.buffer.byteLength ? new Uint8Array(out.buffer) : new Uint8Array(out);
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return 'over';
    return undefined;
  }
}

function applyPredictor(data: Uint8Array, parms: PdfDict | undefined): Uint8Array {
  if (!parms) return data;
  const predictor = num(parms.get('Predictor'), 1);
  if (predictor <= 1) return data;
  const colors = num(parms.get('Colors'), 1);
  const bpc = num(parms.get('BitsPerComponent'), 8);
  const columns = num(parms.get('Columns'), 1);
  const bpp = Math.max(1, Math.ceil((colors * bpc) / 8));
  const rowLen = Math.ceil((colors * bpc * columns) / 8);
  if (predictor === 2) {
    if (bpc !== 8) throw new SidianError('PDF_MALFORMED', 'TIFF predictor with bits per component other than 8');
    const out = data.slice();
    for (let r = 0; r + rowLen <= out.length; r += rowLen) {
      for (let i = bpp; i < rowLen; i++) out[r + i] = (out[r + i]! + out[r + i - bpp]!) & 0xff;
    }
    return out;
  }
  return pngUnfilter(data, rowLen, bpp);
}

/** Reverses PNG row filters (RFC 2083 §6): each row starts with its filter type byte. */
export function pngUnfilter(data: Uint8Array, rowLen: number, bpp: number): Uint8Array {
  const rows = Math.floor(data.length / (rowLen + 1));
  const out = new Uint8Array(rows * rowLen);
  for (let r = 0; r < rows; r++) {
    const type = data[r * (rowLen + 1)]!;
    const src = r * (rowLen + 1) + 1;
    const dst = r * rowLen;
    const up = dst - rowLen; // previous row in `out` (absent for r = 0)
    // One tight loop per filter type: this runs once per pixel byte.
    switch (type) {
      case 0:
        out.set(data.subarray(src, src + rowLen), dst);
        break;
      case 1:
        for (let i = 0; i < rowLen; i++) out[dst + i] = (data[src + i]! + (i >= bpp ? out[dst + i - bpp]! : 0)) & 0xff;
        break;
      case 2:
        if (r === 0) out.set(data.subarray(src, src + rowLen), dst);
        else for (let i = 0; i < rowLen; i++) out[dst + i] = (data[src + i]! + out[up + i]!) & 0xff;
        break;
      case 3:
        for (let i = 0; i < rowLen; i++) {
          const a = i >= bpp ? out[dst + i - bpp]! : 0;
          const b = r > 0 ? out[up + i]! : 0;
          out[dst + i] = (data[src + i]! + ((a + b) >> 1)) & 0xff;
        }
        break;
      case 4:
        for (let i = 0; i < rowLen; i++) {
          const a = i >= bpp ? out[dst + i - bpp]! : 0;
          const b = r > 0 ? out[up + i]! : 0;
          const c = r > 0 && i >= bpp ? out[up + i - bpp]! : 0;
          const p = a + b - c;
          const pa = p > a ? p - a : a - p;
          const pb = p > b ? p - b : b - p;
          const pc = p > c ? p - c : c - p;
          out[dst + i] = (data[src + i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
        }
        break;
      default:
        throw new SidianError('PDF_MALFORMED', `unknown PNG predictor ${type}`);
    }
  }
  return out;
}

async function pipeThrough(data: Uint8Array, stream: CompressionStream | DecompressionStream, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      throw new SidianError('LIMIT_EXCEEDED', `data decodes to more than ${limit} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

type NodeZlib = {
  deflateSync(b: Uint8Array, o?: { level: number }): Uint8Array;
  inflateSync(b: Uint8Array, o: { maxOutputLength: number }): Uint8Array;
  inflateRawSync(b: Uint8Array, o: { maxOutputLength: number; finishFlush: number }): Uint8Array;
  constants: { Z_SYNC_FLUSH: number };
};
const getNodeZlib = () => nodeBuiltin<NodeZlib>('node:zlib');

/**
 * zlib (RFC 1950) compression, native: Node's zlib (at `level`, default 6) or the browser's
 * CompressionStream (its own level).
 */
export async function deflateNative(data: Uint8Array, level = 6): Promise<Uint8Array> {
  const z = getNodeZlib();
  if (z) return new Uint8Array(z.deflateSync(data, { level }));
  return pipeThrough(data, new CompressionStream('deflate'), Number.MAX_SAFE_INTEGER);
}

/** zlib decompression, native and bounded. */
export async function inflateNative(data: Uint8Array, limit = MAX_DECODED_BYTES): Promise<Uint8Array> {
  const z = getNodeZlib();
  if (z) {
    try {
      return new Uint8Array(z.inflateSync(data, { maxOutputLength: limit }));
    } catch (e) {
      throw new SidianError('LIMIT_EXCEEDED', `data cannot be decoded within ${limit} bytes: ${(e as Error).message}`);
    }
  }
  return pipeThrough(data, new DecompressionStream('deflate'), limit);
}

function num(v: unknown, d: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : d;
}

/** Decodes a stream whose filters we support (none, FlateDecode); others are an error. */
export function decodeStream(stream: PdfStream, limit = MAX_DECODED_BYTES, budget?: WorkBudget): Uint8Array {
  const f = stream.dict.get('Filter');
  const filters = f === undefined || f === null ? [] : Array.isArray(f) ? f : [f];
  const p = stream.dict.get('DecodeParms');
  const parmsList = Array.isArray(p) ? p : [p];
  let data = stream.data;
  filters.forEach((filter, i) => {
    if (!(filter instanceof PdfName)) throw new SidianError('PDF_MALFORMED', 'bad /Filter');
    const parms = parmsList[i] instanceof PdfDict ? (parmsList[i] as PdfDict) : undefined;
    if (filter.value === 'FlateDecode' || filter.value === 'Fl') {
      data = applyPredictor(inflateBounded(data, limit, budget), parms);
    } else {
      throw new SidianError('PDF_MALFORMED', `unsupported filter ${filter.value} in a structural stream`);
    }
  });
  return data;
}
