/**
 * Glyph outlines for the text the elements draw into signed documents (the generated seal, the typed
 * name of <signature-pad>): Noto Serif SC Bold (SIL OFL 1.1) as SVG path data, made at build time by
 * scripts/glyph-outlines.mjs and served next to the bundle (`/elements/glyphs/<block>.json`, one file
 * per 64 code points). Only the blocks of the characters being drawn are fetched, on first use, so a
 * page that never draws text never downloads any of it.
 *
 * Drawing from outlines rather than CSS fonts means the ink does not depend on the fonts installed on
 * the signer's machine; a character the outlines lack is a `GLYPH_MISSING` error naming it, never an
 * empty box inside a signed PDF.
 */
import { SidianElementError } from './errors';

export interface GlyphAssets {
  /** Folder of the `<block>.json` files; default `<meta name="sidian-glyphs-base">`, else `./glyphs/` next to the module. */
  glyphsBase?: string;
}

/** One character's outline: advance and SVG path data, in font units, y up. */
export interface Glyph {
  advance: number;
  path: string;
}

/** The outlines of a run of text, ready to place. */
export interface GlyphRun {
  /** Units per em. */
  upm: number;
  /** Vertical centre of the ideographic em box, font units (y up). */
  mid: number;
  glyphs: Glyph[];
}

interface Block {
  upm: number;
  mid: number;
  glyphs: Record<string, [number, string]>;
}

let assets: GlyphAssets = {};
const blocks = new Map<string, Promise<Block | undefined>>();
let index: Promise<Set<string>> | undefined;

/** Tells the elements where the glyph outline files are served. */
export function configureGlyphs(options: GlyphAssets): void {
  assets = { ...assets, ...options };
  blocks.clear();
  index = undefined;
}

function base(): string {
  const meta =
    typeof document !== 'undefined'
      ? document.querySelector<HTMLMetaElement>('meta[name="sidian-glyphs-base"]')?.content
      : undefined;
  const given = assets.glyphsBase ?? meta;
  // not a literal: bundlers must not try to resolve the folder as an asset at build time
  const nextToModule = './glyphs/';
  return new URL(given ?? nextToModule, given ? document.baseURI : import.meta.url).href;
}

async function fetchJson<T>(url: string): Promise<T> {
  let r: Response;
  try {
    r = await fetch(url);
  } catch (e) {
    throw new SidianElementError('FETCH_FAILED', `glyph outlines ${url}: ${(e as Error)?.message ?? e}`);
  }
  if (!r.ok)
    throw new SidianElementError(
      'FETCH_FAILED',
      `glyph outlines ${url}: HTTP ${r.status} (configureGlyphs() tells where they are served)`,
    );
  return (await r.json()) as T;
}

/** The blocks the outlines have (index.json), fetched once. */
function loadIndex(): Promise<Set<string>> {
  index ??= fetchJson<{ blocks: string[] }>(new URL('index.json', base()).href).then(
    (i) => new Set(i.blocks),
  );
  index.catch(() => (index = undefined));
  return index;
}

async function loadBlock(key: string): Promise<Block | undefined> {
  if (!(await loadIndex()).has(key)) return undefined; // the font covers nothing of this block
  let p = blocks.get(key);
  if (!p) {
    const url = new URL(`${key}.json`, base()).href;
    p = fetchJson<Block>(url);
    p.catch(() => blocks.delete(key)); // a failed fetch is tried again next time
    blocks.set(key, p);
  }
  return p;
}

const describe = (ch: string) =>
  `"${ch}" (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;

/**
 * The outlines of every character of `text` (whitespace: advance only). Rejects with
 * `GLYPH_MISSING` naming each character the outlines lack (`.characters` lists them).
 */
export async function glyphRun(text: string): Promise<GlyphRun> {
  const chars = Array.from(text);
  const keys = [...new Set(chars.map((ch) => (ch.codePointAt(0)! >> 6).toString(16)))];
  const loaded = new Map(await Promise.all(keys.map(async (k) => [k, await loadBlock(k)] as const)));
  let upm = 1000;
  let mid = 380;
  const missing: string[] = [];
  const glyphs: Glyph[] = chars.map((ch) => {
    const cp = ch.codePointAt(0)!;
    const block = loaded.get((cp >> 6).toString(16));
    const g = block?.glyphs[cp];
    if (block) ({ upm, mid } = block);
    if (g) return { advance: g[0], path: g[1] };
    if (/\s/u.test(ch)) return { advance: upm / 3, path: '' };
    if (!missing.includes(ch)) missing.push(ch);
    return { advance: 0, path: '' };
  });
  if (missing.length) throw new GlyphMissingError(missing);
  return { upm, mid, glyphs };
}

/** Characters that Sidian's bundled font cannot draw. */
export class GlyphMissingError extends SidianElementError {
  readonly characters: string[];
  constructor(characters: string[]) {
    super(
      'GLYPH_MISSING',
      `the bundled font (Noto Serif SC) has no glyph for ${characters.map(describe).join(', ')}`,
    );
    this.characters = characters;
  }
}

/** Total advance of a run, font units. */
export const runAdvance = (run: GlyphRun): number => run.glyphs.reduce((s, g) => s + g.advance, 0);
