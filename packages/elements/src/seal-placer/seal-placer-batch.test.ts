// <seal-placer>'s batch sealing (批量签署, issue 18) in Chromium: one confirmation, progress, per-document
// results, cancel; every sealed file verified in Node by pdfsig and verifyPdf.
import { signerFromCryptoKey, type BatchDocument, type SealedDocument, type Signer } from '@sidian/core';
import { expect, rejection } from '../test-support/expect';
import { afterEach, before, describe, it } from '../test-support/mocha';
import {
  cleanup,
  fixture,
  fixtureUrl,
  loadFixturePdf,
  testIdentity,
  until,
  verifyInNode,
} from '../test-support/helpers';
import './define';
import { sealPng } from './seal-image';
import type { BatchProgressDetail, SealPlacer } from './seal-placer';

let sealImage: Uint8Array;
let signer: Signer;
const NAMES = ['classic-1.3', 'crlf-1.4', 'acroform', 'incremental-1.7', 'five-pages', 'hybrid'];

async function placed(): Promise<SealPlacer> {
  const el = await fixture<SealPlacer>(
    `<seal-placer src="${fixtureUrl('classic-1.3')}" style="width:640px"></seal-placer>`,
  );
  el.sealImage = sealImage;
  el.signer = signer;
  await until(() => el.state === 'loaded', `loaded (state ${el.state})`);
  el.place();
  return el;
}

async function documents(): Promise<BatchDocument[]> {
  return Promise.all(NAMES.map(async (n) => ({ name: `${n}.pdf`, pdf: await loadFixturePdf(n) })));
}

describe('<seal-placer> sealBatch (批量签署)', () => {
  before(async () => {
    sealImage = await sealPng(
      { name: '四电市数据管理局', purpose: '合同专用章', code: '3301000012345' },
      400,
    );
    const id = await testIdentity('seal');
    signer = signerFromCryptoKey(id.key, id.certificate, id.chain);
  });
  afterEach(cleanup);

  it('asks once, shows progress, seals every document at the placement shown; each verifies in pdfsig and verifyPdf', async () => {
    const el = await placed();
    const questions: string[] = [];
    el.confirmBatch = (q) => (questions.push(q), true);
    const progress: BatchProgressDetail[] = [];
    el.addEventListener('batch-progress', (e) => progress.push(e.detail));
    const sealed: SealedDocument[] = [];
    const docs = await documents();
    docs.splice(2, 0, { name: 'not-a-pdf.pdf', pdf: new TextEncoder().encode('hello, not a PDF') });
    const statuses: string[] = [];
    const result = await el.sealBatch(docs, {
      onSealed: (d) => {
        sealed.push(d);
        statuses.push(el.shadowRoot!.querySelector('[part=status]')!.textContent!.trim());
      },
    });
    expect(questions.length).toBe(1);
    expect(questions[0]).toContain('7');
    expect(result.sealed).toBe(6);
    expect(result.failed).toBe(1);
    const broken = result.results[2]!;
    expect(broken.name).toBe('not-a-pdf.pdf');
    expect(broken.ok ? '' : broken.error.code).toBe('PDF_NOT_PDF');
    expect(progress.map((p) => p.done).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(progress.every((p) => p.total === 7)).toBe(true);
    // the status line counted while it ran, and says what happened at the end
    expect(statuses.some((s) => s.includes('正在批量盖章'))).toBe(true);
    expect(el.shadowRoot!.querySelector('[part=status]')!.textContent).toContain('成功 6 份，失败 1 份');
    expect(el.shadowRoot!.querySelector('[part~=cancel-button]')).toBe(null);
    for (const d of sealed) {
      const v = await verifyInNode(`batch-${d.index}`, d.pdf);
      expect(v.report.status).toBe('valid');
      expect(v.pdfsig.stdout).toContain('Signature is Valid');
    }
  });

  it('cancel: the button shown while it runs stops the batch; the documents not taken are not sealed', async () => {
    const el = await placed();
    el.confirmBatch = () => true;
    const many = await documents();
    const docs: BatchDocument[] = Array.from({ length: 60 }, (_, i) => ({
      ...many[i % many.length]!,
      name: `doc-${i}.pdf`,
    }));
    el.addEventListener('batch-progress', (e) => {
      if (e.detail.done === 2)
        el.shadowRoot!.querySelector<HTMLButtonElement>('[part~=cancel-button]')!.click();
    });
    const result = await el.sealBatch(docs);
    expect(result.cancelled).toBe(true);
    expect(result.sealed).toBeGreaterThan(1);
    expect(result.sealed).toBeLessThan(10);
    expect(el.shadowRoot!.querySelector('[part=status]')!.textContent).toContain('已取消');
  });

  it('declined at the confirmation: nothing is signed, the signer is never asked', async () => {
    const el = await placed();
    let signed = 0;
    el.signer = { ...signer, sign: (a) => (signed++, signer.sign(a)) };
    el.confirmBatch = () => false;
    const e = await rejection(el.sealBatch(await documents()));
    expect(e.code).toBe('BATCH_DECLINED');
    expect(signed).toBe(0);
  });

  it('without a placement the batch is refused before anything is signed', async () => {
    const el = await fixture<SealPlacer>(`<seal-placer src="${fixtureUrl('classic-1.3')}"></seal-placer>`);
    el.sealImage = sealImage;
    el.signer = signer;
    await until(() => el.state === 'loaded', 'loaded');
    el.confirmBatch = () => true;
    const e = await rejection(el.sealBatch(await documents()));
    expect(e.code).toBe('NO_PLACEMENT');
  });
});
