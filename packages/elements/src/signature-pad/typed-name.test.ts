import { signerFromCryptoKey } from '@sidian/core';
import { expect, rejection } from '../test-support/expect';
import { afterEach, describe, it } from '../test-support/mocha';
import {
  cleanup,
  fixture,
  inkInNode,
  loadFixturePdf,
  sleep,
  testIdentity,
  until,
} from '../test-support/helpers';
import type { GlyphMissingError } from '../shared/glyphs';
import './define';
import type { SignaturePad } from './signature-pad';

/** Share of the PNG's pixels with ink (alpha > 128). */
async function coverage(png: Blob): Promise<number> {
  const bmp = await createImageBitmap(png);
  const c = new OffscreenCanvas(bmp.width, bmp.height).getContext('2d')!;
  c.drawImage(bmp, 0, 0);
  const data = c.getImageData(0, 0, bmp.width, bmp.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i]! > 128) n++;
  return n / (bmp.width * bmp.height);
}

async function typedPad(attrs = ''): Promise<SignaturePad> {
  // the page's fonts are no help: the signature font is a face that does not exist
  const el = await fixture<SignaturePad>(
    `<signature-pad mode="type" style="width:400px;--sidian-signature-font:NoSuchFace" ${attrs}></signature-pad>`,
  );
  await sleep(50);
  return el;
}

describe('<signature-pad> typed name comes from the font that ships with Sidian', () => {
  afterEach(cleanup);

  it('draws the typed name as outlines: SVG paths, ink in the PNG and the preview', async () => {
    const el = await typedPad();
    el.typedName = '张三丰';
    await el.updateComplete;
    const svg = el.toSVG();
    expect(svg.includes('<text')).toBe(false);
    expect(svg.match(/<path /g)!.length).toBe(3);
    const ink = await coverage(await el.toPNG({ scale: 1 }));
    // three bold characters in a 64 px em: well over a tenth of the box is ink
    expect(ink).toBeGreaterThan(0.1);
    const preview = el.shadowRoot!.querySelector('.preview svg')!;
    expect(preview.querySelectorAll('path').length).toBe(3);
    expect(preview.getBoundingClientRect().width).toBeGreaterThan(50);
  });

  it('a character the font lacks: GLYPH_MISSING naming it, shown at once, sign() and the form refuse', async () => {
    const form = await fixture<HTMLFormElement>(
      '<form><signature-pad name="sig" mode="type" required style="width:400px"></signature-pad></form>',
    );
    const el = form.querySelector('signature-pad')!;
    el.document = await loadFixturePdf('classic-1.3');
    const id = await testIdentity('citizen');
    el.signer = signerFromCryptoKey(id.key, id.certificate, id.chain);
    el.placement = { page: 1, x: 60, y: 60, width: 180, height: 60 };
    el.typedName = '张\uE000三';
    await el.updateComplete;
    await until(
      () => !!el.shadowRoot!.querySelector('[role=alert]')?.textContent?.includes('U+E000'),
      'error shown',
    );
    expect(el.shadowRoot!.querySelector('[role=alert]')!.textContent).toContain('内置字体中没有这些字');
    expect(el.checkValidity()).toBe(false);
    expect(el.validationMessage).toContain('U+E000');
    const err = (await rejection(el.sign())) as GlyphMissingError;
    expect(err.code).toBe('GLYPH_MISSING');
    expect(err.characters).toEqual(['\uE000']);
    expect(err.message).toContain('U+E000');
    let thrown: unknown;
    try {
      el.toSVG();
    } catch (e) {
      thrown = e;
    }
    expect((thrown as GlyphMissingError).code).toBe('GLYPH_MISSING');
    // fixing the name clears it
    el.typedName = '张三';
    await el.updateComplete;
    await until(() => el.shadowRoot!.querySelector('.status')!.textContent!.trim() === '', 'error cleared');
    expect(el.validity.customError).toBe(false);
  });

  it('the signed PDF shows the typed name in pdftoppm and mutool', async () => {
    const el = await typedPad('lang="en"');
    el.document = await loadFixturePdf('classic-1.3');
    const id = await testIdentity('citizen');
    el.signer = signerFromCryptoKey(id.key, id.certificate, id.chain);
    const placement = { page: 1, x: 60, y: 60, width: 180, height: 60 };
    el.placement = placement;
    el.typedName = '张三丰';
    const pdf = await el.sign();
    const ink = await inkInNode('signature-pad-typed-name', pdf, 1, [placement]);
    for (const tool of ['pdftoppm', 'mutool'] as const) {
      // 180 x 60 pt = 43,200 px at 144 dpi; three bold characters cover thousands of them
      expect(ink[tool][0]).toBeGreaterThan(3000);
    }
  });
});
