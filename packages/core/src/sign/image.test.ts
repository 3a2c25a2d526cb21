/**
 * Seal images become image XObjects whose decoded pixels are the PNG's: colour in the image, alpha in
 * its /SMask (RGBA and grey+alpha keep their PNG filters as PDF predictors; palettes are expanded).
 */
import { readFileSync } from 'node:fs';
import { decode } from 'fast-png';
import { describe, expect, inject, it } from 'vitest';
import { decodeStream } from '../pdf/filters';
import { loadImage } from './image';

function planes(file: string) {
  const png = decode(readFileSync(file));
  const n = png.width * png.height;
  const rgba = new Uint8Array(n * 4);
  const pal = png.palette;
  for (let i = 0; i < n; i++) {
    if (pal) {
      const e = pal[png.data[i]!]!;
      rgba.set([e[0]!, e[1]!, e[2]!, e[3] ?? 255], i * 4);
    } else if (png.channels === 4) rgba.set(png.data.subarray(i * 4, i * 4 + 4) as Uint8Array, i * 4);
    else if (png.channels === 3) rgba.set([...png.data.subarray(i * 3, i * 3 + 3), 255], i * 4);
  }
  const rgb = new Uint8Array(n * 3);
  const alpha = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    rgb.set(rgba.subarray(i * 4, i * 4 + 3), i * 3);
    alpha[i] = rgba[i * 4 + 3]!;
  }
  return { width: png.width, height: png.height, rgb, alpha };
}

describe('PNG seals as image XObjects', () => {
  for (const kind of ['sealPng', 'palettePng', 'opaquePng'] as const) {
    it(`${kind}: the decoded image and soft mask are the PNG's pixels`, async () => {
      const file = inject('sealImages')[kind];
      const want = planes(file);
      const img = await loadImage(new Uint8Array(readFileSync(file)));
      expect([img.width, img.height]).toEqual([want.width, want.height]);
      expect(Buffer.from(decodeStream(img.image)).equals(Buffer.from(want.rgb))).toBe(true);
      if (want.alpha.every((a) => a === 255)) expect(img.smask).toBeUndefined();
      else expect(Buffer.from(decodeStream(img.smask!)).equals(Buffer.from(want.alpha))).toBe(true);
    });
  }
});
