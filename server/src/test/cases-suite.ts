/**
 * Cases (联办), run against SQLite and PostgreSQL (cases.sqlite.test.ts, cases.postgres.test.ts):
 * the real server over HTTP, departments with seal certificates from the server's CA, seals made
 * with core's signPdf as <seal-placer> makes them, a real webhook receiver, pdfsig for the result.
 */
import { execFileSync } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPdf, signerFromCryptoKey, signerFromPkcs12, verifyPdf, type Signer } from '@sidian/core';
import { embedLicence } from '../../../packages/core/src/licence/index';
import { creditCodeCheckChar, makeLicenceIdentifier } from '../../../packages/core/src/licence/identifier';
import { ISSUER_CODE } from '../../../packages/core/src/licence/licence.test-helpers';
import { IMAGES_DIR } from '../../../tests/fixtures/paths';
import { signWebhook, verifyWebhookSignature } from '../cases/webhooks';
import { DEMO_DEPARTMENT, issueCertificate, sealSubject } from '../pki/dev-pki';
import { tusClient } from './data-safety';
import { devToken, runCli, startTestServer, tempDir, type TestServer } from './harness';
import { minimalPdf, sampleLicence } from './pdfs';
import type { DbEnv } from './suite';

const SEAL = new Uint8Array(fs.readFileSync(path.join(IMAGES_DIR, 'seal.png')));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface Dept {
  id: string;
  key: string;
  name: string;
  signer: Signer;
}

export interface Api {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked field by field
  body: any;
}

export async function api(
  url: string,
  method: string,
  p: string,
  cred?: string,
  body?: unknown,
): Promise<Api> {
  const headers: Record<string, string> = {};
  if (cred)
    Object.assign(
      headers,
      cred.startsWith('sdk_') ? { 'x-api-key': cred } : { authorization: `Bearer ${cred}` },
    );
  let payload: BodyInit | undefined;
  if (body instanceof Uint8Array) {
    headers['content-type'] = 'application/pdf';
    payload = body as BodyInit;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const r = await fetch(`${url}${p}`, { method, headers, body: payload });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, body: parsed };
}

/** A department with its own seal certificate from the server's CA (as an operator would issue it). */
export async function makeDepartment(s: TestServer, name: string, code17: string): Promise<Dept> {
  const creditCode = code17 + creditCodeCheckChar(code17);
  const { id, apiKey } = await s.server.ctx.auth.createDepartment({ name, creditCode });
  return { id, key: apiKey, name, signer: await departmentSigner(s.server.ctx.pki.ca, { name, creditCode }) };
}

export async function departmentSigner(
  ca: Parameters<typeof issueCertificate>[0],
  d: { name: string; creditCode: string },
): Promise<Signer> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const cert = await issueCertificate(ca, {
    subject: sealSubject({ ...d, region: '' }),
    publicKey: keys.publicKey,
    profile: 'signer',
    validityMs: 30 * 86400_000,
  });
  return signerFromCryptoKey(keys.privateKey, new Uint8Array(cert.rawData), [ca.der]);
}

/** The development department (the licence issuer): its seal is the server's dev seal. */
export async function devDepartment(s: TestServer): Promise<Dept> {
  const pki = path.join(s.dataDir, 'pki');
  const signer = await signerFromPkcs12(
    new Uint8Array(fs.readFileSync(path.join(pki, 'seal.p12'))),
    fs.readFileSync(path.join(pki, 'seal.p12.password'), 'utf8').trim(),
  );
  return { id: 'dev-department', key: s.apiKey, name: DEMO_DEPARTMENT.name, signer };
}

let licenceSerial = 100;
/** An unsigned licence PDF with licence.json attached, issued by the development department. */
export function licenceDocument(): Uint8Array {
  const serial = String(++licenceSerial + Math.floor(Math.random() * 800_000)).padStart(6, '0');
  const licence = sampleLicence({
    number: `JY1411681${serial}`,
    identifier: makeLicenceIdentifier({
      typeCode: '11100000MB0143028K',
      issuerCode: ISSUER_CODE,
      serial,
      version: 1,
    }),
  });
  return embedLicence(minimalPdf(), licence);
}

/** What <seal-placer> does for a case step: fetch the case and its PDF, seal as told, send it back. */
export async function sealFor(
  url: string,
  d: Dept,
  caseId: string,
  o: { signer?: Signer; noCertify?: boolean } = {},
) {
  const c = await api(url, 'GET', `/api/cases/${caseId}`, d.key);
  if (c.status !== 200 || !c.body.sealing)
    throw new Error(`no seal step for ${d.name}: ${JSON.stringify(c.body)}`);
  const doc = await fetch(`${url}/api/cases/${caseId}/document`, { headers: { 'x-api-key': d.key } });
  const pdf = new Uint8Array(await doc.arrayBuffer());
  const sl = c.body.sealing;
  const certify = sl.certify && !o.noCertify;
  const sealed = await signPdf(pdf, {
    signer: o.signer ?? d.signer,
    image: SEAL,
    field: sl.field,
    reason: '联办盖章',
    ...(certify ? { certify: 2 as const, rect: sl.rect, prepareFields: sl.prepareFields } : {}),
  });
  return { sealed, step: sl.step as string, base: pdf };
}

export const submitSeal = (url: string, d: Dept, caseId: string, step: string, pdf: Uint8Array) =>
  api(url, 'POST', `/api/cases/${caseId}/steps/${step}/seal`, d.key, pdf);

/** A Server-Sent Events client over fetch: collects events in arrival order. */
export function sseClient(url: string, headers: Record<string, string>) {
  const events: { id: number; type: string; data: { type: string; caseId: string; step: string | null } }[] =
    [];
  const ac = new AbortController();
  let status = 0;
  const done = (async () => {
    const r = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
    status = r.status;
    const reader = r.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const f: Record<string, string> = {};
        for (const line of block.split('\n')) {
          const m = /^(\w+): ?(.*)$/.exec(line);
          if (m) f[m[1]!] = m[2]!;
        }
        if (f.id && f.data) events.push({ id: Number(f.id), type: f.event!, data: JSON.parse(f.data) });
      }
    }
  })().catch(() => undefined);
  return {
    events,
    status: () => status,
    async waitFor(pred: () => boolean, ms = 20_000) {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end)
          throw new Error(`SSE: timed out with ${JSON.stringify(events.map((e) => e.type))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      ac.abort();
      await done;
    },
  };
}

/**
 * A department's business system: checks each delivery's signature, answers 500 to the very first
 * delivery (a forced failure), then keeps each event once by its Idempotency-Key.
 */
export async function webhookReceiver(secret: string) {
  const kept = new Map<string, { type: string; caseId: string }>();
  const attempts: { key: string; status: number }[] = [];
  let forged = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const key = String(req.headers['idempotency-key'] ?? '');
      const ok = verifyWebhookSignature({
        secret,
        timestamp: req.headers['sidian-timestamp'] as string | undefined,
        body,
        signature: req.headers['sidian-signature'] as string | undefined,
      });
      if (!ok) {
        forged++;
        res.writeHead(401).end();
        return;
      }
      const status = attempts.length === 0 ? 500 : 200;
      attempts.push({ key, status });
      if (status === 200 && !kept.has(key)) {
        const e = JSON.parse(body) as { type: string; caseId: string };
        kept.set(key, { type: e.type, caseId: e.caseId });
      }
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    kept,
    attempts,
    forged: () => forged,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const inDays = (d: number) => new Date(Date.now() + d * 86400_000).toISOString();

export function defineCasesSuite(env: DbEnv): void {
  let s: TestServer;
  let A: Dept; // 自然资源和规划局: seals, in parallel with B
  let B: Dept; // 住房和城乡建设局: seals, in parallel with A
  let D: Dept; // 消防救援大队: approves
  let C: Dept; // the issuer (development department): opens the case, seals last
  let X: Dept; // a department on no route
  let applicantToken: string;
  let work: string;

  beforeAll(async () => {
    s = await startTestServer({
      databaseUrl: await env.newDatabaseUrl(),
      cases: { webhooks: { retryBaseMs: 150, timeoutMs: 5000 } },
    });
    work = tempDir('sidian-cases-');
    C = await devDepartment(s);
    A = await makeDepartment(s, '项城市自然资源和规划局', '11411681005598801');
    B = await makeDepartment(s, '项城市住房和城乡建设局', '11411681005598802');
    D = await makeDepartment(s, '项城市消防救援大队', '11411681005598803');
    X = await makeDepartment(s, '项城市文化广电和旅游局', '11411681005598804');
    applicantToken = await devToken(s.url, '王五', '110101199001011237');
  });
  afterAll(async () => {
    await s?.close();
  });

  const open = async (route: unknown, o: { document?: Uint8Array; materials?: string[]; by?: Dept } = {}) =>
    api(s.url, 'POST', '/api/cases', (o.by ?? C).key, {
      service: '食品经营许可（联办）',
      applicant: { name: '王五', idNumber: '110101199001011237' },
      materials: o.materials ?? [],
      document: Buffer.from(o.document ?? minimalPdf()).toString('base64'),
      route,
    });

  describe('cases (联办)', () => {
    it('a full route: two seals in parallel, an approval, the issuer seal; SSE in order with resume; webhooks once each after a forced failure; licence registered; three seals valid in verifyPdf and pdfsig', async () => {
      const secret = 'whsec-' + 'k'.repeat(24);
      const receiver = await webhookReceiver(secret);
      try {
        const reg = await api(s.url, 'POST', '/api/webhooks', C.key, { url: receiver.url, secret });
        expect(reg.status).toBe(201);
        const sse = sseClient(`${s.url}/api/cases/events`, { 'x-api-key': C.key });
        const tus = tusClient(s.url);
        const material = await tus.upload(new TextEncoder().encode('%PDF-1.4 营业执照副本'), applicantToken, {
          department: C.id,
        });
        const doc0 = licenceDocument();
        const opened = await open(
          [
            [
              { department: A.id, action: 'seal', deadline: inDays(5) },
              { department: B.id, action: 'seal', deadline: inDays(5) },
            ],
            [{ department: D.id, action: 'approve', deadline: inDays(10) }],
            [{ department: C.id, action: 'seal', deadline: inDays(15) }],
          ],
          { materials: [material], document: doc0 },
        );
        expect(opened.status).toBe(201);
        const id = opened.body.id as string;
        expect(opened.body.materials).toEqual([material]);
        expect(opened.body.holders.map((h: { id: string }) => h.id).sort()).toEqual([A.id, B.id].sort());

        // queues: A and B hold it, D and C wait
        for (const [d, n] of [
          [A, 1],
          [B, 1],
          [D, 0],
          [C, 0],
        ] as const) {
          const q = await api(s.url, 'GET', '/api/cases?queue=mine', d.key);
          expect(q.body.items.filter((i: { caseId: string }) => i.caseId === id)).toHaveLength(n);
        }
        // the applicant follows it: status, who holds it, the deadline
        const seen = await api(s.url, 'GET', `/api/cases/${id}`, applicantToken);
        expect(seen.status).toBe(200);
        expect(seen.body).toMatchObject({ status: 'in-progress', stage: 1, deadline: expect.any(String) });
        expect(seen.body.holders.map((h: { name: string }) => h.name).sort()).toEqual(
          [A.name, B.name].sort(),
        );
        expect(seen.body.materials).toBeUndefined();

        // A and B seal the same version at once: A's certification lands first, B's upload no longer extends the document
        const a = await sealFor(s.url, A, id);
        const b = await sealFor(s.url, B, id);
        expect(a.base).toEqual(b.base);
        expect((await submitSeal(s.url, A, id, a.step, a.sealed)).status).toBe(200);
        const late = await submitSeal(s.url, B, id, b.step, b.sealed);
        expect(late.status).toBe(409);
        expect(late.body.error).toBe('CASE_DOCUMENT_CHANGED');
        // B fetches the sealed document and seals its prepared field
        const b2 = await sealFor(s.url, B, id);
        expect(b2.base.subarray(0, a.sealed.length)).toEqual(a.sealed);
        const bOk = await submitSeal(s.url, B, id, b2.step, b2.sealed);
        expect(bOk.status).toBe(200);
        expect(bOk.body).toMatchObject({ stage: 2, status: 'in-progress' });
        // an approval on a seal step, a seal on an approval step: refused
        expect((await api(s.url, 'POST', `/api/cases/${id}/steps/3.1/approve`, C.key, {})).body.error).toBe(
          'CASE_WRONG_ACTION',
        );
        const ap = await api(s.url, 'POST', `/api/cases/${id}/steps/2.1/approve`, D.key, {});
        expect(ap.status).toBe(200);
        expect(ap.body.stage).toBe(3);
        const c = await sealFor(s.url, C, id);
        const done = await submitSeal(s.url, C, id, c.step, c.sealed);
        expect(done.status).toBe(200);
        expect(done.body).toMatchObject({ status: 'done', licence: { id: expect.any(String) } });

        // the applicant sees it done with the licence; the licence is in the registry
        const final = await api(s.url, 'GET', `/api/cases/${id}`, applicantToken);
        expect(final.body).toMatchObject({ status: 'done', holders: [], deadline: null });
        const lic = await api(s.url, 'GET', `/api/licences/${encodeURIComponent(done.body.licence.id)}`);
        expect(lic.status).toBe(200);
        expect(lic.body.status).toBe('valid');

        // the case's final PDF: three seals, the first a certification, all valid
        const r = await fetch(`${s.url}/api/cases/${id}/document`, { headers: { 'x-api-key': C.key } });
        const pdf = new Uint8Array(await r.arrayBuffer());
        expect(r.headers.get('x-content-sha256')).toBe(sha256(pdf));
        const report = await verifyPdf(pdf, { trustAnchors: [s.server.ctx.trustPem] });
        expect(report.status).toBe('valid');
        expect(report.signatures.map((x) => [x.kind, x.signer?.organization, x.status])).toEqual([
          ['certification', A.name, 'valid'],
          ['approval', B.name, 'valid'],
          ['approval', C.name, 'valid'],
        ]);
        const file = path.join(work, 'case.pdf');
        fs.writeFileSync(file, pdf);
        const pdfsig = execFileSync('pdfsig', [file], { encoding: 'utf8' });
        expect(pdfsig.match(/Signature is Valid/g)).toHaveLength(3);

        // SSE: every change, in order
        const expected = [
          'case.opened',
          'step.sealed',
          'step.sealed',
          'stage.started',
          'step.approved',
          'stage.started',
          'step.sealed',
          'case.completed',
        ];
        await sse.waitFor(() => sse.events.filter((e) => e.data.caseId === id).length >= expected.length);
        const mine = sse.events.filter((e) => e.data.caseId === id);
        expect(mine.map((e) => e.type)).toEqual(expected);
        expect(mine.map((e) => e.id)).toEqual([...mine.map((e) => e.id)].sort((x, y) => x - y));
        await sse.close();
        // resume after the third event: exactly the rest
        const resumed = sseClient(`${s.url}/api/cases/events`, {
          'x-api-key': C.key,
          'last-event-id': String(mine[2]!.id),
        });
        await resumed.waitFor(
          () => resumed.events.filter((e) => e.data.caseId === id).length >= expected.length - 3,
        );
        await new Promise((r) => setTimeout(r, 200));
        expect(resumed.events.filter((e) => e.data.caseId === id).map((e) => e.id)).toEqual(
          mine.slice(3).map((e) => e.id),
        );
        await resumed.close();
        // a department not on the route sees none of it
        const outsider = sseClient(`${s.url}/api/cases/events`, { 'x-api-key': X.key });
        await new Promise((r) => setTimeout(r, 300));
        expect(outsider.status()).toBe(200);
        expect(outsider.events.filter((e) => e.data.caseId === id)).toEqual([]);
        await outsider.close();

        // webhooks: the first delivery failed, was retried; every event kept exactly once
        const keys = mine.map((e) => `sidian-case-event-${e.id}`);
        const end = Date.now() + 20_000;
        while (keys.some((k) => !receiver.kept.has(k)) && Date.now() < end)
          await new Promise((r) => setTimeout(r, 50));
        expect([...receiver.kept.keys()].filter((k) => keys.includes(k)).sort()).toEqual([...keys].sort());
        expect(
          [...receiver.kept.entries()]
            .filter(([k]) => keys.includes(k))
            .map(([, v]) => v.type)
            .sort(),
        ).toEqual([...expected].sort());
        expect(receiver.attempts[0]!.status).toBe(500);
        expect(
          receiver.attempts.filter((x) => x.key === receiver.attempts[0]!.key).map((x) => x.status),
        ).toEqual([500, 200]);
        expect(receiver.forged()).toBe(0);
        const log = await api(s.url, 'GET', '/api/webhooks/deliveries', C.key);
        const first = log.body.items.find(
          (i: { idempotencyKey: string }) => i.idempotencyKey === receiver.attempts[0]!.key,
        );
        expect(first).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 200 });
        expect(
          log.body.items
            .filter((i: { caseId: string }) => i.caseId === id)
            .every((i: { status: string }) => i.status === 'delivered'),
        ).toBe(true);
        // other departments do not read C's delivery log
        const other = await api(s.url, 'GET', '/api/webhooks/deliveries', A.key);
        expect(other.body.items).toEqual([]);

        // the audit trail: every transition with who and the document's hash; `sidian audit verify` covers cases
        const audit = await s.server.ctx.db
          .selectFrom('audit_log')
          .select(['actor', 'action', 'subject'])
          .where('subject', 'like', `case:${id}%`)
          .orderBy('seq')
          .execute();
        expect(audit.map((x) => x.action)).toEqual(expected);
        expect(audit[0]!.subject).toBe(`case:${id} sha256:${sha256(doc0)}`);
        expect(audit[1]!.subject).toBe(`case:${id} step:1.1 sha256:${sha256(a.sealed)}`);
        expect(audit[audit.length - 1]!.subject).toBe(`case:${id} sha256:${sha256(pdf)}`);
        expect(audit[1]!.actor).toBe(`department:${A.id}`);
        const cliEnv = s.databaseUrl ? { DATABASE_URL: s.databaseUrl } : {};
        const ok = runCli(['audit', 'verify', '--data', s.dataDir], cliEnv);
        expect(ok.stdout).toMatch(/cases: \d+ agree with the audit trail/);
        expect(ok.code).toBe(0);
        // a case whose document is swapped in the database no longer agrees with its trail
        const before = await s.server.ctx.db
          .selectFrom('cases')
          .select('document_sha256')
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        await s.server.ctx.db
          .updateTable('cases')
          .set({ document_sha256: sha256(a.sealed) })
          .where('id', '=', id)
          .execute();
        const broken = runCli(['audit', 'verify', '--data', s.dataDir], cliEnv);
        expect(broken.code).toBe(1);
        expect(broken.stdout).toContain(`case ${id} BROKEN`);
        await s.server.ctx.db
          .updateTable('cases')
          .set({ document_sha256: before.document_sha256 })
          .where('id', '=', id)
          .execute();
      } finally {
        await receiver.close();
      }
    });

    it('two clerks approve the same step at once: one wins, the other gets 409 naming the winner', async () => {
      const o = await open([
        [{ department: D.id, action: 'approve', deadline: inDays(3) }],
        [{ department: A.id, action: 'approve', deadline: inDays(3) }],
      ]);
      const id = o.body.id as string;
      const act = (clerk: string) =>
        fetch(`${s.url}/api/cases/${id}/steps/1.1/approve`, {
          method: 'POST',
          headers: { 'x-api-key': D.key, 'content-type': 'application/json', 'x-sidian-clerk': clerk },
          body: JSON.stringify({ version: 1 }),
        }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as { error?: string; message?: string },
        }));
      const results = await Promise.all([act('zhang'), act('li')]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      const lost = results.find((r) => r.status === 409)!;
      expect(lost.body.error).toBe('CASE_STEP_CONFLICT');
      expect(lost.body.message).toMatch(/step 1\.1 is done \(by department:.+\/clerk:(zhang|li)/);
      const c = await api(s.url, 'GET', `/api/cases/${id}`, D.key);
      expect(c.body).toMatchObject({ stage: 2, version: 2 });
      // the stale version is refused too
      const stale = await api(s.url, 'POST', `/api/cases/${id}/steps/2.1/approve`, A.key, { version: 7 });
      expect(stale.status).toBe(409);
      expect(stale.body.error).toBe('CASE_STEP_CONFLICT');
      // exactly one approval and one stage change recorded
      const events = await s.server.ctx.db
        .selectFrom('case_events')
        .select('type')
        .where('case_id', '=', id)
        .execute();
      expect(events.map((e) => e.type)).toEqual(['case.opened', 'step.approved', 'stage.started']);
    });

    it('a return with a reason ends the case; the applicant sees why; later steps are cancelled', async () => {
      const o = await open([
        [{ department: A.id, action: 'approve', deadline: inDays(3) }],
        [{ department: B.id, action: 'approve', deadline: inDays(3) }],
      ]);
      const id = o.body.id as string;
      const noReason = await api(s.url, 'POST', `/api/cases/${id}/steps/1.1/return`, A.key, {});
      expect(noReason.status).toBe(400);
      expect(noReason.body.error).toBe('CASE_REASON_REQUIRED');
      const r = await api(s.url, 'POST', `/api/cases/${id}/steps/1.1/return`, A.key, {
        reason: '用地规划许可证缺失',
      });
      expect(r.status).toBe(200);
      const seen = await api(s.url, 'GET', `/api/cases/${id}`, applicantToken);
      expect(seen.body).toMatchObject({
        status: 'returned',
        returnReason: '用地规划许可证缺失',
        holders: [],
      });
      expect(seen.body.steps.map((x: { status: string }) => x.status)).toEqual(['returned', 'cancelled']);
      const after = await api(s.url, 'POST', `/api/cases/${id}/steps/2.1/approve`, B.key, {});
      expect(after.status).toBe(409);
    });

    it('deadlines: an overdue step is listed for its department only, and leaves the list once acted on', async () => {
      const o = await open([
        [
          { department: A.id, action: 'approve', deadline: inDays(-2) },
          { department: B.id, action: 'approve', deadline: inDays(4) },
        ],
      ]);
      const id = o.body.id as string;
      const overdueOf = async (d: Dept) =>
        (await api(s.url, 'GET', '/api/cases/overdue', d.key)).body.items.filter(
          (i: { caseId: string }) => i.caseId === id,
        );
      const a = await overdueOf(A);
      expect(a).toHaveLength(1);
      expect(a[0]).toMatchObject({ step: '1.1', action: 'approve' });
      expect(a[0].overdueSeconds).toBeGreaterThan(2 * 86400 - 60);
      expect(await overdueOf(B)).toEqual([]);
      const seen = await api(s.url, 'GET', `/api/cases/${id}`, applicantToken);
      expect(seen.body.deadline).toBe(o.body.steps[0].deadline);
      expect(seen.body.steps[0].overdue).toBe(true);
      expect(seen.body.steps[1].overdue).toBe(false);
      const q = await api(s.url, 'GET', '/api/cases?queue=mine', A.key);
      expect(q.body.items.find((i: { caseId: string }) => i.caseId === id).overdue).toBe(true);
      await api(s.url, 'POST', `/api/cases/${id}/steps/1.1/approve`, A.key, {});
      expect(await overdueOf(A)).toEqual([]);
      // a department reads only its own queue
      expect((await api(s.url, 'GET', `/api/departments/${A.id}/queue`, B.key)).status).toBe(403);
    });

    it("attackers: another department's step, another applicant's case, foreign materials, a seal by the wrong key, a rewritten PDF, an uncertified first seal", async () => {
      const tus = tusClient(s.url);
      const otherToken = await devToken(s.url, '赵六', '110101199202022345');
      const foreign = await tus.upload(new TextEncoder().encode('赵六的材料'), otherToken, {
        department: C.id,
      });
      const rejected = await open([[{ department: A.id, action: 'seal', deadline: inDays(1) }]], {
        materials: [foreign],
      });
      expect(rejected.status).toBe(422);
      expect(rejected.body.error).toBe('CASE_MATERIAL_UNKNOWN');
      // the applicant's own material, but handed to another department
      const elsewhere = await tus.upload(new TextEncoder().encode('王五给别的部门的材料'), applicantToken, {
        department: X.id,
      });
      expect(
        (
          await open([[{ department: A.id, action: 'seal', deadline: inDays(1) }]], {
            materials: [elsewhere],
          })
        ).body.error,
      ).toBe('CASE_MATERIAL_UNKNOWN');
      const signed = await signPdf(licenceDocument(), { signer: A.signer });
      expect(
        (await open([[{ department: A.id, action: 'seal', deadline: inDays(1) }]], { document: signed })).body
          .error,
      ).toBe('CASE_DOCUMENT_SIGNED');
      expect((await open([[{ department: 'nope', action: 'seal', deadline: inDays(1) }]])).body.error).toBe(
        'CASE_BAD_ROUTE',
      );
      // a licence case ends with the issuer's seal, and only the issuer opens it
      const lic = { document: licenceDocument() };
      expect(
        (await open([[{ department: A.id, action: 'seal', deadline: inDays(1) }]], lic)).body.error,
      ).toBe('CASE_BAD_ROUTE');
      const byA = await open([[{ department: C.id, action: 'seal', deadline: inDays(1) }]], {
        ...lic,
        by: A,
      });
      expect(byA.status).toBe(422);
      expect(byA.body.error).toBe('CASE_LICENCE_OTHER_ISSUER');

      const o = await open(
        [
          [
            { department: A.id, action: 'seal', deadline: inDays(1) },
            { department: B.id, action: 'approve', deadline: inDays(1) },
          ],
        ],
        { document: minimalPdf() },
      );
      const id = o.body.id as string;
      // B acts on A's step
      const stolen = await api(s.url, 'POST', `/api/cases/${id}/steps/1.1/return`, B.key, { reason: 'x' });
      expect(stolen.status).toBe(403);
      expect(stolen.body.error).toBe('CASE_NOT_YOUR_STEP');
      const a = await sealFor(s.url, A, id);
      expect((await submitSeal(s.url, B, id, '1.1', a.sealed)).body.error).toBe('CASE_NOT_YOUR_STEP');
      // A sends a seal made with B's key, and a first seal that does not certify
      const byB = await sealFor(s.url, A, id, { signer: B.signer });
      const wrongKey = await submitSeal(s.url, A, id, '1.1', byB.sealed);
      expect(wrongKey.status).toBe(403);
      expect(wrongKey.body.error).toBe('CASE_SEAL_NOT_YOURS');
      // a certificate with A's name but another organization's credit code
      const namesake = await departmentSigner(s.server.ctx.pki.ca, {
        name: A.name,
        creditCode: '11411681005598899'.slice(0, 17) + creditCodeCheckChar('11411681005598899'.slice(0, 17)),
      });
      const impostor = await sealFor(s.url, A, id, { signer: namesake });
      expect((await submitSeal(s.url, A, id, '1.1', impostor.sealed)).body.error).toBe('CASE_SEAL_NOT_YOURS');
      const plain = await sealFor(s.url, A, id, { noCertify: true });
      expect((await submitSeal(s.url, A, id, '1.1', plain.sealed)).body.error).toBe(
        'CASE_SEAL_NOT_CERTIFIED',
      );
      // a PDF that does not extend the current document: its first revision rewritten (header), then sealed
      const changed = new Uint8Array(
        Buffer.from(Buffer.from(a.base).toString('latin1').replace('%PDF-1.7', '%PDF-1.6'), 'latin1'),
      );
      expect(changed.length).toBe(a.base.length);
      expect(changed).not.toEqual(a.base);
      const rewritten = await signPdf(changed, {
        signer: A.signer,
        certify: 2,
        field: 'seal-1-1',
        image: SEAL,
      });
      const r = await submitSeal(s.url, A, id, '1.1', rewritten);
      expect(r.status).toBe(409);
      expect(r.body.error).toBe('CASE_DOCUMENT_CHANGED');
      // the case did not move
      const c = await api(s.url, 'GET', `/api/cases/${id}`, A.key);
      expect(c.body).toMatchObject({ version: 1, stage: 1 });
      expect(c.body.steps.map((x: { status: string }) => x.status)).toEqual(['active', 'active']);

      // another applicant, another department, nobody: nothing
      expect((await api(s.url, 'GET', `/api/cases/${id}`, otherToken)).status).toBe(404);
      expect((await api(s.url, 'GET', `/api/cases/${id}/document`, otherToken)).status).toBe(404);
      expect((await api(s.url, 'GET', `/api/cases/${id}`, X.key)).status).toBe(404);
      expect((await api(s.url, 'GET', `/api/cases/${id}`)).status).toBe(401);
      expect((await api(s.url, 'GET', '/api/cases', otherToken)).body.items).toEqual([]);
      const own = await api(s.url, 'GET', '/api/cases', applicantToken);
      expect(own.body.items.some((x: { id: string }) => x.id === id)).toBe(true);
      const ownSse = sseClient(`${s.url}/api/cases/${id}/events`, { authorization: `Bearer ${otherToken}` });
      await new Promise((res) => setTimeout(res, 200));
      expect(ownSse.status()).toBe(404);
      await ownSse.close();
    });

    it('webhook signatures: a forged, altered or replayed delivery does not verify', () => {
      const secret = 'whsec-' + 'z'.repeat(24);
      const body = '{"id":"7","type":"step.sealed"}';
      const ts = String(Math.floor(Date.now() / 1000));
      const good = signWebhook(secret, ts, body);
      expect(verifyWebhookSignature({ secret, timestamp: ts, body, signature: good })).toBe(true);
      // signed with a guessed secret
      expect(
        verifyWebhookSignature({
          secret,
          timestamp: ts,
          body,
          signature: signWebhook('guess-' + 'z'.repeat(24), ts, body),
        }),
      ).toBe(false);
      // the body altered, the timestamp moved, an old delivery replayed, no signature
      expect(
        verifyWebhookSignature({
          secret,
          timestamp: ts,
          body: body.replace('sealed', 'approved'),
          signature: good,
        }),
      ).toBe(false);
      expect(
        verifyWebhookSignature({ secret, timestamp: String(Number(ts) + 1), body, signature: good }),
      ).toBe(false);
      const old = String(Number(ts) - 3600);
      expect(
        verifyWebhookSignature({ secret, timestamp: old, body, signature: signWebhook(secret, old, body) }),
      ).toBe(false);
      expect(verifyWebhookSignature({ secret, timestamp: ts, body, signature: undefined })).toBe(false);
    });

    it('webhook registration: http(s) URLs only, a secret of at least 16 characters, a department key', async () => {
      expect(
        (await api(s.url, 'POST', '/api/webhooks', A.key, { url: 'ftp://x', secret: 's'.repeat(20) })).body
          .error,
      ).toBe('WEBHOOK_BAD_URL');
      expect(
        (await api(s.url, 'POST', '/api/webhooks', A.key, { url: 'https://x.example', secret: 'short' })).body
          .error,
      ).toBe('WEBHOOK_BAD_SECRET');
      expect(
        (
          await api(s.url, 'POST', '/api/webhooks', applicantToken, {
            url: 'https://x.example',
            secret: 's'.repeat(20),
          })
        ).status,
      ).toBe(401);
    });
  });
}
