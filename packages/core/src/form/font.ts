/**
 * Fonts for the appearance streams of filled fields (ISO 32000-2 §12.7.4.3 "Variable text").
 *
 * Two kinds:
 * - a font the form already names in its /DR (or the standard Helvetica), written as a simple
 *   font: only printable ASCII, which every simple encoding shares;
 * - a font the caller supplies (TrueType, OpenType, WOFF; not WOFF2): the glyphs used are subset and
 *   embedded as a Type0 font with a CIDFontType2 (glyf outlines) or CIDFontType0 (CFF outlines)
 *   descendant, Identity-H encoding (CID = glyph id in the subset) and a /ToUnicode CMap so text
 *   extraction and search give the characters back (ISO 32000-2 §9.7, §9.10.3).
 *
 * The font program is read and subset with @cantoo/fontkit, loaded only when a font is given.
 */
import { zlibSync } from 'fflate';
import { SidianError } from '../errors';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, latin1Bytes } from '../pdf/objects';
import type { IncrementalWriter } from '../pdf/writer';

/** What an appearance needs from a font: metrics and the string operand that shows text. */
export interface AppearanceFont {
  /** Ascent and descent in 1/1000 em (descent negative). */
  readonly ascent: number;
  readonly descent: number;
  /** Advance width of `text` in 1/1000 em. */
  width(text: string): number;
  /** The string operand of `Tj` that shows `text` (throws FORM_MISSING_GLYPHS when it cannot). */
  show(text: string): string;
  /** Whether every character of `text` can be shown. */
  covers(text: string): boolean;
  /** The font dictionary (or a reference to it) for the appearance's /Resources. */
  resource(): PdfRef;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * A simple font already in the document (or a new standard Helvetica). Widths come from its
 * /Widths when it has them, else Helvetica's average; only printable ASCII is shown.
 */
export class SimpleFont implements AppearanceFont {
  readonly ascent = 718;
  readonly descent = -207;
  constructor(
    private readonly ref: PdfRef,
    private readonly widths?: { first: number; widths: number[] },
  ) {}
  covers(text: string): boolean {
    return PRINTABLE_ASCII.test(text);
  }
  width(text: string): number {
    let w = 0;
    for (const ch of text) {
      const c = ch.charCodeAt(0);
      const fromTable = this.widths?.widths[c - this.widths.first];
      w += fromTable !== undefined && fromTable > 0 ? fromTable : (HELVETICA_WIDTHS[c - 32] ?? 556);
    }
    return w;
  }
  show(text: string): string {
    if (!this.covers(text)) {
      throw new SidianError(
        'FORM_MISSING_GLYPHS',
        `the form's font cannot show "${text}": supply a font (options.font) that has these characters`,
      );
    }
    return '(' + text.replace(/[\\()]/g, (m) => '\\' + m) + ')';
  }
  resource(): PdfRef {
    return this.ref;
  }
}

/** Helvetica's advance widths for 0x20..0x7e (Adobe's Helvetica AFM), for fonts without /Widths. */
const HELVETICA_WIDTHS = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556,
  556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278,
  500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
  556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
  278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/** A new standard-14 Helvetica (ISO 32000-2 §9.6.2.2), for forms whose /DA names no usable font. */
export function standardHelvetica(w: IncrementalWriter): SimpleFont {
  const ref = w.add(
    new PdfDict([
      ['Type', PdfName.of('Font')],
      ['Subtype', PdfName.of('Type1')],
      ['BaseFont', PdfName.of('Helvetica')],
      ['Encoding', PdfName.of('WinAnsiEncoding')],
    ]),
  );
  return new SimpleFont(ref);
}

// The parts of @cantoo/fontkit used here (its own typings are looser than we need).
interface FkGlyph {
  id: number;
  advanceWidth: number;
}
interface FkSubset {
  includeGlyph(glyph: FkGlyph | number): number;
  encode(): Uint8Array;
}
interface FkFont {
  postscriptName: string | null;
  unitsPerEm: number;
  ascent: number;
  descent: number;
  capHeight: number;
  italicAngle: number;
  bbox: { minX: number; minY: number; maxX: number; maxY: number };
  numGlyphs: number;
  glyphForCodePoint(cp: number): FkGlyph | null;
  createSubset(): FkSubset;
  directory: { tables: Record<string, unknown> };
  fonts?: FkFont[];
}

/**
 * A caller's font, subset to the glyphs the filled values use and embedded once per fill
 * (every field of the fill shares it).
 */
export class EmbeddedFont implements AppearanceFont {
  readonly ascent: number;
  readonly descent: number;
  private readonly subset: FkSubset;
  /** subset glyph id (= CID) -> the characters it shows (for /ToUnicode) and its width */
  private readonly used = new Map<number, { text: string; width: number }>();
  private readonly byChar = new Map<string, number>();
  /** Allocated when an appearance first uses the font: a fill of check boxes only writes no font. */
  private ref: PdfRef | undefined;

  private constructor(
    private readonly font: FkFont,
    private readonly w: IncrementalWriter,
  ) {
    this.ascent = this.scale(font.ascent);
    this.descent = this.scale(font.descent);
    this.subset = font.createSubset();
  }

  /** Reads the font program; FORM_BAD_FONT when it is not a TrueType/OpenType/WOFF font. */
  static async load(bytes: Uint8Array, w: IncrementalWriter): Promise<EmbeddedFont> {
    if (!(bytes instanceof Uint8Array) || bytes.length < 12)
      throw new SidianError('FORM_BAD_FONT', 'the font is not a TrueType, OpenType or WOFF file');
    if (bytes[0] === 0x77 && bytes[1] === 0x4f && bytes[2] === 0x46 && bytes[3] === 0x32) {
      // fontkit reads WOFF2 but subsets its transformed glyf table wrongly (the whole table, megabytes)
      throw new SidianError(
        'FORM_BAD_FONT',
        'WOFF2 fonts cannot be subset here: give the TrueType, OpenType or WOFF file of the face',
      );
    }
    const fontkit = (await import('@cantoo/fontkit')) as unknown as { create(b: Uint8Array): FkFont };
    let font: FkFont;
    try {
      font = fontkit.create(bytes);
      if (font.fonts) font = font.fonts[0]!; // a collection: its first face
      if (!font || !font.unitsPerEm || !font.numGlyphs) throw new Error('no glyphs');
    } catch (e) {
      throw new SidianError('FORM_BAD_FONT', `the font cannot be read: ${(e as Error).message}`);
    }
    return new EmbeddedFont(font, w);
  }

  private scale(v: number): number {
    return Math.round((v * 1000) / this.font.unitsPerEm);
  }

  private glyphOf(ch: string): FkGlyph | undefined {
    const g = this.font.glyphForCodePoint(ch.codePointAt(0)!);
    return g && g.id !== 0 ? g : undefined;
  }

  covers(text: string): boolean {
    for (const ch of text) if (!this.glyphOf(ch)) return false;
    return true;
  }

  width(text: string): number {
    let w = 0;
    for (const ch of text) {
      const g = this.glyphOf(ch);
      if (g) w += this.scale(g.advanceWidth);
    }
    return w;
  }

  show(text: string): string {
    const missing = [...new Set([...text].filter((ch) => !this.glyphOf(ch)))];
    if (missing.length) {
      throw new SidianError(
        'FORM_MISSING_GLYPHS',
        `the font has no glyph for ${missing.map((c) => `"${c}" (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`).join(', ')}`,
        {
          characters: missing,
        },
      );
    }
    let hex = '<';
    for (const ch of text) {
      let cid = this.byChar.get(ch);
      if (cid === undefined) {
        const g = this.glyphOf(ch)!;
        cid = this.subset.includeGlyph(g);
        this.byChar.set(ch, cid);
        if (!this.used.has(cid)) this.used.set(cid, { text: ch, width: this.scale(g.advanceWidth) });
      }
      hex += cid.toString(16).padStart(4, '0');
    }
    return hex + '>';
  }

  resource(): PdfRef {
    return (this.ref ??= this.w.allocate());
  }

  /** Writes the subset font program and its dictionaries; call once, after every `show`. */
  write(): void {
    if (!this.ref) return;
    const w = this.w;
    const program = this.subset.encode();
    const cff = 'CFF ' in this.font.directory.tables;
    const tag = subsetTag(program);
    const baseName = `${tag}+${(this.font.postscriptName ?? 'Font').replace(/[^\x21-\x7e]|[()<>[\]{}/%#]/g, '')}`;
    const fileDict = new PdfDict([['Filter', PdfName.of('FlateDecode')]]);
    if (cff) fileDict.set('Subtype', PdfName.of('CIDFontType0C'));
    else fileDict.set('Length1', program.length);
    const fileRef = w.add(new PdfStream(fileDict, zlibSync(program)));
    const b = this.font.bbox;
    const descriptor = new PdfDict([
      ['Type', PdfName.of('FontDescriptor')],
      ['FontName', PdfName.of(baseName)],
      ['Flags', 4], // Symbolic: glyphs outside the standard Latin set (ISO 32000-2 §9.8.2)
      ['FontBBox', [this.scale(b.minX), this.scale(b.minY), this.scale(b.maxX), this.scale(b.maxY)]],
      ['ItalicAngle', Math.round(this.font.italicAngle || 0)],
      ['Ascent', this.ascent],
      ['Descent', this.descent],
      ['CapHeight', this.scale(this.font.capHeight || this.font.ascent)],
      ['StemV', 80],
      [cff ? 'FontFile3' : 'FontFile2', fileRef],
    ]);
    const descriptorRef = w.add(descriptor);
    const cids = [...this.used.keys()].sort((a, c) => a - c);
    const widths: (number | number[])[] = [];
    for (const cid of cids) widths.push(cid, [this.used.get(cid)!.width]);
    const cidFont = new PdfDict([
      ['Type', PdfName.of('Font')],
      ['Subtype', PdfName.of(cff ? 'CIDFontType0' : 'CIDFontType2')],
      ['BaseFont', PdfName.of(baseName)],
      [
        'CIDSystemInfo',
        new PdfDict([
          ['Registry', PdfString.latin1('Adobe')],
          ['Ordering', PdfString.latin1('Identity')],
          ['Supplement', 0],
        ]),
      ],
      ['FontDescriptor', descriptorRef],
      ['DW', 1000],
      ['W', widths.flat(0) as never],
    ]);
    if (!cff) cidFont.set('CIDToGIDMap', PdfName.of('Identity'));
    const cidRef = w.add(cidFont);
    const toUnicodeRef = w.add(
      new PdfStream(
        new PdfDict([['Filter', PdfName.of('FlateDecode')]]),
        zlibSync(latin1Bytes(toUnicodeCMap(cids.map((c) => [c, this.used.get(c)!.text])))),
      ),
    );
    w.set(
      this.ref,
      new PdfDict([
        ['Type', PdfName.of('Font')],
        ['Subtype', PdfName.of('Type0')],
        ['BaseFont', PdfName.of(baseName)],
        ['Encoding', PdfName.of('Identity-H')],
        ['DescendantFonts', [cidRef]],
        ['ToUnicode', toUnicodeRef],
      ]),
    );
  }
}

/** Six capital letters derived from the subset's bytes (ISO 32000-2 §9.9.2 subset tag). */
function subsetTag(program: Uint8Array): string {
  let h = 2166136261;
  for (let i = 0; i < program.length; i += 1 + (program.length >> 16))
    h = Math.imul(h ^ program[i]!, 16777619) >>> 0;
  let tag = '';
  for (let i = 0; i < 6; i++) {
    tag += String.fromCharCode(65 + (h % 26));
    h = Math.floor(h / 26) + i * 7919;
  }
  return tag;
}

/** A ToUnicode CMap (Adobe TN 5411) mapping each two-byte CID to its characters in UTF-16BE. */
function toUnicodeCMap(entries: [number, string][]): string {
  const hex4 = (n: number) => n.toString(16).padStart(4, '0');
  const utf16 = (s: string) =>
    [...s]
      .map((c) => {
        const cp = c.codePointAt(0)!;
        if (cp < 0x10000) return hex4(cp);
        const v = cp - 0x10000;
        return hex4(0xd800 + (v >> 10)) + hex4(0xdc00 + (v & 0x3ff));
      })
      .join('');
  let body = '';
  for (let i = 0; i < entries.length; i += 100) {
    const chunk = entries.slice(i, i + 100);
    body += `${chunk.length} beginbfchar\n${chunk.map(([cid, t]) => `<${hex4(cid)}> <${utf16(t)}>`).join('\n')}\nendbfchar\n`;
  }
  return (
    '/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n' +
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n' +
    '/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n' +
    '1 begincodespacerange\n<0000> <ffff>\nendcodespacerange\n' +
    body +
    'endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n'
  );
}
