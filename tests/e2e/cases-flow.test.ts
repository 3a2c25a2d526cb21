/**
 * 联办 end to end, in Chromium against the real server (`sidian serve`, SQLite, development PKI): a
 * licence case routed to three departments — two sealing in parallel, the issuer sealing after
 * them — each department in its own browser context sealing with <seal-placer> (the first seal a
 * P=2 certification that prepares the others' fields), an SSE client seeing every change in order,
 * a webhook receiver that refuses the first delivery and then keeps each event once. The final PDF
 * has three valid seals in pdfsig, mutool and verifyPdf, and the licence is in the registry.
 */
import { webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPdf } from '../../packages/core/src/index';
import { creditCodeCheckChar } from '../../packages/core/src/licence/identifier';
import { apiKeyHash } from '../../server/src/auth';
import { openDatabase } from '../../server/src/db/index';
import { issueCertificate, loadOrCreateServerPki, sealSubject } from '../../server/src/pki/dev-pki';
import { api, licenceDocument, sseClient, webhookReceiver } from '../../server/src/test/cases-suite';
import { IMAGES_DIR } from '../fixtures/paths';
import { mutoolSign, pdfsig } from '../interop/verifiers';
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

interface BrowserDept {
  id: string;
  key: string;
  name: string;
  /** How the browser gets its signer: a WebCrypto key and certificate, or the issuer's PKCS#12. */
  credential: { pkcs8: string; cert: string; chain: string } | { p12: string; password: string };
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** A department the operator registered (a row in the server's database) with a seal certificate from its CA. */
async function registerDepartment(name: string, code17: string): Promise<BrowserDept> {
  const creditCode = code17 + creditCodeCheckChar(code17);
  const id = `dept-${code17.slice(-3)}`;
  const key = 'sdk_' + Buffer.from(webcrypto.getRandomValues(new Uint8Array(24))).toString('base64url');
  const db = await openDatabase({ dataDir: server.dataDir });
  try {
    await db.db
      .insertInto('departments')
      .values({
        id,
        name,
        credit_code: creditCode,
        api_key_hash: apiKeyHash(key),
        created_at: new Date().toISOString(),
      })
      .execute();
  } finally {
    await db.close();
  }
  const pki = await loadOrCreateServerPki(server.dataDir);
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const cert = await issueCertificate(pki.ca, {
    subject: sealSubject({ name, creditCode, region: '' }),
    publicKey: keys.publicKey,
    profile: 'signer',
    validityMs: 30 * 86400_000,
  });
  const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    id,
    key,
    name,
    credential: { pkcs8: b64(pkcs8), cert: b64(new Uint8Array(cert.rawData)), chain: b64(pki.ca.der) },
  };
}

/** The department's clerk, in a browser context of its own: fetch the case, seal with <seal-placer>, send the PDF. */
async function sealInBrowser(d: BrowserDept, caseId: string) {
  const context = await browser.newContext();
  try {
    const { page, problems } = await watchedPage(context);
    await page.goto(`${server.url}/`);
    const seal = b64(new Uint8Array(readFileSync(path.join(IMAGES_DIR, 'seal.png'))));
    // a string, not a function: vitest would rewrite a function's import() for Node
    await page.evaluate(`import('/elements/sidian.js').then((m) => { window.sidian = m; })`);
    const result = await page.evaluate(
      async ({ key, caseId, credential, seal }) => {
        const bytes = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
        const m = (window as unknown as { sidian: unknown }).sidian as {
          signerFromCryptoKey(k: CryptoKey, cert: Uint8Array, chain: Uint8Array[]): unknown;
          signerFromPkcs12(p12: Uint8Array, password: string): Promise<unknown>;
        };
        const headers = { 'x-api-key': key };
        const c = await (await fetch(`/api/cases/${caseId}`, { headers })).json();
        const doc = new Uint8Array(
          await (await fetch(`/api/cases/${caseId}/document`, { headers })).arrayBuffer(),
        );
        const signer =
          'p12' in credential
            ? await m.signerFromPkcs12(bytes(credential.p12), credential.password)
            : m.signerFromCryptoKey(
                await crypto.subtle.importKey(
                  'pkcs8',
                  bytes(credential.pkcs8),
                  { name: 'ECDSA', namedCurve: 'P-256' },
                  false,
                  ['sign'],
                ),
                bytes(credential.cert),
                [bytes(credential.chain)],
              );
        type Placer = HTMLElement & Record<string, unknown> & { seal(): Promise<Uint8Array>; state: string };
        const el = document.createElement('seal-placer') as unknown as Placer;
        document.body.append(el);
        el.signer = signer;
        el.sealImage = bytes(seal);
        el.field = c.sealing.field;
        el.reason = '联办盖章';
        el.document = doc;
        if (c.sealing.certify) {
          el.certify = c.sealing.certify;
          el.prepareFields = c.sealing.prepareFields;
        }
        for (let i = 0; i < 600 && el.state !== 'loaded'; i++) await new Promise((r) => setTimeout(r, 50));
        if (c.sealing.certify) el.placements = [{ page: 1, ...c.sealing.rect }];
        const sealed = await el.seal();
        const r = await fetch(`/api/cases/${caseId}/steps/${c.sealing.step}/seal`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/pdf' },
          body: sealed as BodyInit,
        });
        return { status: r.status, body: await r.json(), certified: !!c.sealing.certify, state: el.state };
      },
      { key: d.key, caseId, credential: d.credential, seal },
    );
    expect(problems).toEqual([]);
    return result;
  } finally {
    await context.close();
  }
}

describe('联办: one case, three departments, three seals', () => {
  it('two departments seal in parallel, the issuer after them; SSE in order; webhooks once each; three valid seals; licence registered', async () => {
    const A = await registerDepartment('项城市自然资源和规划局', '11411681005598811');
    const B = await registerDepartment('项城市住房和城乡建设局', '11411681005598812');
    const dev = JSON.parse(readFileSync(path.join(server.dataDir, 'dev-department.json'), 'utf8')) as {
      id: string;
      apiKey: string;
      name: string;
    };
    const pkiDir = path.join(server.dataDir, 'pki');
    const C: BrowserDept = {
      id: dev.id,
      key: dev.apiKey,
      name: dev.name,
      credential: {
        p12: b64(new Uint8Array(readFileSync(path.join(pkiDir, 'seal.p12')))),
        password: readFileSync(path.join(pkiDir, 'seal.p12.password'), 'utf8').trim(),
      },
    };

    const secret = 'whsec-e2e-' + 'w'.repeat(20);
    const receiver = await webhookReceiver(secret);
    const sse = sseClient(`${server.url}/api/cases/events`, { 'x-api-key': C.key });
    try {
      expect(
        (await api(server.url, 'POST', '/api/webhooks', C.key, { url: receiver.url, secret })).status,
      ).toBe(201);
      const deadline = (days: number) => new Date(Date.now() + days * 86400_000).toISOString();
      const opened = await api(server.url, 'POST', '/api/cases', C.key, {
        service: '食品经营许可（联办）',
        applicant: { name: '王五', idNumber: '110101199001011237' },
        document: b64(licenceDocument()),
        route: [
          [
            { department: A.id, action: 'seal', deadline: deadline(5) },
            { department: B.id, action: 'seal', deadline: deadline(5) },
          ],
          [{ department: C.id, action: 'seal', deadline: deadline(10) }],
        ],
      });
      expect(opened.status).toBe(201);
      const id = opened.body.id as string;

      // A and B, each in its own browser; the first to land certifies, the other fills its prepared field
      const a = await sealInBrowser(A, id);
      expect(a).toMatchObject({ status: 200, certified: true, state: 'sealed' });
      const b = await sealInBrowser(B, id);
      expect(b).toMatchObject({ status: 200, certified: false, state: 'sealed' });
      expect(b.body.stage).toBe(2);
      const c = await sealInBrowser(C, id);
      expect(c).toMatchObject({ status: 200, certified: false });
      expect(c.body).toMatchObject({ status: 'done', licence: { id: expect.any(String) } });

      // the licence is in the registry; the case's PDF has three valid seals in three verifiers
      const lic = await api(server.url, 'GET', `/api/licences/${encodeURIComponent(c.body.licence.id)}`);
      expect(lic.body.status).toBe('valid');
      const pdf = new Uint8Array(
        await (
          await fetch(`${server.url}/api/cases/${id}/document`, { headers: { 'x-api-key': C.key } })
        ).arrayBuffer(),
      );
      const trust = await (await fetch(`${server.url}/api/trust`)).text();
      const report = await verifyPdf(pdf, { trustAnchors: [trust] });
      expect(report.status).toBe('valid');
      expect(report.signatures.map((s) => [s.kind, s.signer?.organization, s.status])).toEqual([
        ['certification', A.name, 'valid'],
        ['approval', B.name, 'valid'],
        ['approval', C.name, 'valid'],
      ]);
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'sidian-e2e-case-')), 'case.pdf');
      writeFileSync(file, pdf);
      expect(pdfsig(file).map((s) => s.valid)).toEqual([true, true, true]);
      expect(mutoolSign(file).filter((s) => s.valid)).toHaveLength(3);

      // every change, in order, on the SSE stream
      const expected = [
        'case.opened',
        'step.sealed',
        'step.sealed',
        'stage.started',
        'step.sealed',
        'case.completed',
      ];
      await sse.waitFor(() => sse.events.filter((e) => e.data.caseId === id).length >= expected.length);
      const events = sse.events.filter((e) => e.data.caseId === id);
      expect(events.map((e) => e.type)).toEqual(expected);
      expect(events.map((e) => e.data.step)).toEqual([null, '1.1', '1.2', '2', '2.1', null]);

      // the webhook receiver: the first delivery refused, retried; then each event kept exactly once
      const keys = events.map((e) => `sidian-case-event-${e.id}`);
      const until = Date.now() + 60_000;
      while (keys.some((k) => !receiver.kept.has(k)) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 100));
      expect([...receiver.kept.keys()].sort()).toEqual([...keys].sort());
      expect(receiver.attempts[0]!.status).toBe(500);
      expect(
        receiver.attempts.filter((x) => x.key === receiver.attempts[0]!.key).map((x) => x.status),
      ).toEqual([500, 200]);
      expect(receiver.forged()).toBe(0);
    } finally {
      await sse.close();
      await receiver.close();
    }
  });
});
