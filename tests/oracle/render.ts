/**
 * What viewers show (issue 14, the render oracle): the words and, at low resolution, the grey
 * pixels of every page of a PDF as three independent viewers see it — pdf.js (the page's text
 * content), poppler (`pdftotext -bbox`, `pdftoppm`) and MuPDF (`mutool draw`, structured text and
 * pixmaps) — and the comparison of two such views: the signed revision (the file cut at the end of
 * a signature's ByteRange) against the final file, outside the rectangles the rules let change.
 *
 * Coordinates are PDF points in the displayed page (rotation applied), origin top left, as all three
 * viewers report them. Node-only test helper.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../fixtures/paths';

export type Renderer = 'pdfjs' | 'poppler' | 'mupdf';
export const RENDERERS: Renderer[] = ['pdfjs', 'poppler', 'mupdf'];

export type Box = [number, number, number, number];

export interface Word {
  text: string;
  box: Box;
}

export interface Raster {
  width: number;
  height: number;
  /** 8-bit grey, row by row. */
  data: Uint8Array;
}

export interface PageView {
  width: number;
  height: number;
  words: Word[];
  raster?: Raster;
}

export interface Annotation {
  /** `12R`: the annotation's object, as pdf.js names it. */
  id: string | null;
  subtype: string;
  fieldType: string | null;
  fieldName: string | null;
  box: Box;
}

/** One viewer's view of a file: its pages, or why it could not open the file. */
export interface View {
  renderer: Renderer;
  pages: PageView[] | null;
  error?: string;
}

export interface Rendering {
  views: View[];
  /** Annotations per page as pdf.js reads them (null when pdf.js cannot open the file). */
  annotations: Annotation[][] | null;
}

/** Pixels per inch of the rasters: enough to see a changed line of text, cheap to draw. */
export const DPI = 24;
const TOOL_TIMEOUT_MS = 20_000;

function run(cmd: string, args: string[]): Promise<{ stdout: string; ok: boolean; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: TOOL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => resolve({ stdout, stderr, ok: !err }),
    );
  });
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (m, e: string) => {
    if (e[0] === '#')
      return String.fromCodePoint(
        e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)),
      );
    return ENTITIES[e] ?? m;
  });
}

/** PGM (P5, 8-bit) as pdftoppm -gray and mutool draw -c gray write it. */
function readPgm(file: string): Raster {
  const b = readFileSync(file);
  const header: string[] = [];
  let i = 0;
  while (header.length < 4) {
    while (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09) i++;
    if (b[i] === 0x23) {
      while (b[i] !== 0x0a) i++;
      continue;
    }
    let t = '';
    while (i < b.length && !(b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09))
      t += String.fromCharCode(b[i++]!);
    header.push(t);
  }
  i++;
  const [magic, w, h] = header;
  if (magic !== 'P5') throw new Error(`${file}: not a binary PGM`);
  const width = Number(w);
  const height = Number(h);
  return { width, height, data: new Uint8Array(b.subarray(i, i + width * height)) };
}

/** Rasters of every page, in page order, from files `prefix*.pgm` in `dir`. */
function rasters(dir: string, prefix: string): Raster[] {
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.pgm'))
    .map((f) => ({ f, n: Number(/(\d+)\.pgm$/.exec(f)?.[1] ?? 0) }))
    .sort((a, b) => a.n - b.n);
  return files.map(({ f }) => readPgm(path.join(dir, f)));
}

function splitWords(text: string, box: Box): Word[] {
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map((t) => ({ text: t, box }));
}

async function viewPoppler(file: string, dir: string): Promise<View> {
  const [text, ppm] = await Promise.all([
    run('pdftotext', ['-q', '-bbox', file, '-']),
    run('pdftoppm', ['-q', '-r', String(DPI), '-gray', file, path.join(dir, 'poppler')]),
  ]);
  if (!text.ok)
    return { renderer: 'poppler', pages: null, error: text.stderr.slice(0, 200) || 'pdftotext failed' };
  const pages: PageView[] = [];
  const pageRe = /<page width="([\d.]+)" height="([\d.]+)">([\s\S]*?)<\/page>/g;
  for (let m = pageRe.exec(text.stdout); m; m = pageRe.exec(text.stdout)) {
    const words: Word[] = [];
    const wordRe =
      /<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">([^<]*)<\/word>/g;
    for (let w = wordRe.exec(m[3]!); w; w = wordRe.exec(m[3]!))
      words.push(...splitWords(unescapeXml(w[5]!), [Number(w[1]), Number(w[2]), Number(w[3]), Number(w[4])]));
    pages.push({ width: Number(m[1]), height: Number(m[2]), words });
  }
  if (ppm.ok) {
    const r = rasters(dir, 'poppler');
    if (r.length === pages.length) r.forEach((raster, k) => (pages[k]!.raster = raster));
  }
  return { renderer: 'poppler', pages };
}

async function viewMupdf(file: string, dir: string): Promise<View> {
  const [text, draw] = await Promise.all([
    run('mutool', ['draw', '-q', '-F', 'stext', '-o', '-', file]),
    run('mutool', [
      'draw',
      '-q',
      '-r',
      String(DPI),
      '-c',
      'gray',
      '-o',
      path.join(dir, 'mupdf-%d.pgm'),
      file,
    ]),
  ]);
  if (!text.ok || !text.stdout.includes('<document'))
    return { renderer: 'mupdf', pages: null, error: text.stderr.slice(0, 200) || 'mutool draw failed' };
  const pages: PageView[] = [];
  const pageRe = /<page [^>]*width="([\d.]+)" height="([\d.]+)">([\s\S]*?)<\/page>/g;
  for (let m = pageRe.exec(text.stdout); m; m = pageRe.exec(text.stdout)) {
    const words: Word[] = [];
    const lineRe = /<line [^>]*>([\s\S]*?)<\/line>/g;
    for (let l = lineRe.exec(m[3]!); l; l = lineRe.exec(m[3]!)) {
      // one word per run of non-space characters; its box the union of their quads
      let cur: { text: string; box: Box } | null = null;
      const flush = () => {
        if (cur?.text) words.push({ text: cur.text, box: cur.box });
        cur = null;
      };
      const charRe = /<char quad="([^"]+)"[^>]* c="([^"]*)"\/>/g;
      for (let c = charRe.exec(l[1]!); c; c = charRe.exec(l[1]!)) {
        const ch = unescapeXml(c[2]!);
        if (/^\s*$/.test(ch)) {
          flush();
          continue;
        }
        const q = c[1]!.split(/\s+/).map(Number);
        const xs = [q[0]!, q[2]!, q[4]!, q[6]!];
        const ys = [q[1]!, q[3]!, q[5]!, q[7]!];
        const box: Box = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
        if (!cur) cur = { text: ch, box };
        else {
          const b: Box = cur.box;
          cur = {
            text: cur.text + ch,
            box: [
              Math.min(b[0], box[0]),
              Math.min(b[1], box[1]),
              Math.max(b[2], box[2]),
              Math.max(b[3], box[3]),
            ],
          };
        }
      }
      flush();
    }
    pages.push({ width: Number(m[1]), height: Number(m[2]), words });
  }
  if (draw.ok) {
    const r = rasters(dir, 'mupdf-');
    if (r.length === pages.length) r.forEach((raster, k) => (pages[k]!.raster = raster));
  }
  return { renderer: 'mupdf', pages };
}

// pdf.js, as the elements use it in browsers; the legacy build runs on Node 20
type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
let pdfjsModule: Promise<PdfJs> | undefined;
const STANDARD_FONTS = path.join(REPO_ROOT, 'node_modules', 'pdfjs-dist', 'standard_fonts') + path.sep;
const pdfjs = (): Promise<PdfJs> => (pdfjsModule ??= import('pdfjs-dist/legacy/build/pdf.mjs'));

function normalise(r: number[]): Box {
  return [Math.min(r[0]!, r[2]!), Math.min(r[1]!, r[3]!), Math.max(r[0]!, r[2]!), Math.max(r[1]!, r[3]!)];
}

type PdfJsDocument = Awaited<ReturnType<PdfJs['getDocument']>['promise']>;
type PdfJsPage = Awaited<ReturnType<PdfJsDocument['getPage']>>;

/** The page drawn by pdf.js (annotations' appearances included) at DPI, in grey over white. */
async function rasterPdfjs(doc: PdfJsDocument, page: PdfJsPage): Promise<Raster | undefined> {
  try {
    const vp = page.getViewport({ scale: DPI / 72 });
    const width = Math.ceil(vp.width);
    const height = Math.ceil(vp.height);
    const factory = (doc as unknown as { canvasFactory: CanvasFactory }).canvasFactory;
    const { canvas, context } = factory.create(width, height);
    await page.render({ canvasContext: context, viewport: vp, canvas } as unknown as Parameters<
      PdfJsPage['render']
    >[0]).promise;
    const rgba = context.getImageData(0, 0, width, height).data;
    const data = new Uint8Array(width * height);
    for (let i = 0; i < data.length; i++) {
      const a = rgba[i * 4 + 3]! / 255;
      const grey = 0.299 * rgba[i * 4]! + 0.587 * rgba[i * 4 + 1]! + 0.114 * rgba[i * 4 + 2]!;
      data[i] = Math.round(grey * a + 255 * (1 - a));
    }
    factory.destroy({ canvas, context });
    return { width, height, data };
  } catch {
    return undefined; // no raster: the text comparison still runs
  }
}

interface CanvasFactory {
  create(
    w: number,
    h: number,
  ): {
    canvas: unknown;
    context: { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
  };
  destroy(c: { canvas: unknown; context: unknown }): void;
}

async function viewPdfjs(bytes: Uint8Array): Promise<{ view: View; annotations: Annotation[][] | null }> {
  const lib = await pdfjs();
  const task = lib.getDocument({
    data: bytes.slice(),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
    verbosity: 0,
    standardFontDataUrl: STANDARD_FONTS,
  });
  try {
    const doc = await task.promise;
    const pages: PageView[] = [];
    const annotations: Annotation[][] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const vp = page.getViewport({ scale: 1 });
      const words: Word[] = [];
      const content = await page.getTextContent();
      for (const item of content.items) {
        if (!('str' in item) || !item.str.trim()) continue;
        const [, , , , e, f] = item.transform as number[];
        const h = item.height || Math.hypot(item.transform[2] as number, item.transform[3] as number);
        const box = normalise(vp.convertToViewportRectangle([e!, f!, e! + item.width, f! + h]));
        words.push(...splitWords(item.str, box));
      }
      const annots: Annotation[] = [];
      for (const a of await page.getAnnotations({ intent: 'display' })) {
        annots.push({
          id: a.id ?? null,
          subtype: a.subtype,
          fieldType: a.fieldType ?? null,
          fieldName: a.fieldName ?? null,
          box: normalise(vp.convertToViewportRectangle(a.rect)),
        });
      }
      pages.push({ width: vp.width, height: vp.height, words, raster: await rasterPdfjs(doc, page) });
      annotations.push(annots);
    }
    return { view: { renderer: 'pdfjs', pages }, annotations };
  } catch (e) {
    return {
      view: { renderer: 'pdfjs', pages: null, error: String((e as Error)?.message ?? e).slice(0, 200) },
      annotations: null,
    };
  } finally {
    await task.destroy();
  }
}

/** Renders `pdf` with the three viewers. */
export async function render(pdf: Uint8Array): Promise<Rendering> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sidian-render-'));
  try {
    const file = path.join(dir, 'in.pdf');
    writeFileSync(file, pdf);
    const [pj, poppler, mupdf] = await Promise.all([
      viewPdfjs(pdf),
      viewPoppler(file, dir),
      viewMupdf(file, dir),
    ]);
    return { views: [pj.view, poppler, mupdf], annotations: pj.annotations };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Comparing the signed revision with the final file
// ---------------------------------------------------------------------------------------------

/** Which changes the rules allow after a signature: nothing, form filling and signing, or also annotations. */
export type Permission = 'nothing' | 'form' | 'annotations';

/**
 * Rectangles (per page of the final file) where the rules let what is shown change: the widgets of
 * signature fields (new signatures' appearances) and of fields that existed when signing (form
 * filling); with `annotations` (DocMDP P=3) also every annotation the final file has and the
 * signed revision had not. FieldMDP locks are not modelled: the oracle is lenient there.
 */
export function allowedRects(signed: Rendering, final: Rendering, permission: Permission): Box[][] {
  const pages = final.annotations ?? [];
  if (permission === 'nothing') return pages.map(() => []);
  const signedFields = new Set<string>();
  const signedIds = new Set<string>();
  for (const page of signed.annotations ?? [])
    for (const a of page) {
      if (a.fieldName) signedFields.add(a.fieldName);
      if (a.id) signedIds.add(a.id);
    }
  return pages.map((annots) =>
    annots
      .filter(
        (a) =>
          (a.subtype === 'Widget' &&
            (a.fieldType === 'Sig' || (a.fieldName !== null && signedFields.has(a.fieldName)))) ||
          (permission === 'annotations' && (a.id === null || !signedIds.has(a.id))),
      )
      .map((a) => a.box),
  );
}

export interface Difference {
  renderer: Renderer;
  /** 1-based page, or 0 for the document (page count). */
  page: number;
  what: string;
}

function inside(box: Box, rects: Box[], slack = 2): boolean {
  const cx = (box[0] + box[2]) / 2;
  const cy = (box[1] + box[3]) / 2;
  return rects.some(
    (r) => cx >= r[0] - slack && cx <= r[2] + slack && cy >= r[1] - slack && cy <= r[3] + slack,
  );
}

/** Words of `a` not matched by a word of `b` with the same text (a multiset difference). */
function extraWords(a: Word[], b: Word[]): Word[] {
  const left = new Map<string, number>();
  for (const w of b) left.set(w.text, (left.get(w.text) ?? 0) + 1);
  const out: Word[] = [];
  for (const w of a) {
    const n = left.get(w.text) ?? 0;
    if (n > 0) left.set(w.text, n - 1);
    else out.push(w);
  }
  return out;
}

/** Grey levels that differ by more than this count as a changed pixel (anti-aliasing is deterministic per viewer). */
const PIXEL_DELTA = 48;
/** Changed pixels outside the allowed rectangles that a page may have before it counts as changed. */
const PIXEL_BUDGET = 4;

/**
 * What the final file shows that the signed revision did not, per viewer, outside `allowed`:
 * another page count or page size, words added or gone, pixels changed. A viewer that cannot open
 * one of the two files is left out of the comparison (it shows nothing, which is nothing new).
 */
export function compare(signed: Rendering, final: Rendering, allowed: Box[][]): Difference[] {
  const diffs: Difference[] = [];
  for (const renderer of RENDERERS) {
    const s = signed.views.find((v) => v.renderer === renderer)?.pages;
    const f = final.views.find((v) => v.renderer === renderer)?.pages;
    if (!s || !f) continue;
    if (s.length !== f.length) {
      diffs.push({ renderer, page: 0, what: `${f.length} pages shown, ${s.length} signed` });
      continue;
    }
    for (let k = 0; k < f.length; k++) {
      const sp = s[k]!;
      const fp = f[k]!;
      const rects = allowed[k] ?? [];
      const page = k + 1;
      if (Math.abs(sp.width - fp.width) > 0.5 || Math.abs(sp.height - fp.height) > 0.5) {
        diffs.push({
          renderer,
          page,
          what: `page size ${fp.width}x${fp.height}, signed ${sp.width}x${sp.height}`,
        });
        continue;
      }
      const added = extraWords(fp.words, sp.words).filter((w) => !inside(w.box, rects));
      const gone = extraWords(sp.words, fp.words).filter((w) => !inside(w.box, rects));
      if (added.length)
        diffs.push({
          renderer,
          page,
          what: `text added: ${added
            .map((w) => w.text)
            .join(' ')
            .slice(0, 160)}`,
        });
      if (gone.length)
        diffs.push({
          renderer,
          page,
          what: `text gone: ${gone
            .map((w) => w.text)
            .join(' ')
            .slice(0, 160)}`,
        });
      if (sp.raster && fp.raster) {
        const changed = changedPixels(sp.raster, fp.raster, rects);
        if (changed > PIXEL_BUDGET)
          diffs.push({ renderer, page, what: `${changed} pixels changed outside the allowed rectangles` });
      }
    }
  }
  return diffs;
}

function changedPixels(a: Raster, b: Raster, rects: Box[]): number {
  if (a.width !== b.width || a.height !== b.height) return a.width * a.height;
  const k = DPI / 72;
  const px = rects.map((r) => [r[0] * k - 2, r[1] * k - 2, r[2] * k + 2, r[3] * k + 2]);
  let n = 0;
  for (let y = 0; y < a.height; y++)
    for (let x = 0; x < a.width; x++) {
      const i = y * a.width + x;
      if (Math.abs(a.data[i]! - b.data[i]!) <= PIXEL_DELTA) continue;
      if (px.some((r) => x + 0.5 >= r[0]! && x + 0.5 <= r[2]! && y + 0.5 >= r[1]! && y + 0.5 <= r[3]!))
        continue;
      n++;
    }
  return n;
}
