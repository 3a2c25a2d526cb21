/**
 * 国密 in the elements: an SM2 key from Sm2KeyStore (encrypted in IndexedDB), certified by an SM2
 * test CA, given as `.signer` exactly like a WebCrypto one. <seal-placer> and <signature-pad> make
 * PDFs that Sidian (in Node) verifies as SM2-SM3; <material-uploader> signs a material with SM3
 * and the server accepts it; <licence-viewer> verifies SM2 offline (DevTools logs no request
 * from the page or its workers) and names the algorithm.
 */
import { executeServerCommand, resetMouse, sendMouse, setViewport } from '@web/test-runner-commands';
import { Sm2KeyStore, type Signer } from '@sidian/core';
import { expect } from './test-support/expect';
import { after, afterEach, before, describe, it } from './test-support/mocha';
import { cleanup, fixture, fixtureUrl, sleep, until, verifyInNode } from './test-support/helpers';
import './seal-placer/define';
import './signature-pad/define';
import './licence-viewer/define';
import './material-uploader/define';
import { sealPng } from './seal-placer/seal-image';
import type { SealPlacer } from './seal-placer/seal-placer';
import type { SignaturePad } from './signature-pad/signature-pad';
import type { LicenceViewer } from './licence-viewer/licence-viewer';
import type { MaterialUploader } from './material-uploader/material-uploader';

const fromB64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const toB64 = (b: Uint8Array) => {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
};
const network = (p: { reset?: boolean } = {}) =>
  executeServerCommand<{ requests: string[] }, typeof p>('sidian-network', p);

const STORE = 'sidian-gm-elements-test';
let store: Sm2KeyStore;
let trustAnchor: Uint8Array;
let sealPdf: Uint8Array;
let gbSealedPdf: Uint8Array;
let gbSealPicture: Uint8Array;

/** A GB/T 38540 seal made in Node (core makeSeal) by a maker the SM2 test CA certified. */
async function gbSeal(holder: Signer, esID: string, days?: [number, number]): Promise<Uint8Array> {
  gbSealPicture ??= await sealPng({ name: '四电市数据管理局', purpose: '电子印章', code: '3301000054321' }, 300);
  const r = await executeServerCommand<{ seal: string }, object>('sidian-gb-seal', {
    holder: toB64(holder.certificate),
    picture: toB64(gbSealPicture),
    name: '四电市数据管理局电子公章',
    type: 1,
    esID,
    days,
  });
  return fromB64(r.seal);
}

async function sm2Signer(label: string, commonName: string): Promise<Signer> {
  if (!(await store.load(label))) await store.create(label);
  const csr = await store.certificationRequest(label, { commonName });
  const r = await executeServerCommand<{ certificate: string; chain: string[]; trustAnchor: string; error?: string }, { csr: string }>(
    'sidian-sm2-cert',
    { csr: toB64(csr) },
  );
  if (r.error) throw new Error(r.error);
  trustAnchor = fromB64(r.trustAnchor);
  await store.setCertificate(label, fromB64(r.certificate), r.chain.map(fromB64));
  return store.signer(label);
}

describe('国密 SM2 signers in the elements', () => {
  before(async () => {
    await setViewport({ width: 1000, height: 1000 });
    await new Promise((r) => (indexedDB.deleteDatabase(STORE).onsuccess = r));
    store = await Sm2KeyStore.open(STORE);
  });
  after(() => store.close());
  afterEach(cleanup);

  it('<seal-placer> seals with an SM2 key from the IndexedDB store: Sidian verifies SM2-SM3, trusted', async () => {
    const el = await fixture<SealPlacer>(`<seal-placer src="${fixtureUrl('classic-1.3')}" style="width:640px;--sidian-viewer-height:900px"></seal-placer>`);
    el.sealImage = await sealPng({ name: '四电市数据管理局', purpose: '国密专用章', code: '3301000012345' }, 400);
    await until(() => el.state === 'loaded', 'loaded');
    el.signer = await sm2Signer('seal', '四电市数据管理局');
    el.place();
    sealPdf = await el.seal();
    const v = await verifyInNode('gm-seal-placer', sealPdf);
    expect(v.report.status).toBe('valid');
    const sig = v.report.signatures[0] as { algorithm?: string; trust: string };
    expect(sig.algorithm).toBe('SM2-SM3');
    expect(sig.trust).toBe('trusted');
    // pdfsig (NSS) reads the structure; it has no SM2, so it cannot check the signature value
    expect(v.pdfsig.stdout).toContain('Signature #1');
  });

  it('<signature-pad> signs with an SM2 key: Sidian verifies both the seal and the handwriting, SM2-SM3', async () => {
    const el = await fixture<SignaturePad>(`<signature-pad style="width:400px;--sidian-pad-height:200px"></signature-pad>`);
    el.document = sealPdf;
    el.signer = await sm2Signer('citizen', '张三');
    await sleep(50);
    await resetMouse();
    const r = el.shadowRoot!.querySelector('.pad')!.getBoundingClientRect();
    await sendMouse({ type: 'move', position: [Math.round(r.left + 60), Math.round(r.top + 100)] });
    await sendMouse({ type: 'down' });
    for (let i = 1; i <= 12; i++) await sendMouse({ type: 'move', position: [Math.round(r.left + 60 + i * 20), Math.round(r.top + 100 + (i % 2 ? -30 : 30))] });
    await sendMouse({ type: 'up' });
    const pdf = await el.sign();
    const v = await verifyInNode('gm-signature-pad', pdf);
    expect(v.report.status).toBe('valid');
    expect(v.report.signatures.length).toBe(2);
    for (const s of v.report.signatures as { algorithm?: string; modificationsAfter: string }[]) expect(s.algorithm).toBe('SM2-SM3');
    sealPdf = pdf;
  });

  it("the request log sees a worker's requests (so an empty log below means no request at all)", async () => {
    await network({ reset: true });
    // like the viewer's verification worker, one that is already running when it is asked to work
    const src = `onmessage = (e) => fetch(e.data).then(() => postMessage('done'), () => postMessage('done'))`;
    const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
    await sleep(1000);
    w.postMessage(`${location.origin}/gm-probe-${Date.now()}`);
    await new Promise((resolve) => (w.onmessage = resolve));
    w.terminate();
    expect((await network({ reset: true })).requests.some((u) => u.includes('/gm-probe-'))).toBe(true);
  });

  it('<licence-viewer> verifies the SM2 seal and signature offline (no request at all) and shows SM2/SM3', async () => {
    // once, so the viewer's modules and workers are loaded; then every request is logged
    const warm = await fixture<LicenceViewer>('<licence-viewer style="width:900px"></licence-viewer>');
    warm.trustAnchors = [trustAnchor];
    warm.document = sealPdf;
    await warm.verified();
    cleanup();
    await network({ reset: true });
    {
      const el = await fixture<LicenceViewer>('<licence-viewer lang="en" style="width:900px"></licence-viewer>');
      el.trustAnchors = [trustAnchor];
      el.document = sealPdf;
      const report = (await el.verified())!;
      expect(report.status).toBe('valid');
      expect(report.signatures.map((s) => s.algorithm)).toEqual(['SM2-SM3', 'SM2-SM3']);
      const details = el.shadowRoot!.querySelectorAll('[part=algorithm]');
      expect(details.length).toBe(2);
      expect(details[0]!.textContent).toContain('SM2/SM3');
      expect((await network()).requests).toEqual([]);
      // the same file with one byte of the sealed content changed: invalid, still offline
      const tampered = sealPdf.slice();
      const at = new TextDecoder('latin1').decode(tampered).indexOf('/MediaBox');
      tampered[at + 1] = 'm'.charCodeAt(0);
      el.document = tampered;
      expect((await el.verified())!.status).toBe('invalid');
      expect((await network()).requests).toEqual([]);
    }
  });

  it('<material-uploader> signs a material with SM2 over its SM3 digest; the server verifies it over the stored bytes', async function () {
    this.timeout(60_000);
    const server = await executeServerCommand<{ url: string }, Record<string, never>>('sidian-server', {});
    const t = await fetch(`${server.url}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '张三', idNumber: '110101199003078830' }),
    });
    const token = ((await t.json()) as { token: string }).token;
    const el = await fixture<MaterialUploader>(`<material-uploader name="materials" endpoint="${server.url}/api/materials"></material-uploader>`);
    el.requirements = [{ id: 'contract', name: '承诺书', required: true, accept: 'pdf', sign: true }];
    el.token = token;
    el.signer = await store.signer('citizen');
    await el.addFiles([new File([sealPdf as Uint8Array<ArrayBuffer>], '承诺书.pdf', { type: 'application/pdf' })]);
    await until(() => el.materials.some((m) => m.state === 'uploaded' || m.state === 'error'), 'uploaded', 60_000);
    const m = el.materials[0]!;
    expect(m.error?.message ?? '').toBe('');
    expect(!!m.signatureId).toBe(true);
    const meta = (await (await fetch(`${server.url}/api/materials/${m.materialId}`, { headers: { Authorization: `Bearer ${token}` } })).json()) as {
      signatures: { integrity: string; status: string; signer: { commonName: string } }[];
    };
    expect(meta.signatures.length).toBe(1);
    expect(meta.signatures[0]!.integrity).toBe('ok');
    // the SM2 test CA is not the server's: integrity proven, trust not (as for the ECDSA test)
    expect(meta.signatures[0]!.status).toBe('indeterminate');
    expect(meta.signatures[0]!.signer.commonName).toBe('张三');
  });

  it('<seal-placer> seals with a GB/T 38540 seal: its picture by default, the seal in the signature, verified in Node', async () => {
    const holder = await sm2Signer('gb-holder', '四电市数据管理局');
    const seal = await gbSeal(holder, 'GB-ELEMENT-1');
    const el = await fixture<SealPlacer>(`<seal-placer src="${fixtureUrl('classic-1.3')}" style="width:640px;--sidian-viewer-height:900px"></seal-placer>`);
    await until(() => el.state === 'loaded', 'loaded');
    el.gbSeal = seal;
    await until(() => !!el.sealImage, "the seal's picture as the seal image");
    expect(toB64(el.sealImage!)).toBe(toB64(gbSealPicture));
    el.place();
    // an SM2 key the seal does not list: refused with a typed error, nothing signed
    el.signer = await sm2Signer('gb-stranger', '另一局');
    const before = el.document!;
    let code = '';
    await el.seal().catch((e: { code?: string }) => (code = e.code ?? ''));
    expect(code).toBe('SEAL_SIGNER_NOT_LISTED');
    expect(el.document).toBe(before);
    expect(el.state === 'sealed').toBe(false);
    el.signer = holder;
    el.place();
    gbSealedPdf = await el.seal();
    const v = await verifyInNode('gm-gb-seal-placer', gbSealedPdf);
    expect(v.report.signatures[0]!.reasons).toEqual([]);
    expect(v.report.status).toBe('valid');
    const sig = v.report.signatures[0] as { algorithm?: string; gbSeal?: Record<string, unknown> };
    expect(sig.algorithm).toBe('SM2-SM3');
    const { esID, name, type, status, trust } = sig.gbSeal ?? {};
    expect({ esID, name, type, status, trust }).toEqual({ esID: 'GB-ELEMENT-1', name: '四电市数据管理局电子公章', type: 1, status: 'valid', trust: 'trusted' });
    expect(Date.parse(sig.gbSeal!.validEnd as string)).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expect(Date.parse(sig.gbSeal!.validStart as string)).toBeLessThan(Date.now());
  });

  it("<licence-viewer> shows the GB/T 38540 seal's name, type, validity, code and verdict, in zh-CN and English", async () => {
    for (const [lang, words] of [
      ['zh-CN', ['印章名称', '四电市数据管理局电子公章', '印章类型', '单位印章', '有效期', '印章编码', 'GB-ELEMENT-1', '印章状态']],
      ['en', ['Seal name', '四电市数据管理局电子公章', 'Seal type', 'organisation seal', 'Valid', 'Seal code (esID)', 'GB-ELEMENT-1', 'Seal status']],
    ] as const) {
      const el = await fixture<LicenceViewer>(`<licence-viewer lang="${lang}" style="width:900px"></licence-viewer>`);
      el.trustAnchors = [trustAnchor];
      el.document = gbSealedPdf;
      expect((await el.verified())!.status).toBe('valid');
      await el.updateComplete;
      const section = el.shadowRoot!.querySelector<HTMLElement>('[part=gb-seal]')!;
      expect(section.dataset.verdict).toBe('valid');
      for (const w of words) expect(section.textContent).toContain(w);
      expect(section.querySelector('[part=gb-seal-verdict]')!.textContent).toBe(lang === 'en' ? 'valid' : '有效');
      expect(section.querySelector('[part=gb-seal-problems]')).toBe(null);
      cleanup();
    }
  });

  it('<licence-viewer> shows an expired GB/T 38540 seal as expired, with the reason; the document is invalid', async () => {
    const holder = await sm2Signer('gb-holder', '四电市数据管理局');
    // valid for a few seconds: sealed while valid, viewed after its end
    const seal = await gbSeal(holder, 'GB-ELEMENT-SHORT', [-0.005, 4 / 86_400]);
    const placer = await fixture<SealPlacer>(`<seal-placer src="${fixtureUrl('classic-1.3')}" style="width:640px;--sidian-viewer-height:900px"></seal-placer>`);
    await until(() => placer.state === 'loaded', 'loaded');
    placer.gbSeal = seal;
    placer.signer = holder;
    await until(() => !!placer.sealImage, 'seal image');
    placer.place();
    const pdf = await placer.seal();
    cleanup();
    await sleep(5000);
    for (const lang of ['zh-CN', 'en']) {
      const el = await fixture<LicenceViewer>(`<licence-viewer lang="${lang}" style="width:900px"></licence-viewer>`);
      el.trustAnchors = [trustAnchor];
      el.document = pdf;
      expect((await el.verified())!.status).toBe('invalid');
      await el.updateComplete;
      const section = el.shadowRoot!.querySelector<HTMLElement>('[part=gb-seal]')!;
      expect(section.dataset.verdict).toBe('expired');
      expect(section.querySelector('[part=gb-seal-verdict]')!.textContent).toBe(lang === 'en' ? 'expired' : '已过期');
      const problems = section.querySelector('[part=gb-seal-problems]')!.textContent!;
      expect(problems).toMatch(lang === 'en' ? /expired/ : /已于 .* 过期/);
      cleanup();
    }
  });
});
