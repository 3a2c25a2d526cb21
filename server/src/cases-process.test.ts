/**
 * Cases (联办) with the server as its own process: a SIGKILL between storing a sealed PDF and the
 * transaction that moves the case (the server paused there by a test-only variable), then a
 * restart: the case is as it was, nothing half-done is visible, the same PDF is accepted once, the
 * webhook outbox written before the crash is delivered after it, and the audit trail verifies.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyPdf } from '@sidian/core';
import { api, devDepartment, sealFor, sseClient, submitSeal } from './test/cases-suite';
import { minimalPdf } from './test/pdfs';
import { verifyWebhookSignature } from './cases/webhooks';
import {
  freePort,
  postgresAvailable,
  runCli,
  spawnServer,
  startPostgres,
  stopChild,
  tempDir,
  type PgCluster,
  type TestServer,
} from './test/harness';

const children: ChildProcess[] = [];
let cluster: Promise<PgCluster> | undefined;
const pgCluster = () => (cluster ??= startPostgres());
const dbKinds = postgresAvailable() ? ['sqlite', 'postgres'] : ['sqlite'];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (cluster) await (await cluster).stop();
});

describe('cases: crash between the seal and the state change', { timeout: 300_000 }, () => {
  it.each(dbKinds)(
    'SIGKILL after the sealed PDF is stored, before the transaction (%s): restart, consistent; the same PDF is accepted once; the outbox is delivered',
    async (kind) => {
      const dataDir = tempDir('sidian-cases-crash-');
      const databaseUrl =
        kind === 'postgres'
          ? await (await pgCluster()).createDatabase(`cases_crash_${process.pid}`)
          : undefined;
      const env: Record<string, string> = databaseUrl ? { DATABASE_URL: databaseUrl } : {};
      const marker = path.join(dataDir, 'paused-before-case-commit');
      const port = await freePort();
      let s = await spawnServer(dataDir, port, { ...env, SIDIAN_TEST_PAUSE_BEFORE_CASE_COMMIT: marker });
      children.push(s.child);
      const C = await devDepartment({
        dataDir,
        apiKey: JSON.parse(fs.readFileSync(path.join(dataDir, 'dev-department.json'), 'utf8')).apiKey,
      } as TestServer);

      // the department's business system is down while the server runs the first time
      const secret = 'whsec-crash-' + 'q'.repeat(20);
      const hookPort = await freePort();
      expect(
        (
          await api(s.url, 'POST', '/api/webhooks', C.key, {
            url: `http://127.0.0.1:${hookPort}/hook`,
            secret,
          })
        ).status,
      ).toBe(201);

      const doc0 = minimalPdf();
      const opened = await api(s.url, 'POST', '/api/cases', C.key, {
        service: '个体工商户登记',
        applicant: { name: '钱七', idNumber: '110101197707070077' },
        document: Buffer.from(doc0).toString('base64'),
        route: [
          [{ department: C.id, action: 'seal', deadline: new Date(Date.now() + 86400_000).toISOString() }],
        ],
      });
      expect(opened.status).toBe(201);
      const id = opened.body.id as string;
      const { sealed, step } = await sealFor(s.url, C, id);

      // the seal request stops after the blob is stored; kill the server there
      const pending = submitSeal(s.url, C, id, step, sealed).catch((e: unknown) => e);
      const end = Date.now() + 60_000;
      while (!fs.existsSync(marker) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(fs.existsSync(marker)).toBe(true);
      await stopChild(s.child, 'SIGKILL');
      expect(await pending).toBeInstanceOf(Error); // the clerk saw no answer

      // the receiver comes up; the server restarts without the pause
      const received: { key: string; type: string }[] = [];
      const receiver = http.createServer((req, res) => {
        let body = '';
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          const ok = verifyWebhookSignature({
            secret,
            timestamp: req.headers['sidian-timestamp'] as string,
            body,
            signature: req.headers['sidian-signature'] as string,
          });
          if (ok) received.push({ key: String(req.headers['idempotency-key']), type: JSON.parse(body).type });
          res.writeHead(ok ? 200 : 401).end();
        });
      });
      await new Promise<void>((r) => receiver.listen(hookPort, '127.0.0.1', r));
      try {
        s = await spawnServer(dataDir, port, env);
        children.push(s.child);

        // nothing half-done: the case, its step, its document and its events are as before the seal
        const c = await api(s.url, 'GET', `/api/cases/${id}`, C.key);
        expect(c.body).toMatchObject({ status: 'in-progress', version: 1, stage: 1 });
        expect(c.body.steps[0]).toMatchObject({ status: 'active', version: 1 });
        const doc = new Uint8Array(
          await (
            await fetch(`${s.url}/api/cases/${id}/document`, { headers: { 'x-api-key': C.key } })
          ).arrayBuffer(),
        );
        expect(doc).toEqual(doc0);
        const audit1 = runCli(['audit', 'verify', '--data', dataDir], env);
        expect(audit1.stdout).toContain('cases: 1 agree with the audit trail');
        expect(audit1.code).toBe(0);

        // the clerk sends the same sealed PDF again: accepted once, not twice
        const again = await submitSeal(s.url, C, id, step, sealed);
        expect(again.status).toBe(200);
        expect(again.body).toMatchObject({ status: 'done', version: 2 });
        const twice = await submitSeal(s.url, C, id, step, sealed);
        expect(twice.status).toBe(409);
        const final = new Uint8Array(
          await (
            await fetch(`${s.url}/api/cases/${id}/document`, { headers: { 'x-api-key': C.key } })
          ).arrayBuffer(),
        );
        expect(final).toEqual(sealed);
        const report = await verifyPdf(final, {
          trustAnchors: [await (await fetch(`${s.url}/api/trust`)).text()],
        });
        expect(report.signatures.map((x) => [x.kind, x.status])).toEqual([['certification', 'valid']]);

        // the events, from the start: each once, in order
        const sse = sseClient(`${s.url}/api/cases/events`, { 'x-api-key': C.key, 'last-event-id': '0' });
        await sse.waitFor(() => sse.events.length >= 3);
        await new Promise((r) => setTimeout(r, 200));
        expect(sse.events.map((e) => e.type)).toEqual(['case.opened', 'step.sealed', 'case.completed']);
        await sse.close();
        // the delivery queued before the crash (case.opened) and the two after it arrive, each once
        const until = Date.now() + 30_000;
        while (received.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 300));
        // webhooks are at least once, not in order: the one retried after the crash may come last;
        // the idempotency key carries the event's sequence number, by which a receiver orders them
        const seqOf = (r: { key: string }) => Number(/(\d+)$/.exec(r.key)?.[1]);
        expect([...received].sort((a, b) => seqOf(a) - seqOf(b)).map((r) => r.type)).toEqual([
          'case.opened',
          'step.sealed',
          'case.completed',
        ]);
        expect(new Set(received.map((r) => r.key)).size).toBe(3);
        const log = await api(s.url, 'GET', '/api/webhooks/deliveries', C.key);
        expect(log.body.items.map((i: { status: string }) => i.status)).toEqual([
          'delivered',
          'delivered',
          'delivered',
        ]);
        expect(
          log.body.items.find((i: { type: string }) => i.type === 'case.opened').attempts,
        ).toBeGreaterThanOrEqual(2);

        await stopChild(s.child);
        const audit2 = runCli(['audit', 'verify', '--data', dataDir], env);
        expect(audit2.code).toBe(0);
      } finally {
        await new Promise<void>((r) => receiver.close(() => r()));
      }
    },
  );
});
