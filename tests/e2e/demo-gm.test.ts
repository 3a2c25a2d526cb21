/**
 * The demo's whole flow in 国密 mode (issue 17), in Chromium against the real server: with the
 * switch on, the department seals with an SM2 key and the applicant signs for receipt with another,
 * both kept encrypted in IndexedDB and certified by the server's SM2 CA through POST /api/enrol
 * (the department with its API key, the applicant with the portal token). The registry accepts the
 * SM2-sealed licence; the verifier step names SM2/SM3; the final file verifies in Node (SM2-SM3,
 * valid, trusted with /api/trust). Once in zh-CN, once with the English UI.
 *
 * The department's seal is a GB/T 38540 seal (SESeal) that the server's seal authority made for its
 * SM2 certificate (POST /api/seals, once per key): its picture is the appearance, it travels in the
 * signature, and the citizen's and the verifier's viewers show its registered name, type and esID
 * with a valid verdict, as verifyPdf and POST /api/verify do. Revoking it (POST
 * /api/seals/:esID/revoke) turns the issued licence's viewer to 印章已注销.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseSeal,
  readLicence,
  verifyPdf,
  type SealedVerificationReport,
  type VerificationReport,
} from '../../packages/core/src/index';
import { launchChromium, startServer, watchedPage, type RunningServer } from './harness';

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Two strokes on the signature pad's canvas. */
async function drawSignature(page: Page) {
  const canvas = page.locator('signature-pad canvas').first();
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  for (const points of [
    [
      [0.15, 0.6],
      [0.3, 0.3],
      [0.45, 0.6],
    ],
    [
      [0.55, 0.4],
      [0.85, 0.55],
    ],
  ]) {
    await page.mouse.move(box.x + points[0]![0]! * box.width, box.y + points[0]![1]! * box.height);
    await page.mouse.down();
    for (const [x, y] of points.slice(1))
      await page.mouse.move(box.x + x! * box.width, box.y + y! * box.height, { steps: 6 });
    await page.mouse.up();
  }
}

async function gmFlow(lang: 'zh-CN' | 'en') {
  const base = server.url;
  const context = await browser.newContext({ viewport: { width: 1180, height: 900 }, locale: lang });
  const { page, problems } = await watchedPage(context);
  await page.goto(`${base}/#step-1`);
  await page.waitForSelector('body[data-ready="true"]');
  if (lang === 'en') await page.click('#lang');
  expect(await page.getAttribute('#gm', 'aria-pressed')).toBe('false');
  await page.click('#gm');
  expect(await page.getAttribute('#gm', 'aria-pressed')).toBe('true');
  expect(await page.textContent('#gm')).toBe(lang === 'en' ? 'SM2 (国密): on' : '国密 SM2：开');

  // ---- 1. applicant: sign in (the business licence is sealed with SM2 and registered), materials ----
  await page.click('#login');
  await page.waitForSelector('#status-1[data-kind="ok"]', { timeout: 120_000 });
  await page
    .locator('material-uploader [data-requirement="business-licence"] [part="licences"] button')
    .click();
  await page.click('#samples');
  await page.waitForSelector('#submit:not([disabled])', { timeout: 60_000 });
  await page.waitForFunction(
    () => (document.querySelector('#uploader') as unknown as { value: unknown[] }).value.length === 3,
    undefined,
    { timeout: 60_000 },
  );
  await page.click('#submit');

  // ---- 2. department: generate, seal with the GB/T 38540 seal of its SM2 key, register ----
  await page.waitForSelector('#generate:not([disabled])');
  await page.click('#generate');
  await page.waitForSelector('seal-placer[state="placed"]', { timeout: 60_000 });
  // the department's seal was made once by the server's seal authority and is kept by its esID
  const kept = await page.evaluate(
    () => JSON.parse(localStorage.getItem('sidian-demo-sm2-seal-department')!) as { esID: string },
  );
  const registered = (await (
    await fetch(`${server.url}/api/seals/${encodeURIComponent(kept.esID)}`)
  ).json()) as { esID: string; status: string; name: string; type: number; seal: string };
  expect([registered.esID, registered.status, registered.name, registered.type]).toEqual([
    kept.esID,
    'valid',
    SEAL_NAME,
    3,
  ]);
  const gbSeal = parseSeal(new Uint8Array(Buffer.from(registered.seal, 'base64')));
  if (lang === 'zh-CN') {
    // the first run seeds the applicant's business licence (the English run reuses it): the same seal
    const earlier = await page.evaluate(
      () => JSON.parse(localStorage.getItem('sidian-demo')!).earlierLicence as { id: string },
    );
    const file = await fetch(`${server.url}/api/licences/${encodeURIComponent(earlier.id)}/file`);
    const seeded = await serverVerify(new Uint8Array(await file.arrayBuffer()));
    expect(seeded.signatures[0]!.gbSeal).toMatchObject({ esID: kept.esID, status: 'valid' });
  }
  expect(await page.textContent('#status-2')).toContain(kept.esID);
  // the appearance is the seal's own picture
  const placerImage = await page.$eval('#placer', (el) =>
    Array.from((el as unknown as { sealImage: Uint8Array }).sealImage),
  );
  expect(Buffer.from(placerImage).equals(Buffer.from(gbSeal.picture.data))).toBe(true);
  await page.click('seal-placer [part~="seal-button"]');
  await page.waitForSelector('seal-placer[state="sealed"]', { timeout: 60_000 });
  await page.click('#register');
  await page.waitForSelector('#status-2[data-kind="ok"]', { timeout: 60_000 });
  const licence = await page.evaluate(
    () => JSON.parse(localStorage.getItem('sidian-demo')!).licence as { id: string },
  );

  // ---- 3. applicant: SM2 key enrolled through the server, sign for receipt ----
  await page.click('#tab-3');
  await page.click('#enrol');
  await page.waitForSelector('#signing:not([hidden])', { timeout: 60_000 });
  expect(await page.textContent('#status-3')).toContain(
    lang === 'en' ? "certified by the server's SM2 CA" : '证书由服务器的 SM2 CA 签发',
  );
  // the citizen's viewer shows the seal's registered data, valid
  const seal = { esID: kept.esID, validEnd: gbSeal.property.validEnd };
  await expectSealShown(page, '#receipt-doc', seal, lang, 'valid');
  await drawSignature(page);
  await page.click('signature-pad [part~="sign-button"]');
  await page.waitForSelector('#download:not([hidden])', { timeout: 60_000 });

  // ---- 4. verifier: valid, and the algorithm is named ----
  await page.click('#tab-4');
  await page.waitForSelector('#viewer[verdict="valid"]', { timeout: 60_000 });
  await page.$eval('#viewer', (el) => (el as unknown as { verified(): Promise<unknown> }).verified());
  const report = await page.$eval(
    '#viewer',
    (el) => (el as unknown as { report: VerificationReport }).report,
  );
  expect(report.signatures.map((s) => [s.kind, s.status, s.trust, s.algorithm ?? null])).toEqual([
    ['certification', 'valid', 'trusted', 'SM2-SM3'],
    ['document-timestamp', 'valid', 'trusted', expect.any(String)],
    ['approval', 'valid', 'trusted', 'SM2-SM3'],
  ]);
  const shown = await page.locator('#viewer [part="algorithm"]').allTextContents();
  const sm2Text = lang === 'en' ? 'SM2/SM3 (Chinese national standard)' : 'SM2/SM3（国密）';
  expect(shown.filter((t) => t === sm2Text)).toHaveLength(2);
  // the issuing seal carries the GB/T 38540 seal: registered name, type, esID, valid and trusted
  const sealed = (report as SealedVerificationReport).signatures;
  expect(sealed.map((s) => (s.gbSeal ? [s.gbSeal.esID, s.gbSeal.status, s.gbSeal.trust] : null))).toEqual([
    [kept.esID, 'valid', 'trusted'],
    null,
    null,
  ]);
  expect([sealed[0]!.gbSeal!.name, sealed[0]!.gbSeal!.type]).toEqual([SEAL_NAME, 3]);
  await expectSealShown(page, '#viewer', seal, lang, 'valid');
  const finalPdf = new Uint8Array(
    await page.$eval('#viewer', (el) => Array.from((el as unknown as { document: Uint8Array }).document)),
  );
  // made once per key: after a reload the department's step uses the same seal
  expect(await departmentSealAfterReload(page)).toBe(kept.esID);
  await page.click('#tab-4');
  await page.waitForSelector('#viewer[verdict="valid"]', { timeout: 60_000 });
  expect(problems).toEqual([]);
  return { licence, finalPdf, esID: kept.esID, page, context, problems };
}

const SEAL_NAME = '项城市市场监督管理局行政审批专用章';

/** Reloads the demo and opens the department's step: the esID of the seal the demo keeps then. */
async function departmentSealAfterReload(page: Page): Promise<string> {
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await page.click('#tab-2');
  await page.waitForFunction(() => !!document.querySelector('#department-name')?.textContent);
  return page.evaluate(
    () => (JSON.parse(localStorage.getItem('sidian-demo-sm2-seal-department')!) as { esID: string }).esID,
  );
}

/** A viewer's 电子印章 section: the seal's name, type (业务专用章), validity and esID, and its verdict. */
async function expectSealShown(
  page: Page,
  viewer: string,
  seal: { esID: string; validEnd: Date },
  lang: 'zh-CN' | 'en',
  verdict: 'valid' | 'revoked',
) {
  const section = page.locator(`${viewer} [part="gb-seal"]`).first();
  await section.waitFor({ timeout: 60_000 });
  await page.waitForFunction(
    ([sel, v]) =>
      (document.querySelector(sel!)?.shadowRoot ?? document.querySelector(sel!))
        ?.querySelector('[part="gb-seal"]')
        ?.getAttribute('data-verdict') === v,
    [viewer, verdict],
    { timeout: 60_000 },
  );
  expect(await section.locator('[part="gb-seal-name"]').textContent()).toBe(SEAL_NAME);
  const text = (await section.textContent()) ?? '';
  expect(text).toContain(seal.esID);
  expect(text).toContain(lang === 'en' ? 'business seal' : '业务专用章');
  // the end of its validity, as the viewer writes dates (Beijing time)
  const end = new Date(seal.validEnd.getTime() + 8 * 3600_000);
  const [y, m, d] = [end.getUTCFullYear(), end.getUTCMonth() + 1, end.getUTCDate()];
  const two = (n: number) => String(n).padStart(2, '0');
  expect(text).toContain(lang === 'en' ? `${two(d)}/${two(m)}/${y}` : `${y}/${m}/${d}`);
  expect(await section.locator('[part="gb-seal-verdict"]').textContent()).toBe(
    verdict === 'valid' ? (lang === 'en' ? 'valid' : '有效') : lang === 'en' ? 'revoked' : '已注销',
  );
}

/**
 * The registered licence and the applicant's final file, checked in Node against /api/trust (PDF
 * signers) and /api/seals/trust (the seal maker), and by the server's POST /api/verify.
 */
async function checkInNode(licence: { id: string }, finalPdf: Uint8Array, esID: string) {
  const base = server.url;
  const trust = await (await fetch(`${base}/api/trust`)).text();
  const sealTrust = await (await fetch(`${base}/api/seals/trust`)).text();
  const anchors = { trustAnchors: [trust], sealTrustAnchors: [sealTrust] };
  const registered = new Uint8Array(
    await (await fetch(`${base}/api/licences/${encodeURIComponent(licence.id)}/file`)).arrayBuffer(),
  );
  const reg = (await verifyPdf(registered, anchors)) as SealedVerificationReport;
  expect(reg.status).toBe('valid');
  const seal = reg.signatures.find((s) => s.kind === 'certification')!;
  expect([seal.algorithm, seal.status, seal.trust]).toEqual(['SM2-SM3', 'valid', 'trusted']);
  expect(seal.signer?.organization).toBe('项城市市场监督管理局');
  expect(seal.gbSeal).toMatchObject({ esID, name: SEAL_NAME, type: 3, status: 'valid', trust: 'trusted' });

  const ours = (await verifyPdf(finalPdf, anchors)) as SealedVerificationReport;
  expect(ours.status).toBe('valid');
  expect(ours.signatures.map((s) => [s.kind, s.algorithm ?? null, s.status, s.trust])).toEqual([
    ['certification', 'SM2-SM3', 'valid', 'trusted'],
    ['document-timestamp', expect.any(String), 'valid', 'trusted'],
    ['approval', 'SM2-SM3', 'valid', 'trusted'],
  ]);
  expect(ours.signatures[0]!.gbSeal?.status).toBe('valid');
  expect(ours.signatures[2]!.signer?.commonName).toBe('张三');
  expect(readLicence(finalPdf)?.identifier).toBe(licence.id);
  const registry = (await (await fetch(`${base}/api/licences/${encodeURIComponent(licence.id)}`)).json()) as {
    status: string;
  };
  expect(registry.status).toBe('valid');

  // the server's verifier agrees: the seal is there, valid and trusted
  for (const pdf of [registered, finalPdf]) {
    const served = await serverVerify(pdf);
    expect(served.status).toBe('valid');
    expect(served.signatures[0]!.gbSeal).toMatchObject({ esID, status: 'valid', trust: 'trusted' });
  }
  // and so does the QR page's 核验签章 (/api/licences/:id/verification), as data and in words
  const id = encodeURIComponent(licence.id);
  const qr = (await (await fetch(`${base}/api/licences/${id}/verification?format=json`)).json()) as {
    report: SealedVerificationReport;
  };
  expect(qr.report.status).toBe('valid');
  expect(qr.report.signatures[0]!.gbSeal).toMatchObject({ esID, name: SEAL_NAME, status: 'valid' });
  for (const [lang, type] of [
    ['zh-CN', '业务专用章'],
    ['en', 'business seal'],
  ] as const) {
    const page = await (
      await fetch(`${base}/api/licences/${id}/verification?format=html&lang=${lang}`)
    ).text();
    expect(page).toContain(SEAL_NAME);
    expect(page).toContain(type);
    expect(page).toContain(esID);
  }

  // attack: the trust comes from the server's SM2 root, not from the names in the certificates —
  // a verifier whose anchors lack the SM2 root does not trust the SM2 seal
  const p256Only = trust.split(/(?<=-----END CERTIFICATE-----\n?)/)[0]!;
  const untrusted = await verifyPdf(registered, { trustAnchors: [p256Only], sealTrustAnchors: [sealTrust] });
  expect(untrusted.signatures.find((s) => s.kind === 'certification')!.trust).not.toBe('trusted');
  // attack: the seal vouches for itself only through its maker's root — with the CAs' anchors in
  // place of the seal maker's, the seal is not trusted and the licence is not valid
  const noMaker = (await verifyPdf(registered, { trustAnchors: [trust] })) as SealedVerificationReport;
  expect(noMaker.status).not.toBe('valid');
  expect(noMaker.signatures[0]!.gbSeal?.trust).toBe('untrusted');
}

async function serverVerify(pdf: Uint8Array): Promise<SealedVerificationReport> {
  const res = await fetch(`${server.url}/api/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/pdf' },
    body: pdf as Uint8Array<ArrayBuffer>,
  });
  expect(res.status).toBe(200);
  return (await res.json()) as SealedVerificationReport;
}

/**
 * The department revokes its seal (POST /api/seals/:esID/revoke): the issued licence's viewer says
 * 印章已注销 from then on, and so does POST /api/verify. Another caller cannot revoke it.
 */
async function revokeSeal(
  flow: { page: Page; esID: string; finalPdf: Uint8Array; problems: string[] },
  lang: 'zh-CN' | 'en',
) {
  const { page, esID } = flow;
  const base = server.url;
  const dept = (await (await fetch(`${base}/api/dev/department`)).json()) as { apiKey: string };
  const revoke = (headers: Record<string, string>) =>
    fetch(`${base}/api/seals/${encodeURIComponent(esID)}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ reason: '印章遗失' }),
    });
  // attack: without the department's key (or with a wrong one) the seal stays valid
  expect((await revoke({})).status).toBe(401);
  expect((await revoke({ 'x-api-key': `${dept.apiKey}x` })).status).toBe(401);
  expect((await serverVerify(flow.finalPdf)).signatures[0]!.gbSeal?.status).toBe('valid');

  expect((await revoke({ 'x-api-key': dept.apiKey })).status).toBe(200);
  await page.$eval('#viewer', (el) => (el as unknown as { verify(): Promise<unknown> }).verify());
  const seal = (await (await fetch(`${base}/api/seals/${encodeURIComponent(esID)}`)).json()) as {
    status: string;
    validEnd: string;
  };
  expect(seal.status).toBe('revoked');
  await expectSealShown(page, '#viewer', { esID, validEnd: new Date(seal.validEnd) }, lang, 'revoked');
  const banner = await page.locator('#viewer [part~="banner"]').first().textContent();
  expect(banner).toContain(lang === 'en' ? 'The seal was revoked' : '印章已注销');
  expect(banner).toContain('印章遗失');
  const served = await serverVerify(flow.finalPdf);
  expect(served.status).toBe('invalid');
  expect(served.signatures[0]!.gbSeal?.problems.map((p) => p.code)).toContain('SES_SEAL_REVOKED');
  // a revoked seal is not used again: the department's next visit gets a new seal for its key
  const next = await departmentSealAfterReload(page);
  expect(next).not.toBe(esID);
  const fresh = (await (await fetch(`${base}/api/seals/${encodeURIComponent(next)}`)).json()) as {
    status: string;
    name: string;
  };
  expect([fresh.status, fresh.name]).toEqual(['valid', SEAL_NAME]);
  expect(flow.problems).toEqual([]);
}

describe('demo portal in 国密 mode: GB/T 38540 seal on an SM2 key and SM2 receipt, certified by the server', () => {
  it('zh-CN: the whole flow with the switch on; revoking the seal shows 印章已注销', async () => {
    const flow = await gmFlow('zh-CN');
    await checkInNode(flow.licence, flow.finalPdf, flow.esID);
    await revokeSeal(flow, 'zh-CN');
    await flow.context.close();
  });

  it('English UI: the same flow, with a seal of its own', async () => {
    const flow = await gmFlow('en');
    await checkInNode(flow.licence, flow.finalPdf, flow.esID);
    await revokeSeal(flow, 'en');
    await flow.context.close();
  });
});
