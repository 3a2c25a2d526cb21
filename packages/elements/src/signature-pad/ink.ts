/**
 * Handwriting as data: strokes of timed points with pressure, kept in device-independent units
 * (CSS pixels of a reference box) so a resize or a screen rotation redraws the same signature.
 * Widths come from pen pressure where the device reports it, else from the pen's velocity
 * (faster: thinner), on quadratic curves through the midpoints (after szimek/signature_pad).
 */

export interface InkPoint {
  /** Position in reference units (CSS px of the box the signature was drawn in). */
  x: number;
  y: number;
  /** Time, milliseconds since the Unix epoch (evidence of how the signature was made). */
  t: number;
  /** Pressure 0…1 as the device reported it (mouse: 0.5 while pressed). */
  pressure: number;
}

export interface InkStroke {
  pointerType: string;
  points: InkPoint[];
}

export interface InkStyle {
  color: string;
  /** Thinnest and thickest line, in reference units. */
  minWidth: number;
  maxWidth: number;
}

export interface Box {
  width: number;
  height: number;
}

/** Bounding box of the ink (with half the max width around it), or undefined when empty. */
export function inkBounds(strokes: InkStroke[], style: InkStyle): { x: number; y: number; width: number; height: number } | undefined {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const s of strokes) {
    for (const p of s.points) {
      x0 = Math.min(x0, p.x);
      y0 = Math.min(y0, p.y);
      x1 = Math.max(x1, p.x);
      y1 = Math.max(y1, p.y);
    }
  }
  if (x0 === Infinity) return undefined;
  const m = style.maxWidth / 2;
  return { x: x0 - m, y: y0 - m, width: x1 - x0 + 2 * m, height: y1 - y0 + 2 * m };
}

/** Total length of the ink path in reference units. */
export function inkLength(strokes: InkStroke[]): number {
  let n = 0;
  for (const s of strokes) {
    for (let i = 1; i < s.points.length; i++) n += Math.hypot(s.points[i]!.x - s.points[i - 1]!.x, s.points[i]!.y - s.points[i - 1]!.y);
  }
  return n;
}

/**
 * Too little to be a signature: under 60 px of ink, or ink inside a 20 px square (a dot, a tick).
 * Deliberately lenient: it stops accidental taps, not short names.
 */
export function isTrivial(strokes: InkStroke[]): boolean {
  const b = inkBounds(strokes, { color: '', minWidth: 0, maxWidth: 0 });
  return !b || inkLength(strokes) < 60 || (b.width < 20 && b.height < 20);
}

/** Line width at each point of a stroke. */
export function strokeWidths(stroke: InkStroke, style: InkStyle): number[] {
  const { minWidth: lo, maxWidth: hi } = style;
  const usePressure = stroke.pointerType === 'pen' && stroke.points.some((p) => p.pressure > 0 && p.pressure !== 0.5);
  const widths: number[] = [];
  let v = 0;
  let w = (lo + hi) / 2;
  stroke.points.forEach((p, i) => {
    if (usePressure) {
      w = lo + (hi - lo) * Math.min(1, Math.max(0, p.pressure));
    } else if (i > 0) {
      const q = stroke.points[i - 1]!;
      const dt = Math.max(1, p.t - q.t);
      const speed = Math.hypot(p.x - q.x, p.y - q.y) / dt; // px per ms
      v = 0.7 * speed + 0.3 * v; // velocity filter
      const target = Math.max(lo, hi / (v + 1));
      w = 0.6 * target + 0.4 * w; // no sudden jumps in width
    }
    widths.push(w);
  });
  return widths;
}

/** A stroke as segments: quadratic curves from midpoint to midpoint, each with its width. */
export interface Segment {
  from: [number, number];
  control: [number, number];
  to: [number, number];
  width: number;
}

export function strokeSegments(stroke: InkStroke, style: InkStyle): Segment[] {
  const pts = stroke.points;
  const widths = strokeWidths(stroke, style);
  if (pts.length === 0) return [];
  if (pts.length === 1) {
    const p = pts[0]!;
    return [{ from: [p.x, p.y], control: [p.x, p.y], to: [p.x + 0.01, p.y], width: widths[0]! }];
  }
  const mid = (i: number): [number, number] => [(pts[i]!.x + pts[i + 1]!.x) / 2, (pts[i]!.y + pts[i + 1]!.y) / 2];
  const segs: Segment[] = [];
  // first point to the first midpoint, then midpoint to midpoint through each point, then to the end
  let prev: [number, number] = [pts[0]!.x, pts[0]!.y];
  for (let i = 1; i < pts.length - 1; i++) {
    const m = mid(i);
    segs.push({ from: prev, control: [pts[i]!.x, pts[i]!.y], to: m, width: (widths[i - 1]! + widths[i]!) / 2 });
    prev = m;
  }
  const last = pts[pts.length - 1]!;
  segs.push({ from: prev, control: prev, to: [last.x, last.y], width: widths[pts.length - 1]! });
  return segs;
}

/** Draws strokes on a 2D context already transformed to reference units. */
export function drawInk(ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D, strokes: InkStroke[], style: InkStyle): void {
  ctx.strokeStyle = style.color;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  for (const s of strokes) {
    for (const g of strokeSegments(s, style)) {
      ctx.beginPath();
      ctx.lineWidth = g.width;
      ctx.moveTo(g.from[0], g.from[1]);
      ctx.quadraticCurveTo(g.control[0], g.control[1], g.to[0], g.to[1]);
      ctx.stroke();
    }
  }
}

const r2 = (n: number) => Math.round(n * 100) / 100;

/** The strokes as an SVG document trimmed to the ink, transparent background. */
export function inkToSvg(strokes: InkStroke[], style: InkStyle, padding = 4): string {
  const b = inkBounds(strokes, style) ?? { x: 0, y: 0, width: 0, height: 0 };
  const vb = [b.x - padding, b.y - padding, b.width + 2 * padding, b.height + 2 * padding].map(r2);
  const paths: string[] = [];
  for (const s of strokes) {
    for (const g of strokeSegments(s, style)) {
      paths.push(
        `<path d="M${r2(g.from[0])} ${r2(g.from[1])}Q${r2(g.control[0])} ${r2(g.control[1])} ${r2(g.to[0])} ${r2(g.to[1])}" stroke-width="${r2(g.width)}"/>`,
      );
    }
  }
  const color = style.color.replace(/[&<>"']/g, '');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${vb.join(' ')}" width="${vb[2]}" height="${vb[3]}">` +
    `<g fill="none" stroke="${color}" stroke-linecap="round" stroke-linejoin="round">${paths.join('')}</g></svg>`
  );
}

/**
 * The transform from reference units to a box of `view` size: uniform scale so the reference box
 * fits, centred. A drawing made in portrait stays whole in landscape and back.
 */
export function fitTransform(ref: Box, view: Box): { scale: number; dx: number; dy: number } {
  if (!ref.width || !ref.height || !view.width || !view.height) return { scale: 1, dx: 0, dy: 0 };
  const scale = Math.min(view.width / ref.width, view.height / ref.height);
  return { scale, dx: (view.width - ref.width * scale) / 2, dy: (view.height - ref.height * scale) / 2 };
}
