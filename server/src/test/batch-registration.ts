/**
 * Batch registration (批量登记, issue 18): the licences of one batch sealing (core's sealBatch with the
 * department's seal) registered in one call, POST /api/licences/batch. Run by the server suite on
 * SQLite and on PostgreSQL, through the real server over HTTP.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealBatch, signerFromPkcs12, type Signer } from '@sidian/core';
import { embedLicence } from '../../../packages/core/src/licence/index';
import { makeLicenceIdentifier } from '../../../packages/core/src/licence/identifier';
import { expectJsonError } from './data-safety';
import { startTestServer, type TestServer } from './harness';
import { minimalPdf, sampleLicence } from './pdfs';

export function defineBatchRegistrationSuite(env: { newDatabaseUrl(): Promise<string | undefined> }): void {
  describe('batch registration (批量登记)', () => {
    let s: TestServer;
    let signer: Signer;
    beforeAll(async () => {
      s = await startTestServer({ databaseUrl: await env.newDatabaseUrl() });
      const pki = path.join(s.dataDir, 'pki');
      signer = await signerFromPkcs12(
        new Uint8Array(fs.readFileSync(path.join(pki, 'seal.p12'))),
        fs.readFileSync(path.join(pki, 'seal.p12.password'), 'utf8').trim(),
      );
    });
    afterAll(async () => {
      await s?.close();
    });

    const licenceFor = (serial: string) => {
      const base = sampleLicence();
      return sampleLicence({
        number: `JY${serial}`,
        identifier: makeLicenceIdentifier({
          typeCode: base.typeCode,
          issuerCode: base.issuer.creditCode,
          serial,
          version: 1,
        }),
      });
    };
    /** The department seals the licences in one batch, as <seal-placer>'s sealBatch does. */
    const sealAll = async (serials: string[]) => {
      const out: Uint8Array[] = [];
      const r = await sealBatch(
        serials.map((serial) => ({ name: serial, pdf: embedLicence(minimalPdf(), licenceFor(serial)) })),
        {
          signer,
          rule: { reason: '电子证照签发', certify: 2 },
          onSealed: (d) => void (out[d.index] = d.pdf),
        },
      );
      expect(r.failed).toBe(0);
      return out;
    };
    const postBatch = (pdfs: Uint8Array[], key: string | null = s.apiKey) =>
      fetch(`${s.url}/api/licences/batch`, {
        method: 'POST',
        body: JSON.stringify({ licences: pdfs.map((p) => Buffer.from(p).toString('base64')) }),
        headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) },
      });
    const status = async (serial: string) =>
      (await fetch(`${s.url}/api/licences/${licenceFor(serial).identifier}`)).status;

    it('registers a sealed batch in one call, each item on its own: refusals do not stop the others', async () => {
      const [a, b, c] = await sealAll(['200001', '200002', '200003']);
      const unsealed = embedLicence(minimalPdf(), licenceFor('200004'));
      const r = await postBatch([a!, b!, unsealed, a!, c!]);
      expect(r.status).toBe(200);
      const body = (await r.json()) as {
        registered: number;
        failed: number;
        results: {
          index: number;
          status: number;
          error?: string;
          licence?: { id: string; status: string };
        }[];
      };
      expect(body).toMatchObject({ registered: 3, failed: 2 });
      expect(body.results.map((x) => x.status)).toEqual([201, 201, 422, 409, 201]);
      expect(body.results[2]).toMatchObject({ error: 'LICENCE_NOT_SEALED', message: expect.any(String) });
      expect(body.results[3]).toMatchObject({ error: 'LICENCE_EXISTS' });
      expect(body.results[4]!.licence).toMatchObject({
        id: licenceFor('200003').identifier,
        status: 'valid',
      });
      expect(JSON.stringify(body)).not.toMatch(/\n\s+at |stack/);
      for (const serial of ['200001', '200002', '200003']) expect(await status(serial)).toBe(200);
      expect(await status('200004')).toBe(404);
      // the registry stores each as it stores a single registration (B-LTA, the sealed bytes a prefix)
      const f = await fetch(`${s.url}/api/licences/${licenceFor('200002').identifier}/file`);
      const stored = new Uint8Array(await f.arrayBuffer());
      expect(Buffer.from(stored.subarray(0, b!.length)).equals(Buffer.from(b!))).toBe(true);
    });

    it('needs the department API key: without it, or with a wrong one, nothing is registered', async () => {
      const [d] = await sealAll(['200010']);
      let r = await postBatch([d!], null);
      expect(r.status).toBe(401);
      expectJsonError(await r.json(), 'API_KEY_REQUIRED');
      r = await postBatch([d!], 'sdk_wrong');
      expect(r.status).toBe(401);
      expectJsonError(await r.json(), 'API_KEY_INVALID');
      expect(await status('200010')).toBe(404);
      // and the same batch with the key goes in
      r = await postBatch([d!]);
      expect(((await r.json()) as { registered: number }).registered).toBe(1);
      expect(await status('200010')).toBe(200);
    });

    it('refuses a body that is not a batch, and batches over 100 licences, with a typed error', async () => {
      const send = (body: string) =>
        fetch(`${s.url}/api/licences/batch`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'x-api-key': s.apiKey },
        });
      for (const body of ['not json', '{}', '{"licences": []}', '{"licences": [1]}']) {
        const r = await send(body);
        expect(r.status, body).toBe(400);
        expectJsonError(await r.json(), 'BATCH_BAD_BODY');
      }
      const r = await send(JSON.stringify({ licences: Array.from({ length: 101 }, () => 'JVBERi0=') }));
      expect(r.status).toBe(400);
      expectJsonError(await r.json(), 'BATCH_TOO_LARGE');
    });
  });
}
