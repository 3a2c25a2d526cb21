/**
 * Data safety (issue 15): pseudonyms, upload ownership, department scope, the anchored audit trail,
 * quotas and expiry, rate limits behind a proxy, TSA policy OIDs, error shapes. Run by the server
 * suite on SQLite and on PostgreSQL; every test goes through the real server over HTTP.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, devToken, type TestServer } from './harness';

export interface DataSafetyEnv {
  newDatabaseUrl(): Promise<string | undefined>;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export function expectJsonError(body: unknown, code?: string) {
  expect(body).toMatchObject({ error: expect.any(String), message: expect.any(String) });
  if (code) expect((body as { error: string }).error).toBe(code);
  expect(JSON.stringify(body)).not.toMatch(/\n\s+at |stack|statusCode|FST_/);
}

export function tusClient(url: string) {
  const create = (length: number, token: string, meta: Record<string, string> = {}) =>
    fetch(`${url}/api/materials/uploads`, {
      method: 'POST',
      headers: {
        'tus-resumable': '1.0.0',
        'upload-length': String(length),
        'upload-metadata': Object.entries({ filename: 'id-card.pdf', requirement: 'id-card', ...meta })
          .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
          .join(','),
        ...auth(token),
      },
    });
  const patch = (loc: string, offset: number, chunk: Uint8Array, token: string) =>
    fetch(`${url}${loc}`, {
      method: 'PATCH',
      headers: {
        'tus-resumable': '1.0.0',
        'upload-offset': String(offset),
        'content-type': 'application/offset+octet-stream',
        ...auth(token),
      },
      body: chunk as BodyInit,
    });
  const head = (loc: string, token: string) =>
    fetch(`${url}${loc}`, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0', ...auth(token) } });
  /** Creates and completes an upload; returns the material id. */
  const upload = async (data: Uint8Array, token: string, meta: Record<string, string> = {}) => {
    const c = await create(data.length, token, meta);
    expect(c.status).toBe(201);
    const loc = c.headers.get('location')!;
    const p = await patch(loc, 0, data, token);
    expect(p.status).toBe(204);
    return loc.split('/').pop()!;
  };
  return { create, patch, head, upload };
}

/** `Authorization: Bearer` for portal tokens, `X-Api-Key` for department keys (sdk_…). */
export function auth(credential: string): Record<string, string> {
  return credential.startsWith('sdk_')
    ? { 'x-api-key': credential }
    : { authorization: `Bearer ${credential}` };
}

export function defineDataSafetySuite(env: DataSafetyEnv): void {
  describe('data safety (issue 15)', () => {
    let s: TestServer;
    let work: string;
    beforeAll(async () => {
      s = await startTestServer({ databaseUrl: await env.newDatabaseUrl() });
      work = tempDir('sidian-safety-');
    });
    afterAll(async () => {
      await s?.close();
    });

    describe('upload ownership', () => {
      it('a query string cannot steer HEAD, PATCH or DELETE to another citizen’s upload', async () => {
        const tus = tusClient(s.url);
        const victim = await devToken(s.url, '受害人', '110101199001011234');
        const thief = await devToken(s.url, '小偷', '110101199001015678');
        const c = await tus.create(1000, victim);
        const victimLoc = c.headers.get('location')!;
        const victimId = victimLoc.split('/').pop()!;
        expect((await tus.patch(victimLoc, 0, new Uint8Array(100).fill(1), victim)).status).toBe(204);
        const own = (await tus.create(1000, thief)).headers.get('location')!;
        const trick = `${own}?x=/${victimId}`;

        const h = await tus.head(trick, thief);
        expect(h.status).toBe(400);
        expect(h.headers.get('upload-offset')).toBeNull();
        expect(h.headers.get('upload-metadata')).toBeNull();

        const p = await tus.patch(trick, 100, new Uint8Array(50).fill(6), thief);
        expect(p.status).toBe(400);
        expectJsonError(await p.json(), 'UPLOAD_URL_QUERY');

        const d = await fetch(`${s.url}${trick}`, {
          method: 'DELETE',
          headers: { 'tus-resumable': '1.0.0', ...auth(thief) },
        });
        expect(d.status).toBe(400);
        expectJsonError(await d.json(), 'UPLOAD_URL_QUERY');

        // the victim's upload is untouched: same offset, still there, and the thief's own upload too
        const vh = await tus.head(victimLoc, victim);
        expect(vh.status).toBe(200);
        expect(vh.headers.get('upload-offset')).toBe('100');
        expect((await tus.head(own, thief)).headers.get('upload-offset')).toBe('0');
        // the direct way stays closed as before
        expect((await tus.head(victimLoc, thief)).status).toBe(404);
      });
    });

    describe('error shapes', () => {
      it('a malformed URL, tus protocol errors and Upload-Checksum come back as {error, message}', async () => {
        let r = await fetch(`${s.url}/api/materials/%zz`);
        expect(r.status).toBe(400);
        expect(r.headers.get('content-type')).toContain('application/json');
        expectJsonError(await r.json(), 'BAD_URL');

        const token = await devToken(s.url);
        r = await fetch(`${s.url}/api/materials/uploads`, {
          method: 'POST',
          headers: { 'upload-length': '10', ...auth(token) },
        });
        expect(r.status).toBe(412);
        expectJsonError(await r.json(), 'TUS_RESUMABLE_REQUIRED');

        r = await fetch(`${s.url}/api/materials/uploads`, {
          method: 'POST',
          headers: { 'tus-resumable': '1.0.0', 'upload-length': 'ten', ...auth(token) },
        });
        expect(r.status).toBe(400);
        expect(r.headers.get('content-type')).toContain('application/json');
        expectJsonError(await r.json());

        const tus = tusClient(s.url);
        const loc = (await tus.create(10, token)).headers.get('location')!;
        r = await fetch(`${s.url}${loc}`, {
          method: 'PATCH',
          headers: {
            'tus-resumable': '1.0.0',
            'upload-offset': '0',
            'content-type': 'application/offset+octet-stream',
            'upload-checksum': `sha256 ${Buffer.alloc(32).toString('base64')}`,
            ...auth(token),
          },
          body: new Uint8Array(10),
        });
        expect(r.status).toBe(400);
        expectJsonError(await r.json(), 'CHECKSUM_UNSUPPORTED');
        // nothing was written, and the server does not claim the extension
        const h = await tus.head(loc, token);
        expect(h.headers.get('upload-offset')).toBe('0');
        const o = await fetch(`${s.url}/api/materials/uploads`, { method: 'OPTIONS' });
        expect(o.headers.get('tus-extension') ?? '').not.toContain('checksum');
      });
    });

    describe('TSA policy OIDs with big arcs', () => {
      const tsq = (policy?: string) => {
        const data = path.join(work, 'tsa-data.txt');
        fs.writeFileSync(data, 'policy ' + Math.random());
        const q = path.join(work, `p${Math.random().toString(36).slice(2)}.tsq`);
        execFileSync(
          'openssl',
          [
            'ts',
            '-query',
            '-data',
            data,
            '-sha256',
            '-cert',
            ...(policy ? ['-tspolicy', policy] : []),
            '-out',
            q,
          ],
          { stdio: 'pipe' },
        );
        return new Uint8Array(fs.readFileSync(q));
      };
      const ask = async (url: string, q: Uint8Array) => {
        const r = await fetch(`${url}/api/tsa`, {
          method: 'POST',
          body: q as BodyInit,
          headers: { 'content-type': 'application/timestamp-query' },
        });
        expect(r.status).toBe(200);
        const f = path.join(work, `r${Math.random().toString(36).slice(2)}.tsr`);
        fs.writeFileSync(f, new Uint8Array(await r.arrayBuffer()));
        return execFileSync('openssl', ['ts', '-reply', '-in', f, '-text'], { encoding: 'utf8' });
      };

      it('grants requests naming its own 2.25.<128-bit> policy; a configured policy replaces it', async () => {
        const own = s.server.ctx.tsa.policyOid;
        expect(own).toMatch(/^2\.25\.\d{30,}$/);
        const text = await ask(s.url, tsq(own));
        expect(text).toContain('Status: Granted.');
        expect(text).toContain(`Policy OID: ${own}`);
        // a policy that differs only in the last digits of the big arc is not ours
        const near = own.slice(0, -1) + String((Number(own.slice(-1)) + 1) % 10);
        expect(await ask(s.url, tsq(near))).toContain('Status: Rejected.');

        const configured =
          '2.25.' + BigInt('0x' + createHash('sha256').update('x').digest('hex').slice(0, 32));
        const other = await startTestServer({
          databaseUrl: await env.newDatabaseUrl(),
          tsaPolicy: configured,
        });
        try {
          const t2 = await ask(other.url, tsq(configured));
          expect(t2).toContain('Status: Granted.');
          expect(t2).toContain(`Policy OID: ${configured}`);
          expect(await ask(other.url, tsq(own))).toContain('Status: Rejected.');
          expect(await ask(other.url, tsq())).toContain(`Policy OID: ${configured}`);
        } finally {
          await other.close();
        }
        await expect(
          startTestServer({
            dataDir: tempDir(),
            databaseUrl: await env.newDatabaseUrl(),
            tsaPolicy: '2.25.x',
          }),
        ).rejects.toThrow(/not an OID/);
      });
    });

    void sha256;
  });
}
