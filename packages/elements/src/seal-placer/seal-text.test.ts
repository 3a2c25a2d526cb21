import { signerFromCryptoKey } from '@sidian/core';
import { expect, rejection } from '../test-support/expect';
import { afterEach, describe, it } from '../test-support/mocha';
import { cleanup, fixture, fixtureUrl, inkInNode, testIdentity, until } from '../test-support/helpers';
import { configureGlyphs, type GlyphMissingError } from '../shared/glyphs';
import './define';
import { sealPng, sealSvg } from './seal-image';
import type { SealPlacer } from './seal-placer';

const MM = 72 / 25.4;
/** The band of the 200-unit seal where the middle of the department's name arches (below the rim, above the star). */
const NAME_BAND = { x: 60, y: 18, width: 80, height: 27 };

/** Pixels with ink (alpha > 128) inside a rectangle of the 200-unit seal drawn at `size` px. */
async function inkInSeal(png: Uint8Array, size: number, r = NAME_BAND): Promise<number> {
  const bmp = await createImageBitmap(new Blob([png as Uint8Array<ArrayBuffer>]));
  const c = new OffscreenCanvas(size, size).getContext('2d')!;
  c.drawImage(bmp, 0, 0);
  const k = size / 200;
  const data = c.getImageData(r.x * k, r.y * k, r.width * k, r.height * k).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i]! > 128) n++;
  return n;
}

describe('seal text comes from the font that ships with Sidian', () => {
  afterEach(cleanup);

  it('draws the characters as outlines: ink where the name is, whatever fonts the page has', async () => {
    const options = {
      name: '四电市数据管理局',
      purpose: '合同专用章',
      code: '3301000012345',
      fontFamily: 'No Such Face, NoSuchFace2',
    };
    const svg = await sealSvg(options);
    // no text left to a font: every character is a path
    expect(svg.includes('<text')).toBe(false);
    expect(svg.includes('font-family')).toBe(false);
    expect(svg.match(/<path /g)!.length).toBe(1 + 8 + 5 + 13); // star, name, purpose, code
    const withName = await inkInSeal(await sealPng(options, 400), 400);
    const without = await inkInSeal(await sealPng({ ...options, name: '' }, 400), 400);
    expect(without).toBe(0);
    // the three middle characters of the name cover a good part of the band (measured ~1/4)
    expect(withName).toBeGreaterThan((80 * 27 * 4) / 10);
  });

  it('a character the font lacks is a GLYPH_MISSING error naming it, before anything is drawn', async () => {
    const err = (await rejection(
      sealPng({ name: '四电\uE000市数据局', purpose: '专用\u{10FFFD}章' }),
    )) as GlyphMissingError;
    expect(err.code).toBe('GLYPH_MISSING');
    expect(err.characters).toEqual(['\uE000', '\u{10FFFD}']);
    expect(err.message).toContain('U+E000');
    expect(err.message).toContain('U+10FFFD');
    expect((await rejection(sealSvg({ name: '\uE001' }))).code).toBe('GLYPH_MISSING');
    // outlines not served where the elements look: a fetch error that says so, not "missing characters"
    configureGlyphs({ glyphsBase: '/no-glyphs-here/' });
    try {
      const e = await rejection(sealSvg({ name: '四电' }));
      expect(e.code).toBe('FETCH_FAILED');
      expect(e.message).toContain('/no-glyphs-here/index.json');
    } finally {
      configureGlyphs({ glyphsBase: undefined });
    }
  });

  it('the signed PDF shows the name in pdftoppm and mutool', async () => {
    const id = await testIdentity('seal');
    const signer = signerFromCryptoKey(id.key, id.certificate, id.chain);
    const placement = { page: 1, x: 300, y: 100, width: 42 * MM, height: 42 * MM };
    const k = placement.width / 200;
    const band = {
      x: placement.x + NAME_BAND.x * k,
      y: placement.y + placement.height - (NAME_BAND.y + NAME_BAND.height) * k,
      width: NAME_BAND.width * k,
      height: NAME_BAND.height * k,
    };
    const ink: Record<string, { pdftoppm: number[]; mutool: number[] }> = {};
    for (const name of ['四电市数据管理局', '']) {
      const el = await fixture<SealPlacer>(`<seal-placer src="${fixtureUrl('classic-1.3')}"></seal-placer>`);
      el.sealImage = await sealPng({ name, purpose: '合同专用章', fontFamily: 'NoSuchFace' }, 600);
      el.signer = signer;
      await until(() => el.state === 'loaded', 'loaded');
      el.placements = [placement];
      ink[name || 'none'] = await inkInNode(`seal-text-${name ? 'name' : 'none'}`, await el.seal(), 1, [
        band,
      ]);
      cleanup();
    }
    for (const tool of ['pdftoppm', 'mutool'] as const) {
      expect(ink.none![tool][0]).toBe(0);
      // the band is ~27 x 9 pt = ~970 px at 144 dpi; the characters' strokes cover a good part of it
      expect(ink['四电市数据管理局']![tool][0]).toBeGreaterThan(150);
    }
  });
});
