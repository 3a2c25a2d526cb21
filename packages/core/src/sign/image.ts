/**
 * Seal and handwriting images as PDF image XObjects. PNG alpha becomes a soft mask (/SMask) so a
 * transparent seal shows the text beneath it, as a red ink stamp does on paper.
 */
import { decode as decodePng } from 'fast-png';
import { SidianError } from '../errors';
import { deflateNative, inflateNative, pngUnfilter } from '../pdf/filters';
import { mayCompileWasm } from '../platform';
import { PLANES_WASM } from './planes-wasm';
import { PdfDict, PdfName, PdfStream } from '../pdf/objects';

export interface PdfImage {
  width: number;
  height: number;
  /** The image XObject; `smask` is written separately and referenced from it. */
  image: PdfStream;
  smask?: PdfStream;
}

export function imageKind(bytes: Uint8Array): 'png' | 'jpeg' | undefined {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/**
 * Converted images by their bytes' identity: a department seals many documents with the same
 * seal image, which is decoded and compressed once (the streams are immutable once made).
 */
const converted = new WeakMap<Uint8Array, Promise<PdfImage>>();

export function loadImage(bytes: Uint8Array): Promise<PdfImage> {
  let p = converted.get(bytes);
  if (!p) {
    p = convertImage(bytes);
    converted.set(bytes, p);
    p.catch(() => converted.delete(bytes));
  }
  return p;
}

async function convertImage(bytes: Uint8Array): Promise<PdfImage> {
  const kind = imageKind(bytes);
  if (kind === 'png') return (await pngImageFast(bytes)) ?? pngImage(bytes);
  if (kind === 'jpeg') return jpegImage(bytes);
  throw new SidianError('SIGN_BAD_IMAGE', 'the appearance image is neither PNG nor JPEG');
}

function imageDict(width: number, height: number, colorSpace: string, bpc = 8): PdfDict {
  return new PdfDict([
    ['Type', PdfName.of('XObject')],
    ['Subtype', PdfName.of('Image')],
    ['Width', width],
    ['Height', height],
    ['ColorSpace', PdfName.of(colorSpace)],
    ['BitsPerComponent', bpc],
  ]);
}

interface PngChunks {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlace: number;
  idat: Uint8Array;
  palette?: Uint8Array;
  trns?: Uint8Array;
}

function readPngChunks(b: Uint8Array): PngChunks | undefined {
  let p = 8;
  const u32 = (o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  const idats: Uint8Array[] = [];
  let h: Omit<PngChunks, 'idat'> | undefined;
  while (p + 12 <= b.length) {
    const len = u32(p);
    const type = String.fromCharCode(b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!);
    const data = b.subarray(p + 8, p + 8 + len);
    if (p + 12 + len > b.length) return undefined;
    if (type === 'IHDR') h = { width: u32(p + 8), height: u32(p + 12), depth: data[8]!, colorType: data[9]!, interlace: data[12]! };
    else if (type === 'PLTE' && h) h.palette = data;
    else if (type === 'tRNS' && h) h.trns = data;
    else if (type === 'IDAT') idats.push(data);
    else if (type === 'IEND') break;
    p += 12 + len;
  }
  if (!h || idats.length === 0) return undefined;
  const idat = new Uint8Array(idats.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of idats) {
    idat.set(c, o);
    o += c.length;
  }
  return { ...h, idat };
}

/**
 * The common seal and handwriting PNGs (8-bit, not interlaced) with the platform's native zlib:
 * RGB and grey pass through untouched (PNG predictors are PDF predictors, ISO 32000-2 §7.4.4.4);
 * RGBA, grey+alpha and palettes are split into colour and a soft mask. Others: undefined.
 */
async function pngImageFast(bytes: Uint8Array): Promise<PdfImage | undefined> {
  const c = readPngChunks(bytes);
  if (!c || c.depth !== 8 || c.interlace !== 0 || !c.width || !c.height || c.width > 10_000 || c.height > 10_000) return undefined;
  const { width, height } = c;
  if ((c.colorType === 2 || c.colorType === 0) && !c.trns) {
    const colors = c.colorType === 2 ? 3 : 1;
    const dict = imageDict(width, height, colors === 3 ? 'DeviceRGB' : 'DeviceGray');
    dict.set('Filter', PdfName.of('FlateDecode'));
    dict.set('DecodeParms', new PdfDict([['Predictor', 15], ['Colors', colors], ['BitsPerComponent', 8], ['Columns', width]]));
    return { width, height, image: new PdfStream(dict, c.idat) };
  }
  if (c.colorType === 6 || c.colorType === 4) return splitAlphaFiltered(c, c.colorType === 6 ? 4 : 2);
  if (c.colorType !== 3 || !c.palette) return undefined;
  // palette: indices expanded to RGB, the tRNS entries to a soft mask
  let raw: Uint8Array;
  try {
    raw = pngUnfilter(await inflateNative(c.idat, (width + 1) * height + 1), width, 1);
  } catch {
    return undefined;
  }
  const n = width * height;
  if (raw.length < n) return undefined;
  const pal = c.palette;
  const color = new Uint8Array(n * 3);
  const alpha = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = raw[i]!;
    color[i * 3] = pal[k * 3] ?? 0;
    color[i * 3 + 1] = pal[k * 3 + 1] ?? 0;
    color[i * 3 + 2] = pal[k * 3 + 2] ?? 0;
    alpha[i] = c.trns && k < c.trns.length ? c.trns[k]! : 255;
  }
  const dict = imageDict(width, height, 'DeviceRGB');
  dict.set('Filter', PdfName.of('FlateDecode'));
  const [colorZ, alphaZ] = await Promise.all([deflateNative(color), alpha.every((a) => a === 255) ? undefined : deflateNative(alpha)]);
  let smask: PdfStream | undefined;
  if (alphaZ) {
    const md = imageDict(width, height, 'DeviceGray');
    md.set('Filter', PdfName.of('FlateDecode'));
    smask = new PdfStream(md, alphaZ);
  }
  return { width, height, image: new PdfStream(dict, colorZ), smask };
}

/**
 * RGBA and grey+alpha, without undoing the PNG filters: each filter predicts a byte from the same
 * channel of the neighbouring pixels, so the filtered rows split into a filtered colour plane and a
 * filtered alpha plane (each row keeping its filter type) that PDF's PNG predictors undo for the
 * reader (ISO 32000-2 §7.4.4.4). One pass moving bytes instead of a per-byte predictor.
 */
async function splitAlphaFiltered(c: PngChunks, channels: 2 | 4): Promise<PdfImage | undefined> {
  const { width, height } = c;
  const rowLen = width * channels;
  let filtered: Uint8Array;
  try {
    filtered = await inflateNative(c.idat, (rowLen + 1) * height + 1);
  } catch {
    return undefined;
  }
  if (filtered.length < (rowLen + 1) * height) return undefined;
  const cc = channels - 1;
  const planes = splitPlanes(filtered, width, height, channels);
  if (!planes) return undefined;
  const { color, alpha } = planes;
  const predicted = (colors: number) =>
    new PdfDict([['Predictor', 15], ['Colors', colors], ['BitsPerComponent', 8], ['Columns', width]]);
  const dict = imageDict(width, height, cc === 3 ? 'DeviceRGB' : 'DeviceGray');
  dict.set('Filter', PdfName.of('FlateDecode'));
  dict.set('DecodeParms', predicted(cc));
  const md = imageDict(width, height, 'DeviceGray');
  md.set('Filter', PdfName.of('FlateDecode'));
  md.set('DecodeParms', predicted(1));
  // level 1: a seal plane compresses ~5x faster than at the default level, to about twice the size
  // (a few KB more per document)
  const [colorZ, alphaZ] = await Promise.all([deflateNative(color, 1), deflateNative(alpha, 1)]);
  return { width, height, image: new PdfStream(dict, colorZ), smask: new PdfStream(md, alphaZ) };
}

/**
 * Splits filtered scanlines into the colour and alpha planes (each row's filter type in both);
 * undefined when a filter type is unknown. Runs in WebAssembly (planes.wat) in Node, where a first
 * signing would otherwise run this per-byte loop interpreted (~6 ms for a 400x400 seal here, against
 * ~3 ms); in web pages (see mayCompileWasm: a CSP would report the attempt) and wherever
 * instantiation fails, the JavaScript loop gives the same bytes.
 */
export function splitPlanes(
  filtered: Uint8Array,
  width: number,
  height: number,
  channels: 2 | 4,
  useWasm = true,
): { color: Uint8Array; alpha: Uint8Array } | undefined {
  const srcLen = (width * channels + 1) * height;
  const colorLen = (width * (channels - 1) + 1) * height;
  const alphaLen = (width + 1) * height;
  const wasm = useWasm && mayCompileWasm() ? planesModule() : undefined;
  if (wasm) {
    try {
      const colorAt = srcLen;
      const alphaAt = colorAt + colorLen + 1; // one spare byte: the RGBA loop stores 4 bytes per pixel
      const memory = new WebAssembly.Memory({ initial: Math.ceil((alphaAt + alphaLen) / 65536) });
      const { split } = new WebAssembly.Instance(wasm, { env: { memory } }).exports as {
        split(col: number, alp: number, h: number, w: number, ch: number): number;
      };
      const heap = new Uint8Array(memory.buffer);
      heap.set(filtered.subarray(0, srcLen));
      if (split(colorAt, alphaAt, height, width, channels) !== 0) return undefined;
      return { color: heap.slice(colorAt, colorAt + colorLen), alpha: heap.slice(alphaAt, alphaAt + alphaLen) };
    } catch {
      // too large for a wasm32 memory, or instantiation refused: the JavaScript loop below
    }
  }
  const rowLen = width * channels;
  const cc = channels - 1;
  const color = new Uint8Array(colorLen);
  const alpha = new Uint8Array(alphaLen);
  for (let r = 0; r < height; r++) {
    const s = r * (rowLen + 1);
    const co = r * (width * cc + 1);
    const ao = r * (width + 1);
    const type = filtered[s]!;
    if (type > 4) return undefined;
    color[co] = type;
    alpha[ao] = type;
    // a small function per row: it is compiled after a few rows, where one long loop would run
    // interpreted for most of a first signing
    if (cc === 3) splitRgba(filtered, s + 1, color, co + 1, alpha, ao + 1, width);
    else splitGreyAlpha(filtered, s + 1, color, co + 1, alpha, ao + 1, width);
  }
  return { color, alpha };
}

let planesWasm: WebAssembly.Module | null | undefined;

/** The compiled planes.wat, or null where WebAssembly is missing or refused. */
function planesModule(): WebAssembly.Module | undefined {
  if (planesWasm === undefined) {
    try {
      planesWasm = new WebAssembly.Module(Uint8Array.from(atob(PLANES_WASM), (c) => c.charCodeAt(0)));
    } catch {
      planesWasm = null;
    }
  }
  return planesWasm ?? undefined;
}

function splitRgba(src: Uint8Array, s: number, color: Uint8Array, co: number, alpha: Uint8Array, ao: number, n: number): void {
  for (let x = 0; x < n; x++, s += 4, co += 3) {
    color[co] = src[s]!;
    color[co + 1] = src[s + 1]!;
    color[co + 2] = src[s + 2]!;
    alpha[ao + x] = src[s + 3]!;
  }
}

function splitGreyAlpha(src: Uint8Array, s: number, color: Uint8Array, co: number, alpha: Uint8Array, ao: number, n: number): void {
  for (let x = 0; x < n; x++, s += 2) {
    color[co + x] = src[s]!;
    alpha[ao + x] = src[s + 1]!;
  }
}

/** Any other PNG (16-bit, interlaced, low bit depths), decoded in JavaScript. */
async function pngImage(bytes: Uint8Array): Promise<PdfImage> {
  let png;
  try {
    png = decodePng(bytes);
  } catch (e) {
    throw new SidianError('SIGN_BAD_IMAGE', `the PNG image cannot be decoded: ${(e as Error).message}`);
  }
  const { width, height } = png;
  if (!width || !height || width > 10_000 || height > 10_000) {
    throw new SidianError('SIGN_BAD_IMAGE', `the PNG image is ${width}x${height}: too large or empty`);
  }
  const n = width * height;
  const src = png.data;
  const depth = png.depth;
  const sample = (i: number) => (depth === 16 ? (src[i] as number) >> 8 : depth < 8 ? (src[i] as number) * (255 / ((1 << depth) - 1)) : (src[i] as number));
  let channels = png.channels;
  let color: Uint8Array;
  let alpha: Uint8Array | undefined;
  let gray = false;
  if (png.palette) {
    // indexed: expand to RGB(A)
    const pal = png.palette as number[][];
    const hasAlpha = pal.some((c) => c.length === 4 && c[3] !== 255);
    color = new Uint8Array(n * 3);
    if (hasAlpha) alpha = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = pal[src[i] as number] ?? [0, 0, 0, 0];
      color[i * 3] = c[0]!;
      color[i * 3 + 1] = c[1]!;
      color[i * 3 + 2] = c[2]!;
      if (alpha) alpha[i] = c.length === 4 ? c[3]! : 255;
    }
    channels = 3;
  } else {
    const hasAlpha = channels === 2 || channels === 4;
    const cc = hasAlpha ? channels - 1 : channels;
    gray = cc === 1;
    color = new Uint8Array(n * cc);
    if (hasAlpha) alpha = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < cc; k++) color[i * cc + k] = sample(i * channels + k);
      if (alpha) alpha[i] = sample(i * channels + cc);
    }
  }
  const dict = imageDict(width, height, gray ? 'DeviceGray' : 'DeviceRGB');
  dict.set('Filter', PdfName.of('FlateDecode'));
  const image = new PdfStream(dict, await deflateNative(color));
  let smask: PdfStream | undefined;
  if (alpha && alpha.some((a) => a !== 255)) {
    const md = imageDict(width, height, 'DeviceGray');
    md.set('Filter', PdfName.of('FlateDecode'));
    smask = new PdfStream(md, await deflateNative(alpha));
  }
  return { width, height, image, smask };
}

function jpegImage(bytes: Uint8Array): PdfImage {
  // Find the frame header (SOFn) for size and components (ITU T.81 §B.2.2).
  let p = 2;
  let adobe = false;
  while (p + 4 < bytes.length) {
    if (bytes[p] !== 0xff) throw new SidianError('SIGN_BAD_IMAGE', 'the JPEG image is malformed');
    const marker = bytes[p + 1]!;
    if (marker === 0xff) {
      p++;
      continue;
    }
    const len = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    if (marker === 0xee) adobe = true;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const bpc = bytes[p + 4]!;
      const height = (bytes[p + 5]! << 8) | bytes[p + 6]!;
      const width = (bytes[p + 7]! << 8) | bytes[p + 8]!;
      const comps = bytes[p + 9]!;
      const cs = comps === 1 ? 'DeviceGray' : comps === 3 ? 'DeviceRGB' : comps === 4 ? 'DeviceCMYK' : undefined;
      if (!cs || !width || !height) throw new SidianError('SIGN_BAD_IMAGE', 'the JPEG image has an unsupported layout');
      const dict = imageDict(width, height, cs, bpc);
      dict.set('Filter', PdfName.of('DCTDecode'));
      if (comps === 4 && adobe) dict.set('Decode', [1, 0, 1, 0, 1, 0, 1, 0]);
      return { width, height, image: new PdfStream(dict, bytes) };
    }
    p += 2 + len;
  }
  throw new SidianError('SIGN_BAD_IMAGE', 'the JPEG image has no frame header');
}
