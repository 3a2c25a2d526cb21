/**
 * Seal images become image XObjects whose decoded pixels are the PNG's: colour in the image, alpha in
 * its /SMask (RGBA and grey+alpha keep their PNG filters as PDF predictors; palettes are expanded).
 */
import { readFileSync } from 'node:fs';
import { decode, encode } from 'fast-png';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { decodeStream } from '../pdf/filters';
import { loadImage, splitPlanes } from './image';
import { PLANES_WASM } from './planes-wasm';
// @ts-expect-error a plain .mjs script without types
import { MODULES, render } from '../../../../scripts/build-wasm.mjs';

function planes(file: string) {
  const png = decode(readFileSync(file));
  const n = png.width * png.height;
  const rgba = new Uint8Array(n * 4);
  const pal = png.palette;
  for (let i = 0; i < n; i++) {
    if (pal) {
      const e = pal[png.data[i]!]!;
      rgba.set([e[0]!, e[1]!, e[2]!, e[3] ?? 255], i * 4);
    } else if (png.channels === 2) rgba.set([png.data[i * 2]!, png.data[i * 2]!, png.data[i * 2]!, png.data[i * 2 + 1]!], i * 4);
    else if (png.channels === 4) rgba.set(png.data.subarray(i * 4, i * 4 + 4) as Uint8Array, i * 4);
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

  it("a grey seal with alpha: the decoded grey image and soft mask are the PNG's pixels", async () => {
    const width = 37;
    const height = 23;
    const data = new Uint8Array(width * height * 2);
    for (let i = 0; i < width * height; i++) {
      data[i * 2] = (i * 7) & 255;
      data[i * 2 + 1] = i % 5 === 0 ? 0 : (i * 13) & 255;
    }
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sidian-ga-')), 'grey-alpha.png');
    writeFileSync(file, encode({ width, height, data, channels: 2, depth: 8 }));
    const img = await loadImage(new Uint8Array(readFileSync(file)));
    expect(img.image.dict.name('ColorSpace')).toBe('DeviceGray');
    const grey = new Uint8Array(width * height);
    const alpha = new Uint8Array(width * height);
    for (let i = 0; i < width * height; i++) [grey[i], alpha[i]] = [data[i * 2]!, data[i * 2 + 1]!];
    expect(Buffer.from(decodeStream(img.image)).equals(Buffer.from(grey))).toBe(true);
    expect(Buffer.from(decodeStream(img.smask!)).equals(Buffer.from(alpha))).toBe(true);
  });

  it('the WebAssembly plane split gives the same bytes as the JavaScript fallback, and rejects unknown filter types', () => {
    for (const channels of [2, 4] as const) {
      for (const [width, height] of [[1, 1], [3, 2], [400, 7], [129, 65]] as const) {
        const rows = new Uint8Array((width * channels + 1) * height);
        crypto.getRandomValues(rows.subarray(0, Math.min(rows.length, 65536)));
        for (let r = 0; r < height; r++) rows[r * (width * channels + 1)] = r % 5;
        const wasm = splitPlanes(rows, width, height, channels);
        const js = splitPlanes(rows, width, height, channels, false);
        expect(wasm && js).toBeTruthy();
        expect(Buffer.from(wasm!.color).equals(Buffer.from(js!.color))).toBe(true);
        expect(Buffer.from(wasm!.alpha).equals(Buffer.from(js!.alpha))).toBe(true);
        // the colour plane of pixel 0 of the last row, and its alpha
        const last = (height - 1) * (width * channels + 1) + 1;
        expect(wasm!.color[(height - 1) * (width * (channels - 1) + 1) + 1]).toBe(rows[last]);
        expect(wasm!.alpha[(height - 1) * (width + 1) + 1]).toBe(rows[last + channels - 1]);
        rows[(height - 1) * (width * channels + 1)] = 5;
        expect(splitPlanes(rows, width, height, channels)).toBeUndefined();
        expect(splitPlanes(rows, width, height, channels, false)).toBeUndefined();
      }
    }
  });

  it('the embedded WebAssembly is planes.wat as assembled by scripts/build-wasm.mjs', async () => {
    const text: string = await render(MODULES[0]);
    expect(text).toContain(`'${PLANES_WASM}'`);
  });
});
