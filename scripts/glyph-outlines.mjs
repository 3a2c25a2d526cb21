// Glyph outlines for the text the elements draw themselves (the generated round seal of
// packages/elements/src/seal-placer/seal-image.ts and the typed name of <signature-pad>), made from
// Noto Serif SC Bold (SIL Open Font License 1.1, @fontsource/noto-serif-sc) with fontkit.
//
// Why outlines and not a font: the seal and the typed name end up as pixels inside a signed PDF. Text
// drawn with CSS fonts depends on what the signer's machine has installed; without a CJK face the
// characters become empty boxes, silently. Outlines (SVG path data) draw the same everywhere, need no
// font parser in the browser, and a character the data lacks is known before anything is drawn.
//
// Files: `glyphs/index.json` (the list of blocks) and `glyphs/<block>.json`, one per 64 code points (block = code point >> 6, lower-case hex), only
// for blocks the font covers; the elements fetch just the blocks of the characters they draw (a
// seal's name: a handful of files of ~30 KB, ~10 KB brotli). Each file:
//   { "upm": 1000, "mid": 380, "glyphs": { "<code point>": [advance, "<path, y up, font units>"] } }
// `mid` is the vertical centre of the ideographic em box (OS/2 typo ascender/descender), where a
// character centred on a point is placed. The OFL text goes beside the files (glyphs/OFL.txt).
//
// Used by scripts/build.mjs (dist/elements/glyphs/, next to sidian.js) and by the browser tests'
// dev server (web-test-runner.config.mjs), which serves the same files on the fly.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const WEIGHT = 700;

export const FONT_PACKAGE_DIR = path.dirname(require.resolve('@fontsource/noto-serif-sc/package.json'));

/** Code point -> block file name (without .json). */
export const blockOf = (cp) => (cp >> 6).toString(16);

/** Path data rounded to whole font units (1/1000 em: far below a printed pixel). */
function roundPath(d) {
  return d.replace(/-?\d+(?:\.\d+)?(?:e-?\d+)?/g, (n) => String(Math.round(Number(n))));
}

/** Map of block name -> JSON text of that block's glyphs. */
export function glyphBlocks() {
  const fontkit = require('@cantoo/fontkit');
  const dir = path.join(FONT_PACKAGE_DIR, 'files');
  const files = readdirSync(dir).filter((n) => n.endsWith(`-${WEIGHT}-normal.woff2`));
  if (!files.length) throw new Error(`no Noto Serif SC ${WEIGHT} files in ${dir}`);
  const blocks = new Map();
  let upm = 1000;
  let mid = 380;
  for (const file of files.sort()) {
    const font = fontkit.create(readFileSync(path.join(dir, file)));
    upm = font.unitsPerEm;
    const os2 = font['OS/2'];
    if (os2?.typoAscender) mid = Math.round((os2.typoAscender + os2.typoDescender) / 2);
    for (const cp of font.characterSet) {
      // controls and the private use area are never drawn from this data
      if (cp < 0x20 || (cp >= 0xe000 && cp <= 0xf8ff)) continue;
      const key = blockOf(cp);
      let block = blocks.get(key);
      if (!block) blocks.set(key, (block = {}));
      if (block[cp]) continue;
      const glyph = font.glyphForCodePoint(cp);
      if (!glyph || glyph.id === 0) continue;
      block[cp] = [Math.round(glyph.advanceWidth), roundPath(glyph.path.toSVG())];
    }
  }
  const out = new Map();
  for (const [key, glyphs] of blocks) out.set(key, JSON.stringify({ upm, mid, glyphs }));
  // the list of blocks there are: a client asks for no block that does not exist, and a missing
  // index.json means the outlines are not served there at all (not that characters are missing)
  out.set(
    'index',
    JSON.stringify({ font: 'Noto Serif SC Bold', licence: 'OFL-1.1', blocks: [...blocks.keys()].sort() }),
  );
  return out;
}

/** The font's licence, shipped beside the outlines (OFL 1.1 §2: with the font software). */
export function glyphLicence() {
  return (
    'Glyph outlines from Noto Serif SC Bold (https://github.com/notofonts/noto-cjk),\n' +
    'converted to SVG path data by scripts/glyph-outlines.mjs. Licensed under the SIL Open Font License 1.1:\n\n' +
    readFileSync(path.join(FONT_PACKAGE_DIR, 'LICENSE'), 'utf8')
  );
}

let cached;
/** `glyphBlocks()` made once per process (it reads ~100 woff2 files: ~10 s). */
export function cachedGlyphBlocks() {
  cached ??= glyphBlocks();
  return cached;
}

/**
 * A Vite plugin that serves the outlines at `<base>glyphs/<block>.json` in development and emits them
 * (with OFL.txt) into a build: for Storybook, whose preview points the elements there.
 */
export function glyphOutlinesVitePlugin() {
  return {
    name: 'sidian-glyph-outlines',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const m = /\/glyphs\/([0-9a-f]+|index)\.json(?:\?|$)/.exec(req.url ?? '');
        if (!m) return next();
        const body = cachedGlyphBlocks().get(m[1]);
        res.statusCode = body ? 200 : 404;
        res.setHeader('content-type', 'application/json');
        res.end(body ?? '{}');
      });
    },
    generateBundle() {
      for (const [block, json] of cachedGlyphBlocks())
        this.emitFile({ type: 'asset', fileName: `glyphs/${block}.json`, source: json });
      this.emitFile({ type: 'asset', fileName: 'glyphs/OFL.txt', source: glyphLicence() });
    },
  };
}
