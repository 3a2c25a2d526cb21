/**
 * A standard round red official seal (公章) drawn from text, for departments without a scan of
 * their seal: the department's name arched along the top, a five-pointed star in the centre, the
 * purpose line (e.g. 合同专用章) beneath it and the seal's code (印章编码) along the bottom edge.
 * Proportions follow a 42 mm seal (GB/T 33190 style layout): 1.2 mm rim, 14 mm star.
 */
import { glyphRun, runAdvance, type GlyphRun } from '../shared/glyphs';

export interface SealImageOptions {
  /** The department's name, e.g. 四电市数据管理局. */
  name: string;
  /** The line beneath the star, e.g. 合同专用章 (optional). */
  purpose?: string;
  /** The seal's code, e.g. 3301000012345 (optional). */
  code?: string;
  /** Ink colour; default a seal red. */
  color?: string;
  /**
   * @deprecated Ignored: the characters are drawn from the outlines of the font that ships with
   * Sidian (Noto Serif SC Bold, see shared/glyphs.ts), never from the fonts of the signer's machine.
   */
  fontFamily?: string;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const f = (n: number) => (Math.round(n * 100) / 100).toString();

/** One glyph as a path, its em box centred on (x, y), `size` px tall, turned by `deg`. */
function placed(run: GlyphRun, i: number, x: number, y: number, size: number, deg = 0): string {
  const g = run.glyphs[i]!;
  if (!g.path) return '';
  const k = size / run.upm;
  const turn = deg ? ` rotate(${f(deg)})` : '';
  return `<path transform="translate(${f(x)} ${f(y)})${turn} scale(${k.toFixed(5)} ${(-k).toFixed(5)}) translate(${f(-g.advance / 2)} ${f(-run.mid)})" d="${g.path}"/>`;
}

/** Points of a five-pointed star centred at (cx, cy), outer radius r, one point up. */
function starPath(cx: number, cy: number, r: number): string {
  const inner = r * 0.382;
  const pts: string[] = [];
  for (let i = 0; i < 10; i++) {
    const rad = i % 2 ? inner : r;
    const a = (Math.PI / 5) * i - Math.PI / 2;
    pts.push(`${f(cx + rad * Math.cos(a))},${f(cy + rad * Math.sin(a))}`);
  }
  return `M${pts.join('L')}Z`;
}

/**
 * The seal as an SVG document (viewBox 200 × 200, transparent background), its characters as paths.
 * Rejects with `GLYPH_MISSING` (naming them) when a character is not in the bundled font.
 */
export async function sealSvg(options: SealImageOptions): Promise<string> {
  const color = options.color ?? '#d40000';
  const nameText = options.name.trim();
  const codeText = (options.code ?? '').trim();
  const purpose = options.purpose?.trim() ?? '';
  // all characters first, so that one error names every character the font lacks
  await glyphRun(nameText + codeText + purpose);
  const [name, code, purposeRun] = await Promise.all([
    glyphRun(nameText),
    glyphRun(codeText),
    glyphRun(purpose),
  ]);
  const parts: string[] = [];
  // Name: one glyph per position along the top arc, each turned to face the centre.
  const n = name.glyphs.length;
  const span = Math.min(250, Math.max(120, n * 24)); // degrees
  const nameSize = Math.min(26, Math.max(14, ((span / 360) * 2 * Math.PI * 70) / Math.max(n, 1) - 2));
  for (let i = 0; i < n; i++) {
    const deg = n === 1 ? 0 : -span / 2 + (span * i) / (n - 1);
    const a = (deg * Math.PI) / 180;
    parts.push(placed(name, i, 100 + 70 * Math.sin(a), 100 - 70 * Math.cos(a), nameSize, deg));
  }
  // Code: small digits along the bottom edge, reading left to right, tops towards the centre.
  const m = code.glyphs.length;
  const codeSpan = Math.min(110, m * 7.5);
  for (let i = 0; i < m; i++) {
    const deg = m === 1 ? 0 : -codeSpan / 2 + (codeSpan * i) / (m - 1);
    const a = (deg * Math.PI) / 180;
    parts.push(placed(code, i, 100 + 84 * Math.sin(a), 100 + 84 * Math.cos(a), 9, -deg));
  }
  if (purpose) {
    const size = Math.min(18, 110 / Math.max(1, purposeRun.glyphs.length));
    const k = size / purposeRun.upm;
    let x = 100 - (runAdvance(purposeRun) * k) / 2;
    purposeRun.glyphs.forEach((g, i) => {
      parts.push(placed(purposeRun, i, x + (g.advance * k) / 2, 146, size));
      x += g.advance * k;
    });
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" width="200" height="200">` +
    `<circle cx="100" cy="100" r="96" fill="none" stroke="${esc(color)}" stroke-width="5.7"/>` +
    `<path d="${starPath(100, 100, 33)}" fill="${esc(color)}"/>` +
    `<g fill="${esc(color)}">${parts.join('')}</g>` +
    `</svg>`
  );
}

/**
 * The seal as PNG bytes (transparent), `size` pixels square; what `<seal-placer>.sealImage` takes.
 * Rejects with `GLYPH_MISSING` like `sealSvg`.
 */
export async function sealPng(options: SealImageOptions, size = 600): Promise<Uint8Array> {
  const url = URL.createObjectURL(new Blob([await sealSvg(options)], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = size;
    canvas.getContext('2d')!.drawImage(img, 0, 0, size, size);
    const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/png'));
    if (!blob) throw new Error('the seal could not be encoded as PNG');
    return new Uint8Array(await blob.arrayBuffer());
  } finally {
    URL.revokeObjectURL(url);
  }
}
