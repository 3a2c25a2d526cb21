import { executeServerCommand, sendKeys, setViewport } from '@web/test-runner-commands';
import { PdfDocument, signerFromCryptoKey } from '@sidian/core';
import { expect } from '../test-support/expect';
import { afterEach, before, describe, it } from '../test-support/mocha';
import { axeViolations, cleanup, fixture, loadFixturePdf, testIdentity, until } from '../test-support/helpers';
import './define';
import { hashFile } from './hasher';
import { photosToPdf } from './photos';
import { sniffKind } from './sniff';
import type { MaterialRejectedDetail, MaterialRequirement, MaterialUploadedDetail, MaterialUploader } from './material-uploader';

interface ServerInfo {
  url: string;
  apiKey: string;
}
interface ProxyStats {
  bytesUp: number;
  drops: number;
  connections: number;
}
interface StoredMaterial {
  row: { id: string; sha256: string; size: number; name: string; type: string; requirement: string; department_id: string | null } | null;
  storedSha256: string | null;
}

let server: ServerInfo;
let person = 0;
const MB = 1024 * 1024;

const proxy = (p: Record<string, unknown> = {}) => executeServerCommand<ProxyStats, Record<string, unknown>>('sidian-proxy', p);
const stored = (id: string) => executeServerCommand<StoredMaterial, { id: string }>('sidian-material', { id });

/** A portal token for a new person (materials and instant uploads are per owner). */
async function token(idNumber = `11010119900307${String(1000 + person++).slice(-4)}`): Promise<string> {
  const r = await fetch(`${server.url}/api/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: '张三', idNumber }) });
  return ((await r.json()) as { token: string }).token;
}

/** A valid PDF of about `size` bytes (a page and an unreferenced stream of random bytes). */
function bigPdf(size: number, seed = 1): Uint8Array {
  const head = new TextEncoder().encode(
    `%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n4 0 obj\n<< /Length ${size} >>\nstream\n`,
  );
  const offsets = [9];
  const text = new TextDecoder().decode(head);
  for (const n of [2, 3, 4]) offsets.push(text.indexOf(`${n} 0 obj`));
  const filler = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(filler.subarray(i, Math.min(size, i + 65536)));
  filler[0] = seed & 0xff;
  const xrefAt = head.length + size + '\nendstream\nendobj\n'.length;
  const tail = new TextEncoder().encode(
    `\nendstream\nendobj\nxref\n0 5\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`,
  );
  const out = new Uint8Array(head.length + size + tail.length);
  out.set(head);
  out.set(filler, head.length);
  out.set(tail, head.length + size);
  return out;
}

async function sha256(bytes: Uint8Array | Blob): Promise<string> {
  const buf = bytes instanceof Blob ? await bytes.arrayBuffer() : (bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', buf)), (b) => b.toString(16).padStart(2, '0')).join('');
}

const pdfFile = (bytes: Uint8Array, name = 'material.pdf') => new File([bytes as Uint8Array<ArrayBuffer>], name, { type: 'application/pdf' });

const REQS: MaterialRequirement[] = [
  { id: 'licence', name: '营业执照', required: true, accept: 'pdf,ofd', maxSize: 64 * MB },
  { id: 'id-card', name: '身份证照片', required: true, accept: 'image/*,pdf', maxSize: 5 * MB },
  { id: 'other', name: '其他材料', accept: 'pdf', multiple: true },
];

async function uploader(tok: string, reqs: MaterialRequirement[] = REQS, attrs = ''): Promise<MaterialUploader> {
  const el = await fixture<MaterialUploader>(`<material-uploader name="materials" endpoint="${server.url}/api/materials" ${attrs}></material-uploader>`);
  el.requirements = reqs;
  el.token = tok;
  await el.updateComplete;
  return el;
}

function events<T>(el: Element, type: string): T[] {
  const list: T[] = [];
  el.addEventListener(type, (e) => list.push((e as CustomEvent<T>).detail));
  return list;
}

async function noAxeViolations(el: Element, what: string) {
  const v = await axeViolations(el);
  if (v.length) throw new Error(`axe (${what}): ${v.join('\n')}`);
}

const uploadedOne = (el: MaterialUploader, n = 1) => until(() => el.materials.filter((m) => m.state === 'uploaded').length >= n || el.materials.some((m) => m.state === 'error'), 'uploaded', 120_000);

describe('<material-uploader>', () => {
  before(async () => {
    await setViewport({ width: 1000, height: 900 });
    server = await executeServerCommand<ServerInfo, Record<string, never>>('sidian-server', {});
  });
  afterEach(async () => {
    cleanup();
    await proxy({ reset: true });
  });

  it('sniffs types by their bytes', () => {
    const b = (...xs: number[]) => new Uint8Array([...xs, ...new Array(64).fill(0)]);
    expect(sniffKind(new TextEncoder().encode('%PDF-1.7\n'))).toBe('pdf');
    expect(sniffKind(b(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))).toBe('png');
    expect(sniffKind(b(0xff, 0xd8, 0xff, 0xe0))).toBe('jpeg');
    expect(sniffKind(b(0x4d, 0x5a, 0x90))).toBe('windows-executable');
    expect(sniffKind(b(0x7f, 0x45, 0x4c, 0x46))).toBe('elf-executable');
    const zip = (name: string) => {
      const n = new TextEncoder().encode(name);
      const h = new Uint8Array(30 + n.length + 16);
      h.set([0x50, 0x4b, 0x03, 0x04]);
      h[26] = n.length;
      h.set(n, 30);
      return h;
    };
    expect(sniffKind(zip('OFD.xml'))).toBe('ofd');
    expect(sniffKind(zip('word/document.xml'))).toBe('zip');
  });

  it('hashes in the worker: one WebCrypto digest, or streamed through hash-wasm (the path of files over 64 MiB), with progress and cancellation', async function () {
    this.timeout(60_000);
    const bytes = new Uint8Array(9 * MB + 12345);
    for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(bytes.length, i + 65536)));
    const blob = new Blob([bytes]);
    const expected = await sha256(bytes);
    expect(await hashFile(blob, () => undefined).promise).toBe(expected);
    let last = 0;
    expect(await hashFile(blob, (n) => (last = n), { inMemoryLimit: 0 }).promise).toBe(expected);
    expect(last).toBe(bytes.length);
    const job = hashFile(new Blob([bytes, bytes, bytes, bytes]), () => undefined, { inMemoryLimit: 0 });
    job.cancel();
    expect(await job.promise).toBe(undefined);
  });

  it('shows the checklist; required items make it invalid with a message; no axe violations; English', async () => {
    const form = await fixture<HTMLFormElement>(`<form><material-uploader name="materials" endpoint="${server.url}/api/materials"></material-uploader></form>`);
    const el = form.querySelector<MaterialUploader>('material-uploader')!;
    el.requirements = REQS;
    el.token = await token();
    await el.updateComplete;
    const text = el.shadowRoot!.textContent!;
    expect(text).toContain('营业执照');
    expect(text).toContain('必需');
    expect(text).toContain('格式：PDF、OFD；不超过 64 MB');
    expect(el.checkValidity()).toBe(false);
    expect(el.validationMessage).toBe('请提供以下必需材料：营业执照、身份证照片');
    expect(new FormData(form).get('materials')).toBe(null);
    await noAxeViolations(el, 'checklist');
    el.lang = 'en';
    await el.updateComplete;
    expect(el.shadowRoot!.textContent).toContain('Choose file');
    expect(el.shadowRoot!.textContent).toContain('required');
    await noAxeViolations(el, 'checklist en');
  });

  it('rejects with a clear reason: a renamed executable, encrypted and broken PDFs, wrong type, too large', async () => {
    const el = await uploader(await token());
    const rejected = events<MaterialRejectedDetail>(el, 'material-rejected');
    const exe = new Uint8Array(4096);
    exe.set([0x4d, 0x5a, 0x90, 0x00, 0x03]);
    await el.addFiles([new File([exe], 'setup.pdf', { type: 'application/pdf' })], 'licence');
    expect(rejected[0]!.code).toBe('EXECUTABLE');
    expect(rejected[0]!.reason).toBe('文件扩展名为 .pdf，但内容是Windows 可执行程序，不是可接受的材料，已拒绝。');
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[data-requirement="licence"] [role=alert]')!.textContent).toContain('setup.pdf');
    await el.addFiles([pdfFile(await loadFixturePdf('encrypted'), 'enc.pdf')], 'licence');
    expect(rejected[1]!.code).toBe('PDF_ENCRYPTED');
    expect(rejected[1]!.reason).toContain('已加密');
    await el.addFiles([pdfFile(await loadFixturePdf('truncated'), 'cut.pdf')], 'licence');
    expect(rejected[2]!.code).toBe('PDF_UNREADABLE');
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    await el.addFiles([new File([png], 'photo.pdf')], 'licence');
    expect(rejected[3]!.code).toBe('TYPE_NOT_ALLOWED');
    expect(rejected[3]!.reason).toBe('文件内容是 PNG，此项材料只接受 PDF、OFD。');
    await el.addFiles([pdfFile(bigPdf(6 * MB), 'big.pdf')], 'id-card');
    expect(rejected[4]!.code).toBe('TOO_LARGE');
    expect(rejected[4]!.reason).toMatch(/^文件大小为 6 MB，超过此项材料的上限 5 MB。$/);
    expect(el.materials.length).toBe(0);
    await noAxeViolations(el, 'rejections');
    el.lang = 'en';
    await el.addFiles([new File([exe], 'setup.pdf')], 'licence');
    expect(rejected[5]!.reason).toBe('The file is named .pdf but contains a Windows program; it is not an acceptable material and was rejected.');
  });

  it('uploads a 30 MB file through a dropped connection, resumes, matches SHA-256; the same file again sends no bytes', async function () {
    this.timeout(180_000);
    const tok = await token();
    const el = await uploader(tok);
    const uploaded = events<MaterialUploadedDetail>(el, 'material-uploaded');
    const progress = events<{ phase: string; loaded: number }>(el, 'upload-progress');
    const all = events<{ materials: unknown[] }>(el, 'all-uploaded');
    const bytes = bigPdf(30 * MB);
    const expected = await sha256(bytes);
    await proxy({ reset: true, throttle: 40 * MB });
    await proxy({ dropAfter: 12 * MB });
    await el.addFiles([pdfFile(bytes, '营业执照.pdf')], 'licence');
    await uploadedOne(el);
    const m = el.materials[0]!;
    expect(m.error?.message ?? '').toBe('');
    expect(m.state).toBe('uploaded');
    expect(m.sha256).toBe(expected);
    expect(m.instant).toBe(false);
    const stats = await proxy();
    expect(stats.drops).toBe(1);
    // resumed, not restarted: what went up is the file once plus what was in flight at the drop
    expect(stats.bytesUp).toBeLessThan(30 * MB * 1.25);
    expect(stats.bytesUp).toBeGreaterThan(30 * MB);
    expect(progress.some((p) => p.phase === 'hash')).toBe(true);
    expect(progress.filter((p) => p.phase === 'upload').length).toBeGreaterThan(3);
    const s = await stored(m.materialId!);
    expect(s.row!.sha256).toBe(expected);
    expect(s.storedSha256).toBe(expected);
    expect(s.row!.requirement).toBe('licence');
    expect(uploaded[0]!.id).toBe(m.materialId!);
    expect(uploaded[0]!.sha256).toBe(expected);
    expect(all.length).toBe(0); // the ID card is still missing
    // the same content again (another form, same applicant): instant, no file bytes on the wire
    cleanup();
    const el2 = await uploader(tok);
    await proxy({ reset: true });
    await el2.addFiles([pdfFile(bytes, '营业执照-副本.pdf')], 'licence');
    await uploadedOne(el2);
    const again = el2.materials[0]!;
    expect(again.instant).toBe(true);
    expect(again.sha256).toBe(expected);
    expect(again.materialId === m.materialId).toBe(false);
    expect((await proxy()).bytesUp).toBeLessThan(16 * 1024);
    await el2.updateComplete;
    expect(el2.shadowRoot!.textContent).toContain('秒传');
  });

  it('department: the upload and an instant re-use name the department the application is made to', async function () {
    this.timeout(120_000);
    const tok = await token();
    const el = await uploader(tok, REQS, 'department="dev-department"');
    const bytes = bigPdf(64 * 1024);
    await el.addFiles([pdfFile(bytes, '营业执照.pdf')], 'licence');
    await uploadedOne(el);
    const first = el.materials[0]!;
    expect(first.instant).toBe(false);
    expect((await stored(first.materialId!)).row!.department_id).toBe('dev-department');
    cleanup();
    const el2 = await uploader(tok, REQS, 'department="dev-department"');
    await el2.addFiles([pdfFile(bytes, '营业执照-副本.pdf')], 'licence');
    await uploadedOne(el2);
    const again = el2.materials[0]!;
    expect(again.instant).toBe(true);
    expect((await stored(again.materialId!)).row!.department_id).toBe('dev-department');
    // without the attribute, no department may read it
    cleanup();
    const el3 = await uploader(tok);
    await el3.addFiles([pdfFile(bigPdf(64 * 1024, 2), '身份证.pdf')], 'licence');
    await uploadedOne(el3);
    expect((await stored(el3.materials[0]!.materialId!)).row!.department_id).toBe(null);
  });

  it('pause, resume and cancel; the form value and all-uploaded', async function () {
    this.timeout(120_000);
    const form = await fixture<HTMLFormElement>(`<form><material-uploader name="materials" endpoint="${server.url}/api/materials"></material-uploader></form>`);
    const el = form.querySelector<MaterialUploader>('material-uploader')!;
    el.requirements = REQS.slice(0, 2);
    el.token = await token();
    const all = events<{ materials: { requirementId: string; sha256: string; materialId: string }[] }>(el, 'all-uploaded');
    await proxy({ reset: true, throttle: 6 * MB });
    const bytes = bigPdf(8 * MB);
    await el.addFiles([pdfFile(bytes, 'a.pdf')], 'licence');
    await until(() => (el.materials[0]?.uploaded ?? 0) > MB, 'some bytes up', 30_000);
    const key = el.materials[0]!.key;
    await el.updateComplete;
    // keyboard: the pause button is a button in the item's row
    const pauseButton = [...el.shadowRoot!.querySelectorAll<HTMLButtonElement>('[data-key] button')].find((b) => b.textContent!.trim() === '暂停')!;
    pauseButton.focus();
    await sendKeys({ press: 'Enter' });
    expect(el.materials[0]!.state).toBe('paused');
    // what the sockets had buffered drains; then nothing more comes
    await proxy({ throttle: 0 });
    await new Promise((r) => setTimeout(r, 500));
    const atPause = (await proxy()).bytesUp;
    await new Promise((r) => setTimeout(r, 1000));
    expect((await proxy()).bytesUp - atPause).toBeLessThan(16 * 1024);
    await el.updateComplete;
    expect(el.shadowRoot!.textContent).toContain('已暂停');
    el.resume(key);
    await uploadedOne(el);
    expect(el.materials[0]!.sha256).toBe(await sha256(bytes));
    // cancel: a second file for the ID card, cancelled while it uploads
    await proxy({ throttle: 4 * MB });
    await el.addFiles([pdfFile(bigPdf(4 * MB, 2), 'id.pdf')], 'id-card');
    await until(() => el.materials.some((m) => m.requirementId === 'id-card' && m.uploaded > 0), 'id uploading', 30_000);
    el.cancel(el.materials.find((m) => m.requirementId === 'id-card')!.key);
    expect(el.materials.length).toBe(1);
    expect(el.checkValidity()).toBe(false);
    await proxy({ throttle: 0 });
    const small = bigPdf(64 * 1024, 3);
    await el.addFiles([pdfFile(small, 'id2.pdf')], 'id-card');
    await uploadedOne(el, 2);
    expect(el.checkValidity()).toBe(true);
    const value = JSON.parse(new FormData(form).get('materials') as string) as { requirementId: string; materialId: string; sha256: string }[];
    expect(value.map((v) => v.requirementId)).toEqual(['licence', 'id-card']);
    expect(value[1]!.sha256).toBe(await sha256(small));
    expect(all.length).toBe(1);
    expect(all[0]!.materials).toEqual(value);
  });

  it('a reload mid-upload resumes the upload from IndexedDB and the tus upload URL', async function () {
    this.timeout(180_000);
    const tok = await token();
    await proxy({ reset: true, throttle: 8 * MB });
    const frame = document.createElement('iframe');
    frame.style.width = '800px';
    frame.style.height = '400px';
    frame.title = 'reload test';
    const src = `/tests/browser/material-uploader-page.html?endpoint=${encodeURIComponent(`${server.url}/api/materials`)}&token=${encodeURIComponent(tok)}`;
    const loaded = () => new Promise<void>((r) => frame.addEventListener('load', () => r(), { once: true }));
    let ready = loaded();
    frame.src = src;
    document.body.append(frame);
    await ready;
    type FrameWindow = Window & { uploader: MaterialUploader; addPdf(b: ArrayBuffer, n: string): Promise<void>; uploaderEvents: { type: string; detail: MaterialUploadedDetail }[] };
    const win = () => frame.contentWindow as FrameWindow;
    await until(() => !!win().uploader, 'page script');
    const bytes = bigPdf(30 * MB, 7);
    const expected = await sha256(bytes);
    await win().addPdf(bytes.slice().buffer, 'reload.pdf');
    await until(() => (win().uploader.materials[0]?.uploaded ?? 0) > 8 * MB, 'mid-upload', 60_000);
    const before = win().uploader.materials[0]!.uploaded;
    ready = loaded();
    win().location.reload();
    await ready;
    await until(() => !!win().uploader, 'page script after reload');
    await until(() => win().uploader.materials.length > 0, 'restored from IndexedDB', 10_000);
    expect(win().uploader.materials[0]!.name).toBe('reload.pdf');
    // the first progress after the reload starts where the server stood, not at zero
    const firstAfter = await new Promise<number>((resolve) => {
      win().uploader.addEventListener('upload-progress', (e) => resolve(e.detail.loaded), { once: true });
    });
    expect(firstAfter).toBeGreaterThan(before * 0.5);
    await until(() => win().uploader.materials[0]?.state === 'uploaded' || win().uploader.materials[0]?.state === 'error', 'uploaded after reload', 120_000);
    const m = win().uploader.materials[0]!;
    expect(m.error?.message ?? '').toBe('');
    expect(m.sha256).toBe(expected);
    expect((await stored(m.materialId!)).storedSha256).toBe(expected);
    expect((await proxy()).bytesUp).toBeLessThan(30 * MB * 1.45);
    // nothing left to resume
    frame.remove();
  });

  it('signs a material with .signer: a detached CMS over its hash, stored beside it, verified by the server and by openssl', async function () {
    this.timeout(60_000);
    const id = await testIdentity('citizen');
    const tok = await token();
    const el = await uploader(tok, [{ id: 'contract', name: '承诺书', required: true, accept: 'pdf', sign: true }]);
    el.signer = signerFromCryptoKey(id.key, id.certificate, id.chain);
    const bytes = bigPdf(200 * 1024, 9);
    await el.addFiles([pdfFile(bytes, '承诺书.pdf')]);
    await uploadedOne(el);
    const m = el.materials[0]!;
    expect(m.error?.message ?? '').toBe('');
    expect(!!m.signatureId).toBe(true);
    expect(el.value[0]!.signatureId).toBe(m.signatureId!);
    let b64 = '';
    for (const x of id.trustAnchor) b64 += String.fromCharCode(x);
    const r = await executeServerCommand<{ code: number; stdout: string }, Record<string, string>>('sidian-check-cms', {
      signatureId: m.signatureId!,
      materialId: m.materialId!,
      caDer: btoa(b64),
    });
    expect(r.stdout).toContain('Verification successful');
    expect(r.code).toBe(0);
    // the server's verdict, in the material's metadata: the signature verifies over the stored bytes;
    // the test CA is not among the server's anchors, so trust is not established (indeterminate)
    const meta = (await (await fetch(`${server.url}/api/materials/${m.materialId}`, { headers: { Authorization: `Bearer ${tok}` } })).json()) as {
      signatures: { id: string; integrity: string; trust: string; status: string; signer: { commonName: string } }[];
    };
    expect(meta.signatures.length).toBe(1);
    expect(meta.signatures[0]!.id).toBe(m.signatureId!);
    expect(meta.signatures[0]!.integrity).toBe('ok');
    expect(meta.signatures[0]!.status).toBe('indeterminate');
    expect(meta.signatures[0]!.trust).toBe('untrusted');
    expect(meta.signatures[0]!.signer.commonName).toBe('张三');
  });

  it('a signature the server cannot verify is refused: the material errs with a clear reason, no signature is kept', async function () {
    this.timeout(60_000);
    const id = await testIdentity('citizen');
    const tok = await token();
    const el = await uploader(tok, [{ id: 'contract', name: '承诺书', required: true, accept: 'pdf', sign: true }]);
    const good = signerFromCryptoKey(id.key, id.certificate, id.chain);
    // a signer whose key does not match its certificate: the CMS is well-formed, the signature false
    const other = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    el.signer = { ...good, sign: signerFromCryptoKey(other.privateKey, id.certificate, id.chain).sign };
    await el.addFiles([pdfFile(bigPdf(50 * 1024, 11), '承诺书.pdf')]);
    await until(() => el.materials[0]?.state === 'error' || el.materials[0]?.state === 'uploaded', 'refused', 30_000);
    const m = el.materials[0]!;
    expect(m.state).toBe('error');
    expect(m.error?.code).toBe('SIGNATURE_REFUSED');
    expect(m.error?.message).toContain('签名');
    expect(m.signatureId).toBe(undefined);
  });

  it('turns photos into a PDF, upright by their EXIF orientation', async function () {
    this.timeout(60_000);
    // a 200 × 100 landscape JPEG whose EXIF says "rotate 90° clockwise to view" (orientation 6)
    const canvas = new OffscreenCanvas(200, 100);
    const c = canvas.getContext('2d')!;
    c.fillStyle = '#c00';
    c.fillRect(0, 0, 200, 100);
    const jpeg = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg' })).arrayBuffer());
    const exif = new Uint8Array([
      0xff, 0xe1, 0x00, 0x22, 0x45, 0x78, 0x69, 0x66, 0x00, 0x00, 0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01, 0x01, 0x12, 0x00, 0x03, 0x00, 0x00,
      0x00, 0x01, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]);
    const photo = new Uint8Array(jpeg.length + exif.length);
    photo.set(jpeg.subarray(0, 2));
    photo.set(exif, 2);
    photo.set(jpeg.subarray(2), 2 + exif.length);
    const pdf = await photosToPdf([new Blob([photo], { type: 'image/jpeg' })], 'id.jpg');
    expect(pdf.name).toBe('id.pdf');
    const bytes = new Uint8Array(await pdf.arrayBuffer());
    const doc = PdfDocument.load(bytes);
    const page = doc.latest.pages()[0]!;
    expect(page.mediaBox[3] > page.mediaBox[2]).toBe(true); // portrait page: the photo stands upright
    const text = new TextDecoder('latin1').decode(bytes);
    expect(text).toContain('/Width 100 /Height 200');
    // in the element: a photo offered to a PDF item becomes a PDF material
    const el = await uploader(await token(), [{ id: 'id-card', name: '身份证', required: true, accept: 'pdf' }], 'photos-to-pdf');
    await el.addFiles([new File([photo], 'id-front.jpg', { type: 'image/jpeg' })]);
    await uploadedOne(el);
    expect(el.materials[0]!.name).toBe('id-front.pdf');
    expect(el.materials[0]!.type).toBe('application/pdf');
    expect((await stored(el.materials[0]!.materialId!)).row!.type).toBe('application/pdf');
  });

  it('a new upload leaves no failed request and no console error; sizes in B/KB/MB; no token is 未登录, a refused one 登录已失效', async function () {
    this.timeout(60_000);
    // watch every response the page gets (fetch and tus's XHR) and every console error, while the real requests run
    const failed: string[] = [];
    const consoleErrors: string[] = [];
    const realFetch = window.fetch;
    const realOpen = XMLHttpRequest.prototype.open;
    const realError = console.error;
    window.fetch = async (...args: Parameters<typeof fetch>) => {
      const res = await realFetch(...args);
      if (res.status >= 400)
        failed.push(`${res.status} ${String(args[0] instanceof Request ? args[0].url : args[0])}`);
      return res;
    };
    XMLHttpRequest.prototype.open = function (this: XMLHttpRequest, ...args: unknown[]) {
      this.addEventListener('loadend', () => {
        if (this.status >= 400 || this.status === 0) failed.push(`${this.status} ${String(args[1])}`);
      });
      return (realOpen as (...a: unknown[]) => void).apply(this, args);
    } as typeof XMLHttpRequest.prototype.open;
    console.error = (...args: unknown[]) => {
      consoleErrors.push(args.map(String).join(' '));
      realError.apply(console, args);
    };
    try {
      const el = await uploader(await token(), [
        { id: 'other', name: '其他材料', accept: 'pdf', multiple: true },
      ]);
      await el.addFiles([pdfFile(bigPdf(40 * 1024, 7), '小文件.pdf')], 'other');
      await uploadedOne(el);
      expect(el.materials[0]!.state).toBe('uploaded');
      expect(el.materials[0]!.instant).toBe(false);
      expect(failed).toEqual([]);
      expect(consoleErrors).toEqual([]);
      await el.updateComplete;
      const size = el.shadowRoot!.querySelector('.item-size')!.textContent!.trim();
      expect(size).toMatch(/^\d+(\.\d)? KB$/);
      el.lang = 'en';
      await el.updateComplete;
      expect(el.shadowRoot!.querySelector('.hint')!.textContent).toContain('Formats: PDF');
      expect(el.shadowRoot!.querySelector('.hint')!.textContent).not.toContain('、');
      cleanup();
    } finally {
      window.fetch = realFetch;
      XMLHttpRequest.prototype.open = realOpen;
      console.error = realError;
    }
    // never signed in: says so, not "expired"; the technical reason stays behind 技术详情
    const anonymous = await uploader('', [{ id: 'other', name: '其他材料', accept: 'pdf' }]);
    await anonymous.addFiles([pdfFile(bigPdf(2 * 1024, 8), 'a.pdf')], 'other');
    await until(() => anonymous.materials[0]?.state === 'error', 'refused without a token', 20_000);
    expect(anonymous.materials[0]!.error!.code).toBe('NOT_SIGNED_IN');
    await anonymous.updateComplete;
    const item = anonymous.shadowRoot!.querySelector<HTMLElement>('.item')!;
    expect(item.querySelector('.item-status')!.textContent).toContain('尚未登录');
    expect(item.querySelector('.item-status')!.textContent).not.toContain('失效');
    expect(item.querySelector('details[part~=technical] summary')!.textContent).toBe('技术详情');
    expect(item.querySelector('details[part~=technical]')!.textContent).toContain('401');
    cleanup();
    // a token the server refuses: the sign-in has expired
    const stale = await uploader('not-a-valid-token', [{ id: 'other', name: '其他材料', accept: 'pdf' }]);
    await stale.addFiles([pdfFile(bigPdf(2 * 1024, 9), 'b.pdf')], 'other');
    await until(() => stale.materials[0]?.state === 'error', 'refused token', 20_000);
    expect(stale.materials[0]!.error!.code).toBe('UNAUTHORIZED');
    expect(stale.materials[0]!.error!.message).toContain('登录已失效');
  });

  it('reuses a licence from the registry instead of an upload (免证可办)', async function () {
    this.timeout(60_000);
    const idNumber = '110101199001011237';
    const serial = String(200_000 + Math.floor(Math.random() * 700_000));
    const valid = await executeServerCommand<{ id: string; sha256: string }, Record<string, unknown>>('sidian-licence', {
      serial,
      register: true,
      holder: { name: '张三', idType: '居民身份证', idNumber },
    });
    await executeServerCommand<{ id: string }, Record<string, unknown>>('sidian-licence', {
      serial: String(Number(serial) + 1),
      register: true,
      revoke: 'revoked',
      revokeReason: '违法经营，依法吊销',
      holder: { name: '张三', idType: '居民身份证', idNumber },
    });
    await executeServerCommand<{ id: string }, Record<string, unknown>>('sidian-licence', {
      serial: String(Number(serial) + 2),
      register: true,
      revoke: 'cancelled',
      revokeReason: '持证人申请注销',
      holder: { name: '张三', idType: '居民身份证', idNumber },
    });
    const el = await uploader(await token(idNumber), [{ id: 'food', name: '食品经营许可证', required: true, accept: 'pdf', licenceTypes: ['11100000MB0143028K'] }]);
    const uploaded = events<MaterialUploadedDetail>(el, 'material-uploaded');
    await until(() => el.holderLicences.length === 3, 'licences listed', 10_000);
    await el.updateComplete;
    const buttons = [...el.shadowRoot!.querySelectorAll<HTMLButtonElement>('[part~=licences] button')];
    expect(buttons.length).toBe(3);
    const enabled = buttons.filter((b) => !b.disabled);
    expect(enabled.length).toBe(1); // neither the revoked nor the cancelled one can be used
    const rows = [...el.shadowRoot!.querySelectorAll<HTMLElement>('[part~=licences] li')].map((li) =>
      li.textContent!.replace(/\s+/g, ' '),
    );
    // 吊销 (a penalty) only where the registry says revoked; 注销 for the one the holder cancelled
    const revokedRow = rows.find((r) => r.includes('已吊销'))!;
    expect(revokedRow).toContain('（原因：违法经营，依法吊销）');
    const cancelledRow = rows.find((r) => r.includes('已注销'))!;
    expect(cancelledRow).toContain('（原因：持证人申请注销）');
    expect(cancelledRow).not.toContain('吊销');
    el.lang = 'en';
    await el.updateComplete;
    const enText = el.shadowRoot!.querySelector('[part~=licences]')!.textContent!;
    expect(enText).toContain('cancelled (reason: 持证人申请注销)');
    expect(enText).toContain('revoked (reason: 违法经营，依法吊销)');
    el.lang = '';
    await el.updateComplete;
    await noAxeViolations(el, 'licences');
    enabled[0]!.focus();
    await sendKeys({ press: 'Enter' });
    await el.updateComplete;
    expect(el.value).toEqual([{ requirementId: 'food', materialId: null, sha256: valid.sha256, licenceId: valid.id }]);
    expect(uploaded[0]!.licenceId).toBe(valid.id);
    expect(el.checkValidity()).toBe(true);
  });

  it('keyboard and clipboard: paste onto a requirement, drop onto another; theming', async function () {
    this.timeout(60_000);
    const el = await uploader(await token());
    const added = events<{ requirementId: string }>(el, 'material-added');
    const choose = el.shadowRoot!.querySelector<HTMLButtonElement>('[data-requirement="other"] [part~=choose-button]')!;
    // Tab reaches the choose buttons in checklist order
    el.shadowRoot!.querySelector<HTMLButtonElement>('[data-requirement="licence"] [part~=choose-button]')!.focus();
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Tab' });
    expect(el.shadowRoot!.activeElement?.outerHTML).toBe(choose.outerHTML);
    const dt = new DataTransfer();
    dt.items.add(pdfFile(bigPdf(10 * 1024, 4), 'pasted.pdf'));
    choose.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, composed: true }));
    await until(() => added.length === 1, 'pasted');
    expect(added[0]!.requirementId).toBe('other');
    const drop = new DataTransfer();
    drop.items.add(pdfFile(bigPdf(10 * 1024, 5), 'dropped.pdf'));
    el.shadowRoot!.querySelector('[data-requirement="licence"]')!.dispatchEvent(new DragEvent('drop', { dataTransfer: drop, bubbles: true, composed: true }));
    await until(() => added.length === 2, 'dropped');
    expect(added[1]!.requirementId).toBe('licence');
    await uploadedOne(el, 2);
    el.style.setProperty('--sidian-color-success', 'rgb(4, 5, 6)');
    await el.updateComplete;
    expect(getComputedStyle(el.shadowRoot!.querySelector('.requirement.done')!).borderTopColor).toBe('rgb(4, 5, 6)');
    await noAxeViolations(el, 'uploaded');
  });
});
