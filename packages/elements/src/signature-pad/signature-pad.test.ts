import { resetMouse, sendKeys, sendMouse, setViewport } from '@web/test-runner-commands';
import { signerFromCryptoKey, type Signer } from '@sidian/core';
import { expect, rejection } from '../test-support/expect';
import { afterEach, before, beforeEach, describe, it } from '../test-support/mocha';
import { axeViolations, cleanup, fixture, fixtureUrl, loadFixturePdf, sleep, testIdentity, until, verifyInNode } from '../test-support/helpers';
import './define';
import { isTrivial, strokeWidths, type InkStroke } from './ink';
import type { SignaturePad } from './signature-pad';

let signer: Signer;

async function pad(attrs = '', style = 'width:400px;--sidian-pad-height:200px'): Promise<SignaturePad> {
  const el = await fixture<SignaturePad>(`<signature-pad style="${style}" ${attrs}></signature-pad>`);
  await sleep(50); // first paint sizes the canvas
  return el;
}

const canvasOf = (el: SignaturePad) => el.shadowRoot!.querySelector('canvas')!;
const padRect = (el: SignaturePad) => el.shadowRoot!.querySelector('.pad')!.getBoundingClientRect();

/** Writes a zigzag "signature" with the real mouse (trusted pointer events through DevTools). */
async function scribble(el: SignaturePad, from = 0.15, to = 0.85) {
  const r = padRect(el);
  const y = r.top + r.height * 0.5;
  await sendMouse({ type: 'move', position: [Math.round(r.left + r.width * from), Math.round(y)] });
  await sendMouse({ type: 'down' });
  const steps = 16;
  for (let i = 1; i <= steps; i++) {
    const x = r.left + r.width * (from + ((to - from) * i) / steps);
    await sendMouse({ type: 'move', position: [Math.round(x), Math.round(y + (i % 2 ? -40 : 40))] });
  }
  await sendMouse({ type: 'up' });
}

/** A synthetic pointer stroke (pen or touch) with pressure; `coalesced` adds coalesced events to each move. */
function syntheticStroke(el: SignaturePad, pointerType: string, points: [number, number, number][], coalesced = 0) {
  const canvas = canvasOf(el);
  const r = padRect(el);
  const ev = (type: string, [x, y, p]: [number, number, number]) =>
    new PointerEvent(type, { pointerId: 7, pointerType, clientX: r.left + x, clientY: r.top + y, pressure: p, button: 0, buttons: 1, bubbles: true, composed: true });
  canvas.dispatchEvent(ev('pointerdown', points[0]!));
  for (const pt of points.slice(1)) {
    const move = ev('pointermove', pt);
    if (coalesced) {
      const extra = Array.from({ length: coalesced }, (_, k) => ev('pointermove', [pt[0] - (coalesced - k) * 2, pt[1], pt[2]]));
      Object.defineProperty(move, 'getCoalescedEvents', { value: () => [...extra, move] });
    }
    canvas.dispatchEvent(move);
  }
  canvas.dispatchEvent(ev('pointerup', points[points.length - 1]!));
}

/** Alpha of the canvas at a point in CSS px of the pad. */
function inkAt(el: SignaturePad, x: number, y: number, radius = 3): number {
  const c = canvasOf(el);
  const dpr = devicePixelRatio;
  const data = c.getContext('2d')!.getImageData(Math.round((x - radius) * dpr), Math.round((y - radius) * dpr), Math.round(2 * radius * dpr), Math.round(2 * radius * dpr)).data;
  let max = 0;
  for (let i = 3; i < data.length; i += 4) max = Math.max(max, data[i]!);
  return max;
}

async function noAxeViolations(el: Element, state: string) {
  const v = await axeViolations(el);
  if (v.length) throw new Error(`axe (${state}): ${v.join('\n')}`);
}

describe('<signature-pad>', () => {
  before(async () => {
    await setViewport({ width: 1000, height: 800 });
    const id = await testIdentity('citizen');
    signer = signerFromCryptoKey(id.key, id.certificate, id.chain);
  });
  beforeEach(() => resetMouse());
  afterEach(cleanup);

  it('empty: isEmpty, no value, no axe violations; sign() without a document rejects', async () => {
    const el = await pad();
    expect(el.isEmpty()).toBe(true);
    expect(el.strokes).toEqual([]);
    await noAxeViolations(el, 'empty');
    expect((await rejection(el.sign())).code).toBe('NO_DOCUMENT');
    expect(el.shadowRoot!.querySelector('[role=alert]')!.textContent).toContain('没有要签署的文档');
    await noAxeViolations(el, 'error');
  });

  it('draws with the mouse: a stroke with time and pressure, a change event, undo and clear', async () => {
    const el = await pad();
    let changes = 0;
    el.addEventListener('change', () => changes++);
    await scribble(el);
    expect(changes).toBe(1);
    const strokes = el.strokes;
    expect(strokes.length).toBe(1);
    expect(strokes[0]!.pointerType).toBe('mouse');
    expect(strokes[0]!.points.length).toBeGreaterThan(10);
    const p0 = strokes[0]!.points[0]!;
    expect(Math.abs(p0.t - Date.now())).toBeLessThan(60_000);
    expect(p0.pressure >= 0 && p0.pressure <= 1).toBe(true);
    expect(p0.x).toBeCloseTo(padRect(el).width * 0.15, 1);
    await until(() => inkAt(el, 200, 100, 45) > 0, 'ink on the canvas');
    expect(el.isEmpty()).toBe(false);
    await noAxeViolations(el, 'drawn');
    await scribble(el, 0.2, 0.5);
    expect(el.strokes.length).toBe(2);
    el.undo();
    expect(el.strokes.length).toBe(1);
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('.announce')!.textContent).toContain('撤销');
    el.clear();
    expect(el.isEmpty()).toBe(true);
    expect(changes).toBe(4);
  });

  it('pen pressure sets the width; touch works; coalesced events are all kept', async () => {
    const el = await pad();
    syntheticStroke(el, 'pen', [[20, 100, 0.1], [60, 90, 0.2], [100, 80, 0.9], [140, 90, 1], [180, 100, 1]]);
    const pen = el.strokes[0]!;
    expect(pen.pointerType).toBe('pen');
    expect(pen.points.map((p) => p.pressure)).toEqual([0.1, 0.2, 0.9, 1, 1]);
    const w = strokeWidths(pen, { color: '', minWidth: 1, maxWidth: 5 });
    expect(w[0]!).toBeCloseTo(1.4, 0.01);
    expect(w[4]!).toBeCloseTo(5, 0.01);
    syntheticStroke(el, 'touch', [[20, 150, 0], [80, 160, 0], [140, 150, 0], [200, 160, 0]], 3);
    const touch = el.strokes[1]!;
    expect(touch.pointerType).toBe('touch');
    // 1 down + 3 moves × (3 coalesced + the event) + up (same point as the last move: skipped)
    expect(touch.points.length).toBe(13);
    // velocity: a fast stroke is thinner than a slow one
    const slow: InkStroke = { pointerType: 'mouse', points: [0, 1, 2, 3].map((i) => ({ x: i * 2, y: 0, t: i * 50, pressure: 0.5 })) };
    const fast: InkStroke = { pointerType: 'mouse', points: [0, 1, 2, 3].map((i) => ({ x: i * 60, y: 0, t: i * 5, pressure: 0.5 })) };
    const style = { color: '', minWidth: 0.5, maxWidth: 4 };
    expect(strokeWidths(fast, style)[3]!).toBeLessThan(strokeWidths(slow, style)[3]!);
  });

  it('keeps the drawing through a resize and a rotation (strokes unchanged, redrawn to fit)', async () => {
    const el = await pad();
    await scribble(el);
    const before = JSON.stringify(el.strokes);
    const box = el.strokeBox;
    expect(box.width).toBeCloseTo(400 - 2 * 8, 1); // the pad sits inside 8 px margins
    // the ink's middle (x = 50% of the pad) before the resize
    await until(() => inkAt(el, box.width / 2, 100, 40) > 0, 'ink before');
    el.style.width = '800px';
    await until(() => Math.abs(padRect(el).width - 784) < 1, 'wider');
    await sleep(100);
    expect(JSON.stringify(el.strokes)).toBe(before);
    // height is the limit (200 px): same scale, centred horizontally
    expect(inkAt(el, 784 / 2, 100, 40)).toBeGreaterThan(0);
    expect(inkAt(el, 40, 100, 20)).toBe(0);
    // "rotate": narrow and tall; scaled down by 184/384, centred vertically
    el.style.width = '200px';
    el.style.setProperty('--sidian-pad-height', '400px');
    await until(() => Math.abs(padRect(el).width - 184) < 1, 'narrower');
    await sleep(100);
    expect(JSON.stringify(el.strokes)).toBe(before);
    expect(inkAt(el, 92, 200, 20)).toBeGreaterThan(0);
    expect(inkAt(el, 92, 30, 20)).toBe(0);
    // new strokes go into the same reference units
    await scribble(el, 0.2, 0.8);
    const s2 = el.strokes[1]!;
    expect(Math.max(...s2.points.map((p) => p.x))).toBeLessThan(box.width + 1);
  });

  it('exports a trimmed transparent PNG at a chosen resolution, SVG and stroke data', async () => {
    const el = await pad();
    await scribble(el);
    const xs = el.strokes[0]!.points.map((p) => p.x);
    const inkWidth = Math.max(...xs) - Math.min(...xs) + 3.2; // + max width
    const png = await el.toPNG({ scale: 2, padding: 4 });
    expect(png.type).toBe('image/png');
    const bmp = await createImageBitmap(png);
    expect(bmp.width).toBeCloseTo((inkWidth + 8) * 2, 2);
    const c = new OffscreenCanvas(bmp.width, bmp.height).getContext('2d')!;
    c.drawImage(bmp, 0, 0);
    expect(c.getImageData(0, 0, 1, 1).data[3]).toBe(0);
    const big = await createImageBitmap(await el.toPNG({ scale: 4 }));
    expect(big.width).toBeCloseTo(bmp.width * 2, 2);
    const svg = el.toSVG();
    expect(svg).toContain('<svg');
    expect(svg).toContain('<path d="M');
    const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
    expect(doc.querySelector('parsererror')).toBe(null);
    // stroke data round-trips
    const other = await pad();
    other.strokeBox = el.strokeBox;
    other.strokes = el.strokes;
    expect(other.toSVG()).toBe(svg);
  });

  it('required: empty and trivial scribbles are invalid; the form value is the PNG', async () => {
    const form = await fixture<HTMLFormElement>('<form><signature-pad name="sig" required style="width:400px"></signature-pad></form>');
    const el = form.querySelector('signature-pad')!;
    await sleep(50);
    expect(el.checkValidity()).toBe(false);
    expect(el.validity.valueMissing).toBe(true);
    syntheticStroke(el, 'touch', [[100, 100, 0], [104, 102, 0]]);
    expect(isTrivial(el.strokes)).toBe(true);
    expect(el.validity.customError).toBe(true);
    expect(el.validationMessage).toContain('过于简单');
    el.clear();
    await scribble(el);
    expect(el.checkValidity()).toBe(true);
    await until(() => new FormData(form).get('sig') instanceof File, 'PNG value');
    const file = new FormData(form).get('sig') as File;
    expect(file.type).toBe('image/png');
    expect(file.size).toBeGreaterThan(200);
    form.reset();
    expect(el.isEmpty()).toBe(true);
    expect(el.checkValidity()).toBe(false);
  });

  it('type mode: the keyboard path types a name; PNG and SVG of the name; axe', async () => {
    const el = await pad('mode="type"');
    await noAxeViolations(el, 'type empty');
    const input = el.shadowRoot!.querySelector('input')!;
    input.focus();
    await sendKeys({ type: 'Zhang San' });
    expect(el.typedName).toBe('Zhang San');
    expect(el.isEmpty()).toBe(false);
    await el.updateComplete;
    expect(el.toSVG()).toContain('<path transform=');
    const bmp = await createImageBitmap(await el.toPNG({ scale: 1 }));
    expect(bmp.width).toBeGreaterThan(100);
    await noAxeViolations(el, 'typed');
    // the mode buttons are reachable and pressed state is exposed
    const [drawBtn, typeBtn] = el.shadowRoot!.querySelectorAll('[aria-pressed]');
    expect(typeBtn!.getAttribute('aria-pressed')).toBe('true');
    (drawBtn as HTMLButtonElement).click();
    await el.updateComplete;
    expect(el.mode).toBe('draw');
    expect(el.isEmpty()).toBe(true);
  });

  it('signs an existing empty signature field; the signed PDF verifies in pdfsig and Sidian', async () => {
    const form = await fixture<HTMLFormElement>(`<form><signature-pad name="signed" required src="${fixtureUrl('acroform')}" field="applicant-signature" reason="申请" style="width:400px"></signature-pad></form>`);
    const el = form.querySelector('signature-pad')!;
    el.signer = signer;
    await sleep(50);
    await scribble(el);
    expect(el.validity.valueMissing).toBe(true); // drawn but not yet signed
    let detail: { pdf: Uint8Array; sha256: string } | undefined;
    el.addEventListener('signed', (e) => (detail = e.detail));
    const pdf = await el.sign();
    expect(detail!.pdf).toBe(pdf);
    expect(detail!.sha256.length).toBe(64);
    expect(el.checkValidity()).toBe(true);
    const file = new FormData(form).get('signed') as File;
    expect(file.type).toBe('application/pdf');
    expect(file.name).toBe('acroform-signed.pdf');
    await noAxeViolations(el, 'signed');
    const v = await verifyInNode('signature-pad-field', pdf);
    expect(v.pdfsig.stdout).toContain('Signature Field Name: applicant-signature');
    expect(v.pdfsig.stdout).toContain('Signature is Valid');
    expect(v.report.status).toBe('valid');
    expect(v.report.signatures[0]!.field).toBe('applicant-signature');
    // signing the same field again: the engine refuses
    el.document = pdf;
    expect((await rejection(el.sign())).code).toBe('SIGN_FIELD_EXISTS');
    expect(el.shadowRoot!.querySelector('[role=alert]')!.textContent).toContain('已经签过名');
  });

  it('done state: after sign() the button says 已签名 and is disabled, drawing is locked, a second sign() is refused; reset() re-arms', async () => {
    const el = await pad('mode="type"');
    el.document = await loadFixturePdf('classic-1.3');
    el.signer = signer;
    el.placement = { page: 1, x: 60, y: 60, width: 180, height: 60 };
    el.typedName = '张三';
    let signedEvents = 0;
    el.addEventListener('signed', () => signedEvents++);
    await el.sign();
    await el.updateComplete;
    const button = el.shadowRoot!.querySelector<HTMLButtonElement>('[part~=sign-button]')!;
    expect(el.done).toBe(true);
    expect(button.disabled).toBe(true);
    expect(button.textContent!.trim()).toBe('已签名');
    expect(el.shadowRoot!.querySelector<HTMLInputElement>('input')!.disabled).toBe(true);
    const again = await rejection(el.sign());
    expect(again.code).toBe('ALREADY_SIGNED');
    expect(signedEvents).toBe(1); // nothing signed a second time
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[role=alert]')!.textContent!.trim()).toBe(
      '文件已签名。如需重新签名，请先重置。',
    );
    el.lang = 'en';
    await el.updateComplete;
    expect(button.textContent!.trim()).toBe('Signed');
    el.removeAttribute('lang');
    el.reset();
    await el.updateComplete;
    expect(el.done).toBe(false);
    expect(el.isEmpty()).toBe(true);
    expect(button.textContent!.trim()).toBe('签名');
    el.typedName = '张三';
    await el.sign();
    expect(signedEvents).toBe(2);
    // a new document re-arms as well
    el.document = await loadFixturePdf('classic-1.3');
    expect(el.done).toBe(false);
  });

  it('signs at a placement (typed name) and verifies', async () => {
    const el = await pad('mode="type" lang="en"');
    el.document = await loadFixturePdf('classic-1.3');
    el.signer = signer;
    el.placement = { page: 1, x: 60, y: 60, width: 180, height: 60 };
    el.typedName = 'Zhang San';
    const pdf = await el.sign();
    expect(el.shadowRoot!.textContent).toContain('Signed');
    const v = await verifyInNode('signature-pad-placement', pdf);
    expect(v.pdfsig.stdout).toContain('Signature is Valid');
    expect(v.report.status).toBe('valid');
    // a new field named for the signer's role, not the engine's anonymous seal-1
    expect(v.report.signatures[0]!.field).toBe('applicant-signature');
  });

  it('sign() errors: no signer, empty, trivial, unknown field, off the page, unreachable document, busy, disabled', async () => {
    const el = await pad(`src="${fixtureUrl('acroform')}" field="applicant-signature"`);
    expect((await rejection(el.sign())).code).toBe('NO_SIGNER');
    el.signer = signer;
    expect((await rejection(el.sign())).code).toBe('SIGNATURE_EMPTY');
    expect(el.shadowRoot!.querySelector('[role=alert]')!.textContent).toContain('请先签名');
    syntheticStroke(el, 'touch', [[100, 100, 0], [103, 101, 0]]);
    expect((await rejection(el.sign())).code).toBe('SIGNATURE_TOO_SIMPLE');
    await noAxeViolations(el, 'error');
    el.clear();
    await scribble(el);
    el.field = 'no-such-field';
    expect((await rejection(el.sign())).code).toBe('SIGN_FIELD_NOT_FOUND');
    el.field = undefined;
    el.placement = { page: 1, x: 500, y: 10, width: 200, height: 50 };
    expect((await rejection(el.sign())).code).toBe('SIGN_RECT_OUTSIDE_PAGE');
    el.placement = undefined;
    el.field = 'applicant-signature';
    const first = el.sign();
    expect((await rejection(el.sign())).code).toBe('BUSY');
    await first;
    el.disabled = true;
    await el.updateComplete;
    expect((await rejection(el.sign())).code).toBe('DISABLED');
    el.disabled = false;
    el.src = fixtureUrl('does-not-exist');
    await el.updateComplete;
    expect((await rejection(el.sign())).code).toBe('FETCH_FAILED');
  });

  it('signing: busy state while the signer works, accessible', async () => {
    const el = await pad('mode="type"');
    el.document = await loadFixturePdf('classic-1.3');
    el.typedName = '张三';
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    el.signer = { ...signer, sign: async (data: Uint8Array) => (await gate, signer.sign(data)) } as Signer;
    const pending = el.sign();
    await until(() => el.shadowRoot!.querySelector('.sign-button')?.getAttribute('aria-busy') === 'true', 'busy');
    expect(el.shadowRoot!.querySelector('.status')!.textContent).toContain('正在签名');
    await noAxeViolations(el, 'signing');
    release();
    await pending;
    expect(el.shadowRoot!.querySelector('.status')!.textContent).toContain('已签名');
  });

  it('English strings and axe in English', async () => {
    const el = await pad('lang="en"');
    expect(el.shadowRoot!.textContent).toContain('Type name');
    expect(canvasOf(el).getAttribute('aria-label')).toContain('Signature area');
    await noAxeViolations(el, 'en');
  });
});
