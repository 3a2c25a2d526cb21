import { sendKeys, sendMouse, setViewport, resetMouse } from '@web/test-runner-commands';
import { signerFromCryptoKey, type Signer } from '@sidian/core';
import { expect, rejection } from '../test-support/expect';
import { afterEach, before, beforeEach, describe, it } from '../test-support/mocha';
import { axeViolations, centre, cleanup, fixture, fixtureUrl, loadFixturePdf, testIdentity, until, verifyInNode } from '../test-support/helpers';
import './define';
import { sealPng, sealSvg } from './seal-image';
import type { SealPlacer, SealPlacement } from './seal-placer';

const MM = 72 / 25.4;

let sealImage: Uint8Array;
let signer: Signer;

async function placer(attrs = '', pdf = 'classic-1.3'): Promise<SealPlacer> {
  const el = await fixture<SealPlacer>(`<seal-placer src="${fixtureUrl(pdf)}" style="width:640px;--sidian-viewer-height:900px" ${attrs}></seal-placer>`);
  el.sealImage = sealImage;
  await until(() => el.state === 'loaded', `${pdf} loaded (state ${el.state})`);
  await until(() => !!el.shadowRoot!.querySelector('.pdf-page'), 'pages');
  await (el as unknown as { view: { rendered(): Promise<void> } }).view.rendered();
  return el;
}

const seal = (el: SealPlacer) => el.shadowRoot!.querySelector<HTMLElement>('.seal')!;
const pageEl = (el: SealPlacer, i: number) => el.shadowRoot!.querySelectorAll<HTMLElement>('.pdf-page')[i]!;
/** CSS px per point on page i. */
const pxPerPt = (el: SealPlacer, i = 0) => pageEl(el, i).getBoundingClientRect().width / pageSizeOf(el, i).width;
const pageSizeOf = (el: SealPlacer, i: number) => (el as unknown as { pageSizes: { width: number; height: number }[] }).pageSizes[i]!;

async function noAxeViolations(el: Element, state: string) {
  const v = await axeViolations(el);
  if (v.length) throw new Error(`axe (${state}): ${v.join('\n')}`);
}

function lastEvent<T>(el: Element, type: string): { get: () => T | undefined; count: () => number } {
  let last: T | undefined;
  let n = 0;
  el.addEventListener(type, (e) => {
    last = (e as CustomEvent<T>).detail;
    n++;
  });
  return { get: () => last, count: () => n };
}

describe('<seal-placer>', () => {
  before(async () => {
    await setViewport({ width: 1000, height: 1000 });
    sealImage = await sealPng({ name: '四电市数据管理局', purpose: '合同专用章', code: '3301000012345' }, 400);
    const id = await testIdentity('seal');
    signer = signerFromCryptoKey(id.key, id.certificate, id.chain);
  });
  beforeEach(() => resetMouse());
  afterEach(cleanup);

  it('draws a standard round seal as SVG and PNG', async () => {
    const svg = await sealSvg({
      name: '四电市数据管理局',
      purpose: '合同专用章',
      code: '3301000012345',
      color: '#a00"',
    });
    expect(svg).toContain('<svg');
    // the characters are outlines (seal-text.test.ts), the colour escaped
    expect(svg).toContain('fill="#a00&#34;"');
    expect(svg.match(/<path /g)!.length).toBe(1 + 8 + 5 + 13);
    expect([...sealImage.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    const bmp = await createImageBitmap(new Blob([sealImage as Uint8Array<ArrayBuffer>]));
    expect(bmp.width).toBe(400);
    // transparent corners, red ink on the rim
    const c = new OffscreenCanvas(400, 400).getContext('2d')!;
    c.drawImage(bmp, 0, 0);
    expect(c.getImageData(2, 2, 1, 1).data[3]).toBe(0);
    const rim = c.getImageData(200, 4, 1, 1).data;
    expect(rim[0]).toBeGreaterThan(150);
    expect(rim[1]).toBeLessThan(60);
  });

  it('empty: says so, seal() rejects NO_DOCUMENT, no axe violations', async () => {
    const el = await fixture<SealPlacer>('<seal-placer></seal-placer>');
    expect(el.state).toBe('empty');
    // pdf.js is loaded only once a document is shown
    const pdfjsLoaded = () => performance.getEntriesByType('resource').some((r) => r.name.includes('/pdfjs-dist/build/'));
    expect(pdfjsLoaded()).toBe(false);
    expect(el.shadowRoot!.textContent).toContain('尚未载入文档');
    await noAxeViolations(el, 'empty');
    const err = await rejection(el.seal());
    expect(err.code).toBe('NO_DOCUMENT');
    expect(el.state).toBe('error');
    expect(el.shadowRoot!.querySelector('[role=alert]')!.textContent).toContain('没有可盖章的文档');
    await noAxeViolations(el, 'error');
  });

  it('loads a document, fits it to the width and shows the seal at its real size', async () => {
    const el = await placer();
    await noAxeViolations(el, 'loaded');
    // the worker comes from our own server, not a CDN
    const worker = performance.getEntriesByType('resource').find((r) => r.name.includes('pdf.worker'));
    expect(worker?.name).toBe(new URL('/node_modules/pdfjs-dist/build/pdf.worker.min.mjs', location.href).href);
    const changes = lastEvent<{ placements: SealPlacement[] }>(el, 'placement-change');
    const placements = el.place();
    expect(placements.length).toBe(1);
    expect(changes.count()).toBe(1);
    const p = placements[0]!;
    expect(p.page).toBe(1);
    expect(p.width).toBeCloseTo(42 * MM, 0.01);
    expect(p.height).toBeCloseTo(42 * MM, 0.01);
    // default: bottom right, 36 pt margins
    expect(p.x + p.width).toBeCloseTo(pageSizeOf(el, 0).width - 36, 0.02);
    expect(p.y).toBeCloseTo(36, 0.02);
    await el.updateComplete;
    expect(el.state).toBe('placed');
    // on screen: 42 mm at the view's scale
    expect(seal(el).getBoundingClientRect().width).toBeCloseTo(42 * MM * pxPerPt(el), 1);
    await noAxeViolations(el, 'placed');
    el.setAttribute('seal-size', '40');
    await el.updateComplete;
    expect(el.placements[0]!.width).toBeCloseTo(40 * MM, 0.01);
  });

  it('a pointer drag moves the seal; a click places it', async () => {
    const el = await placer();
    el.place();
    await el.updateComplete;
    const before = el.placements[0]!;
    const scale = pxPerPt(el);
    const [sx, sy] = centre(seal(el));
    await sendMouse({ type: 'move', position: [sx, sy] });
    await sendMouse({ type: 'down' });
    await sendMouse({ type: 'move', position: [sx - 60, sy - 40] });
    await sendMouse({ type: 'move', position: [sx - 100, sy - 80] });
    await sendMouse({ type: 'up' });
    const after = el.placements[0]!;
    expect(after.x).toBeCloseTo(before.x - 100 / scale, 0.6);
    expect(after.y).toBeCloseTo(before.y + 80 / scale, 0.6);
    // dragging far beyond the page keeps the seal on the page
    const [cx, cy] = centre(seal(el));
    await sendMouse({ type: 'move', position: [cx, cy] });
    await sendMouse({ type: 'down' });
    await sendMouse({ type: 'move', position: [cx + 900, cy + 900] });
    await sendMouse({ type: 'up' });
    const clamped = el.placements[0]!;
    expect(clamped.x + clamped.width).toBeCloseTo(pageSizeOf(el, 0).width, 0.02);
    expect(clamped.y).toBeCloseTo(0, 0.01);
    // click: the seal's centre goes to the spot
    const r = pageEl(el, 0).getBoundingClientRect();
    await sendMouse({ type: 'click', position: [Math.round(r.left + 200), Math.round(r.top + 300)] });
    const clicked = el.placements[0]!;
    expect(clicked.x + clicked.width / 2).toBeCloseTo(200 / scale, 0.6);
    expect(pageSizeOf(el, 0).height - (clicked.y + clicked.height / 2)).toBeCloseTo(300 / scale, 0.6);
  });

  it('arrow keys move the seal by 1 mm, with Shift by 10 mm; PageDown changes page', async () => {
    const el = await placer('', 'five-pages');
    el.place();
    await el.updateComplete;
    const start = el.placements[0]!;
    seal(el).focus();
    await sendKeys({ press: 'ArrowLeft' });
    expect(el.placements[0]!.x).toBeCloseTo(start.x - MM, 0.01);
    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'ArrowUp' });
    await sendKeys({ up: 'Shift' });
    expect(el.placements[0]!.y).toBeCloseTo(start.y + 10 * MM, 0.01);
    await sendKeys({ press: 'ArrowDown' });
    expect(el.placements[0]!.y).toBeCloseTo(start.y + 9 * MM, 0.01);
    await sendKeys({ press: 'PageDown' });
    await el.updateComplete;
    expect(el.placements[0]!.page).toBe(2);
    await until(() => el.shadowRoot!.activeElement?.classList.contains('seal') === true, 'focus kept on the seal');
    expect(el.shadowRoot!.querySelector('.announce')!.textContent).toContain('第 2 页');
  });

  it('typed coordinates set .placements; off-page values are refused with a reason', async () => {
    const el = await placer('', 'five-pages');
    const form = el.shadowRoot!.querySelector<HTMLFormElement>('form.coordinates')!;
    const input = (n: string) => form.elements.namedItem(n) as HTMLInputElement;
    input('page').value = '3';
    input('x').value = '100';
    input('y').value = '150.5';
    form.requestSubmit();
    await el.updateComplete;
    const p = el.placements[0]!;
    expect([p.page, p.x, p.y]).toEqual([3, 100, 150.5]);
    expect(p.width).toBeCloseTo(42 * MM, 0.01);
    input('x').value = '590';
    form.requestSubmit();
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[role=alert]')!.textContent).toContain('超出页面');
    el.signer = signer;
    const err = await rejection(el.seal());
    expect(err.code).toBe('PLACEMENT_OFF_PAGE');
    await noAxeViolations(el, 'error: off page');
    // the property too
    el.placements = [{ page: 9, x: 10, y: 10, width: 50, height: 50 }];
    expect((await rejection(el.seal())).code).toBe('PLACEMENT_OFF_PAGE');
    el.placements = [{ page: 2, x: 10, y: 20, width: 50, height: 50 }];
    expect(el.placements).toEqual([{ page: 2, x: 10, y: 20, width: 50, height: 50 }]);
  });

  it('every-page and seam (骑缝章) modes: placements per page and a strip preview on each page', async () => {
    const el = await placer('mode="every-page"', 'five-pages');
    el.place();
    await el.updateComplete;
    expect(el.placements.length).toBe(5);
    expect(new Set(el.placements.map((p) => `${p.x},${p.y}`)).size).toBe(1);
    expect(el.shadowRoot!.querySelectorAll('.seal').length).toBe(5);
    el.mode = 'seam';
    await el.updateComplete;
    const strips = el.placements;
    expect(strips.length).toBe(5);
    const full = 42 * MM;
    strips.forEach((s, i) => {
      expect(s.page).toBe(i + 1);
      expect(s.width).toBeCloseTo(full / 5, 0.01);
      expect(s.x + s.width).toBeCloseTo(pageSizeOf(el, i).width, 0.01);
    });
    const previews = [...el.shadowRoot!.querySelectorAll<HTMLElement>('.strip')];
    expect(previews.length).toBe(5);
    const scale = pxPerPt(el);
    previews.forEach((strip, i) => {
      const r = strip.getBoundingClientRect();
      const pr = pageEl(el, i).getBoundingClientRect();
      expect(r.width).toBeCloseTo((full / 5) * scale, 1);
      expect(r.right).toBeCloseTo(pr.right, 1);
      // strip i shows the i-th fifth of the seal
      const img = strip.querySelector('img')!.getBoundingClientRect();
      expect(img.width).toBeCloseTo(full * scale, 1);
      expect(r.left - img.left).toBeCloseTo(i * (full / 5) * scale, 1);
    });
    await noAxeViolations(el, 'seam placed');
    // keyboard: only vertical moves
    const y0 = strips[0]!.y;
    previews[0]!.focus();
    await sendKeys({ press: 'ArrowUp' });
    await sendKeys({ press: 'ArrowLeft' });
    expect(el.placements[0]!.y).toBeCloseTo(y0 + MM, 0.01);
    expect(el.placements[0]!.x + el.placements[0]!.width).toBeCloseTo(pageSizeOf(el, 0).width, 0.01);
  });

  it('seal() errors: no signer, no seal image, no placement, busy', async () => {
    const el = await placer();
    expect((await rejection(el.seal())).code).toBe('NO_SIGNER');
    expect(el.shadowRoot!.querySelector('[role=alert]')!.textContent).toContain('没有签章密钥');
    // the developer's reason (set .signer) is behind 技术详情, not in the citizen's sentence
    expect(el.shadowRoot!.querySelector('[role=alert]')!.textContent).not.toContain('signer');
    expect(el.shadowRoot!.querySelector('details[part~=technical]')!.textContent).toContain(
      'NO_SIGNER: no signer',
    );
    el.signer = signer;
    expect((await rejection(el.seal())).code).toBe('NO_PLACEMENT');
    el.place();
    el.sealImage = undefined;
    await el.updateComplete;
    expect((await rejection(el.seal())).code).toBe('NO_SEAL_IMAGE');
    el.sealImage = sealImage;
    await until(() => !!el.shadowRoot!.querySelector('.seal'), 'seal preview');
    const first = el.seal();
    expect((await rejection(el.seal())).code).toBe('BUSY');
    await first;
    expect(el.state).toBe('sealed');
    el.disabled = true;
    await el.updateComplete;
    expect((await rejection(el.seal())).code).toBe('DISABLED');
  });

  it('bad documents: unreachable, not a PDF, encrypted', async () => {
    for (const [name, code, text] of [
      ['does-not-exist', 'FETCH_FAILED', '无法下载'],
      ['not-a-pdf', 'PDF_NOT_PDF', '不是 PDF'],
      ['encrypted', 'PDF_ENCRYPTED', '已加密'],
    ] as const) {
      const el = await fixture<SealPlacer>(`<seal-placer src="${fixtureUrl(name)}"></seal-placer>`);
      await until(() => el.state === 'error', `${name}: error state`);
      expect(el.shadowRoot!.querySelector('[role=alert]')!.textContent).toContain(text);
      el.signer = signer;
      expect((await rejection(el.seal())).code).toBe('NO_DOCUMENT');
      await noAxeViolations(el, `error: ${code}`);
      cleanup();
    }
    // the engine's own code reaches the caller too
    const el = await fixture<SealPlacer>('<seal-placer></seal-placer>');
    el.document = await loadFixturePdf('encrypted');
    await until(() => el.state === 'error', 'encrypted via .document');
  });

  it('seals (single, on a rotated page): sealed event, form value, verifies in pdfsig and Sidian', async () => {
    const form = await fixture<HTMLFormElement>(`<form><seal-placer name="sealed-pdf" required src="${fixtureUrl('rotated')}" reason="同意" location="四电市"></seal-placer></form>`);
    const el = form.querySelector('seal-placer')!;
    el.sealImage = sealImage;
    el.signer = signer;
    await until(() => el.state === 'loaded', 'loaded');
    expect(el.checkValidity()).toBe(false);
    expect(el.validity.valueMissing).toBe(true);
    el.placements = [{ page: 2, x: 300, y: 100, width: 42 * MM, height: 42 * MM }];
    const sealed = lastEvent<{ pdf: Uint8Array; sha256: string }>(el, 'sealed');
    const pending = el.seal();
    await el.updateComplete;
    expect(el.state).toBe('sealing');
    await noAxeViolations(el, 'sealing');
    const pdf = await pending;
    expect(sealed.get()!.pdf).toBe(pdf);
    expect(sealed.get()!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(el.state).toBe('sealed');
    expect(el.checkValidity()).toBe(true);
    const file = new FormData(form).get('sealed-pdf') as File;
    expect(file.type).toBe('application/pdf');
    expect(file.size).toBe(pdf.length);
    expect(file.name).toBe('rotated-sealed.pdf');
    await noAxeViolations(el, 'sealed');
    const v = await verifyInNode('seal-placer-single-rotated', pdf);
    expect(v.pdfsig.stdout).toContain('Signature is Valid');
    expect(v.report.status).toBe('valid');
    expect(v.report.signatures.length).toBe(1);
    form.reset();
    expect(el.checkValidity()).toBe(false);
  });

  it('done state: after a seal the button says 已盖章 and is disabled, a second seal() is refused in Chinese; reset() or a new document re-arms', async () => {
    const el = await placer('certify="2"', 'five-pages');
    el.signer = signer;
    el.place();
    const first = await el.seal();
    await el.updateComplete;
    const button = el.shadowRoot!.querySelector<HTMLButtonElement>('[part~=seal-button]')!;
    expect(el.state).toBe('sealed');
    expect(button.disabled).toBe(true);
    expect(button.textContent!.trim()).toBe('已盖章');
    // clicking the page, place() and .placements do not re-arm it
    pageEl(el, 0).querySelector<HTMLElement>('.overlay')!.click();
    expect(el.place()).toEqual([]);
    el.placements = [{ page: 1, x: 100, y: 100, width: 100, height: 100 }];
    expect(el.placements).toEqual([]);
    expect(el.state).toBe('sealed');
    const again = await rejection(el.seal());
    expect(again.code).toBe('ALREADY_SEALED');
    await el.updateComplete;
    const status = el.shadowRoot!.querySelector('[part=status]')!.textContent!.trim();
    expect(status).toContain('已盖章');
    expect(status).not.toContain('请先放置印章');
    expect(status).not.toMatch(/[A-Za-z]{3,}/);
    el.lang = 'en';
    await el.updateComplete;
    expect(button.textContent!.trim()).toBe('Sealed');
    el.removeAttribute('lang');
    // reset(): a further seal on the sealed file; certifying it again is refused in Chinese (not the engine's English)
    el.reset();
    await el.updateComplete;
    expect(el.state).toBe('loaded');
    expect(el.document).toBe(first);
    expect(button.disabled).toBe(false);
    expect(button.textContent!.trim()).toBe('盖章');
    el.place();
    const certifyAgain = await rejection(el.seal());
    expect(certifyAgain.code).toBe('SIGN_CERTIFY_NOT_FIRST');
    await el.updateComplete;
    const refused = el.shadowRoot!.querySelector('[part=status]')!.textContent!.trim();
    expect(refused).toContain('认证');
    expect(refused).not.toMatch(/[A-Za-z]{3,}/);
    // a new document re-arms too
    el.removeAttribute('certify');
    el.document = await loadFixturePdf('five-pages');
    await until(
      () => el.state === 'loaded' || el.state === 'placed',
      `new document loaded (state ${el.state})`,
    );
    el.place();
    await el.seal();
    expect(el.state).toBe('sealed');
  });

  it('seals a seam seal across five pages and then every page; both verify', async () => {
    const el = await placer('mode="seam"', 'five-pages');
    el.signer = signer;
    el.place();
    const seam = await el.seal();
    const v1 = await verifyInNode('seal-placer-seam', seam);
    expect(v1.pdfsig.stdout).toContain('Signature is Valid');
    expect(v1.report.status).toBe('valid');
    // a second seal on the sealed document (a new revision): only after reset()
    el.reset();
    el.mode = 'every-page';
    await el.updateComplete;
    el.place();
    const both = await el.seal();
    expect(both.length).toBeGreaterThan(seam.length);
    const v2 = await verifyInNode('seal-placer-seam-every-page', both);
    expect(v2.report.status).toBe('valid');
    expect(v2.report.signatures.length).toBe(2);
    // pdfsig lists every widget (5 strips, 5 page seals) under its field's name: named by role, numbered when taken
    expect([...new Set(v2.pdfsig.stdout.match(/Field Name: \S+/g))]).toEqual(['Field Name: department-seal', 'Field Name: department-seal-2']);
    expect(v2.report.signatures.map((s) => s.field)).toEqual(['department-seal', 'department-seal-2']);
    expect((v2.pdfsig.stdout.match(/Signature is Valid/g) ?? []).length).toBe(10);
    expect(v2.pdfsig.stdout.includes('Invalid')).toBe(false);
  });

  it('page navigation and zoom buttons', async () => {
    const el = await placer('style="width:640px;--sidian-viewer-height:400px"', 'five-pages');
    const button = (label: string) => el.shadowRoot!.querySelector<HTMLButtonElement>(`button[aria-label="${label}"]`)!;
    expect(button('上一页').disabled).toBe(true);
    button('下一页').click();
    await until(() => (el as unknown as { view: { currentPage: number } }).view.currentPage === 2, 'page 2');
    const width = pageEl(el, 0).getBoundingClientRect().width;
    button('放大').click();
    await el.updateComplete;
    expect(pageEl(el, 0).getBoundingClientRect().width).toBeCloseTo(width * 1.25, 1);
    expect(el.shadowRoot!.textContent).toContain('缩放 125%');
    const input = el.shadowRoot!.querySelector<HTMLInputElement>('.pdf-page-entry input')!;
    input.value = '4';
    input.dispatchEvent(new Event('change'));
    await until(() => (el as unknown as { view: { currentPage: number } }).view.currentPage === 4, 'page 4');
    await noAxeViolations(el, 'zoomed');
  });

  it('English UI and axe in English', async () => {
    const el = await placer('lang="en"');
    expect(el.shadowRoot!.textContent).toContain('Place seal');
    el.place();
    await el.updateComplete;
    expect(seal(el).getAttribute('aria-label')).toContain('Seal on page 1');
    await noAxeViolations(el, 'en placed');
  });
});
