/**
 * Data safety (issue 15): pseudonyms, upload ownership, department scope, the anchored audit trail,
 * quotas and expiry, rate limits behind a proxy, TSA policy OIDs, error shapes. Run by the server
 * suite on SQLite and on PostgreSQL; every test goes through the real server over HTTP.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createHmac, webcrypto } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECDSA_SHA256, EC_P256, x509 } from '../pki/x509';
import { auditHash, verifyAuditChain } from '../audit';
import { readAnchorFile, verifyAnchoredAudit } from '../audit-anchor';
import { runCli, startTestServer, tempDir, devToken, type TestServer } from './harness';

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
      s = await startTestServer({ databaseUrl: await env.newDatabaseUrl(), caOperators: ['ca-operator'] });
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

    describe('citizen pseudonyms', () => {
      const ID = '110101199003071234';
      const enrolSerialNumber = async (url: string, idNumber = ID) => {
        const token = await devToken(url, '周九', idNumber);
        const k = (await webcrypto.subtle.generateKey(EC_P256, false, ['sign', 'verify'])) as CryptoKeyPair;
        const csr = await x509.Pkcs10CertificateRequestGenerator.create({
          name: 'CN=ignored',
          keys: k,
          signingAlgorithm: ECDSA_SHA256,
        });
        const r = await fetch(`${url}/api/enrol`, {
          method: 'POST',
          body: JSON.stringify({ csr: csr.toString('pem') }),
          headers: { 'content-type': 'application/json', ...auth(token) },
        });
        expect(r.status).toBe(201);
        const cert = new x509.X509Certificate(((await r.json()) as { certificate: string }).certificate);
        const sn = cert.subjectName.getField('2.5.4.5')[0]!;
        expect(sn).toMatch(/^[0-9a-f]{32}$/);
        return sn;
      };
      /** What main computed: anyone who knows the scheme recomputes it from a guessed 身份证号. */
      const unkeyed = (idNumber: string) =>
        createHash('sha256')
          .update('sidian-citizen\0' + idNumber)
          .digest('hex')
          .slice(0, 32);

      it('the certificate serialNumber is keyed by a server secret: stable per person, not recomputable from the ID number', async () => {
        const sn = await enrolSerialNumber(s.url);
        expect(await enrolSerialNumber(s.url)).toBe(sn); // the same person, a second enrolment
        expect(await enrolSerialNumber(s.url, '110101199003075678')).not.toBe(sn);
        // an attacker who knows the ID number and every public detail of the scheme
        expect(sn).not.toBe(unkeyed(ID));
        expect(sn).not.toBe(createHash('sha256').update(ID).digest('hex').slice(0, 32));
        // ... but not the secret: it is the server's, 0600 in a 0700 folder
        const keyFile = path.join(s.dataDir, 'secrets', 'pseudonym.key');
        expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
        expect(fs.statSync(path.dirname(keyFile)).mode & 0o777).toBe(0o700);
        const key = Buffer.from(fs.readFileSync(keyFile, 'utf8').trim(), 'hex');
        expect(key.length).toBeGreaterThanOrEqual(32);
        expect(sn).toBe(
          createHmac('sha256', key)
            .update('sidian-citizen\0' + ID)
            .digest('hex')
            .slice(0, 32),
        );
        // another server (another secret) gives the same person another pseudonym
        const other = await startTestServer({ databaseUrl: await env.newDatabaseUrl() });
        try {
          expect(await enrolSerialNumber(other.url)).not.toBe(sn);
        } finally {
          await other.close();
        }
        // an operator-given secret is used as given
        const secret = 'operator-secret-'.padEnd(48, 'x');
        const given = await startTestServer({
          databaseUrl: await env.newDatabaseUrl(),
          pseudonymSecret: secret,
        });
        try {
          expect(await enrolSerialNumber(given.url)).toBe(
            createHmac('sha256', Buffer.from(secret))
              .update('sidian-citizen\0' + ID)
              .digest('hex')
              .slice(0, 32),
          );
          expect(fs.existsSync(path.join(given.dataDir, 'secrets', 'pseudonym.key'))).toBe(false);
        } finally {
          await given.close();
        }
      });

      it('the audit log and upload metadata carry the keyed pseudonym only; a restart keeps it', async () => {
        const token = await devToken(s.url, '周九', ID);
        const data = new Uint8Array(5000).fill(9);
        const id = await tusClient(s.url).upload(data, token);
        const sn = await enrolSerialNumber(s.url);
        const rows = await s.server.ctx.db
          .selectFrom('audit_log')
          .select(['actor', 'subject'])
          .where('subject', 'like', `material:${id}:%`)
          .execute();
        expect(rows).toHaveLength(1);
        expect(rows[0]!.actor).toBe(`citizen:${sn}`);
        const everything = JSON.stringify(
          await s.server.ctx.db.selectFrom('audit_log').selectAll().execute(),
        );
        const meta = fs.readFileSync(path.join(s.dataDir, 'uploads', `${id}.json`), 'utf8');
        for (const text of [everything, meta]) {
          expect(text).not.toContain(unkeyed(ID));
          expect(text).not.toContain(ID);
        }
        expect(meta).toContain(sn);
        // the same data folder after a restart: same secret, same pseudonym, the material still the citizen's
        const again = await startTestServer({ dataDir: s.dataDir, databaseUrl: s.databaseUrl });
        try {
          expect(await enrolSerialNumber(again.url)).toBe(sn);
          const m = await fetch(`${again.url}/api/materials/${id}`, {
            headers: auth(await devToken(again.url, '周九', ID)),
          });
          expect(m.status).toBe(200);
        } finally {
          await again.close();
        }
      });
    });

    describe('departments scoped', () => {
      const get = (url: string, key: string) => fetch(url, { headers: auth(key) });

      it('a department reads only materials handed in to it; each read is in the audit log', async () => {
        const ctx = s.server.ctx;
        const a = await ctx.auth.createDepartment({
          id: 'dept-a',
          name: '甲局',
          creditCode: '11410000MB0000001A',
        });
        const b = await ctx.auth.createDepartment({
          id: 'dept-b',
          name: '乙局',
          creditCode: '11410000MB0000002B',
        });
        const citizen = await devToken(s.url, '吴十', '110101199205051234');
        const data = new Uint8Array(20_000).fill(3);
        data[0] = 42;
        const tus = tusClient(s.url);
        const m1 = await tus.upload(data, citizen, { department: a.id });
        const m = `${s.url}/api/materials/${m1}`;
        const byHash = (key: string) =>
          fetch(`${s.url}/api/materials/by-hash/${sha256(data)}`, { method: 'HEAD', headers: auth(key) });

        expect(await (await get(m, a.apiKey)).json()).toMatchObject({ id: m1, department: a.id });
        expect((await get(`${m}/content`, a.apiKey)).status).toBe(200);
        expect((await byHash(a.apiKey)).status).toBe(200);
        // department B: nothing — not the metadata, not the bytes, not whether the citizen has the file
        for (const r of [await get(m, b.apiKey), await get(`${m}/content`, b.apiKey)]) {
          expect(r.status).toBe(404);
          expectJsonError(await r.json());
        }
        expect((await byHash(b.apiKey)).status).toBe(404);
        const steal = await fetch(`${s.url}/api/materials`, {
          method: 'POST',
          body: JSON.stringify({ sha256: sha256(data) }),
          headers: { 'content-type': 'application/json', ...auth(b.apiKey) },
        });
        expect(steal.status).toBe(404);
        // nor the upload itself (tus HEAD/PATCH/DELETE), for any department
        expect((await tus.head(`/api/materials/uploads/${m1}`, a.apiKey)).status).toBe(404);
        expect((await tus.head(`/api/materials/uploads/${m1}`, b.apiKey)).status).toBe(404);
        // an unknown department is refused at creation
        const bad = await tus.create(10, citizen, { department: 'no-such-department' });
        expect(bad.status).toBe(422);
        expectJsonError(await bad.json(), 'DEPARTMENT_UNKNOWN');

        // the citizen applies to B with the same content: B sees that material, still not the first
        const reuse = await fetch(`${s.url}/api/materials`, {
          method: 'POST',
          body: JSON.stringify({ sha256: sha256(data), department: b.id }),
          headers: { 'content-type': 'application/json', ...auth(citizen) },
        });
        expect(reuse.status).toBe(201);
        const m3 = ((await reuse.json()) as { id: string }).id;
        expect((await get(`${s.url}/api/materials/${m3}/content`, b.apiKey)).status).toBe(200);
        expect((await get(m, b.apiKey)).status).toBe(404);
        expect((await get(`${s.url}/api/materials/${m3}`, a.apiKey)).status).toBe(404);

        const audit = await ctx.db
          .selectFrom('audit_log')
          .select(['actor', 'action', 'subject'])
          .where('action', 'in', ['material.read', 'material.download', 'material.lookup'])
          .execute();
        const seen = audit.map((e) => `${e.actor} ${e.action} ${e.subject.split(':')[1]}`);
        expect(seen).toContain(`department:${a.id} material.read ${m1}`);
        expect(seen).toContain(`department:${a.id} material.download ${m1}`);
        expect(seen).toContain(`department:${a.id} material.lookup ${m1}`);
        expect(seen).toContain(`department:${b.id} material.download ${m3}`);
        // refused attempts read nothing, so they record no read
        expect(seen.filter((x) => x.startsWith(`department:${b.id}`) && x.endsWith(m1))).toEqual([]);
      });

      it('certificate revocation: the holder or the CA operator, not any department', async () => {
        const ctx = s.server.ctx;
        const op = await ctx.auth.createDepartment({
          id: 'ca-operator',
          name: 'CA',
          creditCode: '11410000MB0000003C',
        });
        const dept = await ctx.auth.createDepartment({ name: '丙局', creditCode: '11410000MB0000004D' });
        const token = await devToken(s.url, '郑十一', '110101199306061234');
        const k = (await webcrypto.subtle.generateKey(EC_P256, false, ['sign', 'verify'])) as CryptoKeyPair;
        const csr = await x509.Pkcs10CertificateRequestGenerator.create({
          name: 'CN=x',
          keys: k,
          signingAlgorithm: ECDSA_SHA256,
        });
        const e = await fetch(`${s.url}/api/enrol`, {
          method: 'POST',
          body: JSON.stringify({ csr: csr.toString('pem') }),
          headers: { 'content-type': 'application/json', ...auth(token) },
        });
        const { serialNumber } = (await e.json()) as { serialNumber: string };
        const revoke = (key: string) =>
          fetch(`${s.url}/api/certificates/${serialNumber}/revoke`, {
            method: 'POST',
            body: JSON.stringify({ reason: 1 }),
            headers: { 'content-type': 'application/json', ...auth(key) },
          });
        const r = await revoke(dept.apiKey);
        expect(r.status).toBe(403);
        expectJsonError(await r.json(), 'CA_OPERATOR_REQUIRED');
        const row = () =>
          ctx.db
            .selectFrom('certificates')
            .select('revoked_at')
            .where('serial', '=', serialNumber)
            .executeTakeFirstOrThrow();
        expect((await row()).revoked_at).toBeNull();
        expect((await revoke(op.apiKey)).status).toBe(200);
        expect((await row()).revoked_at).not.toBeNull();
        const entry = await ctx.db
          .selectFrom('audit_log')
          .select('actor')
          .where('action', '=', 'certificate.revoke')
          .where('subject', '=', `certificate:${serialNumber}`)
          .executeTakeFirstOrThrow();
        expect(entry.actor).toBe('department:ca-operator');
      });
    });

    describe('audit chain anchored', () => {
      /** A server with some history: uploads, reads, enrolments — then anchored. */
      const withHistory = async (o: { auditAnchorMs?: number } = {}) => {
        const srv = await startTestServer({
          databaseUrl: await env.newDatabaseUrl(),
          auditAnchorMs: 0,
          ...o,
        });
        const token = await devToken(srv.url, '王十二', '110101199407071234');
        const tus = tusClient(srv.url);
        for (let i = 0; i < 4; i++) {
          const id = await tus.upload(new Uint8Array(100 + i).fill(i), token);
          await fetch(`${srv.url}/api/materials/${id}`, { headers: auth(token) });
        }
        return srv;
      };
      /** The same check in-process, where the command itself is not the point. */
      const check = (srv: TestServer) =>
        verifyAnchoredAudit(srv.server.ctx.db, {
          tsaCertificate: srv.server.ctx.pki.tsa.der,
          exports: [path.join(srv.dataDir, 'audit-anchors.jsonl')]
            .filter((f) => fs.existsSync(f))
            .map(readAnchorFile),
        });
      const cli = (srv: TestServer, ...extra: string[]) =>
        runCli(['audit', 'verify', '--data', srv.dataDir, ...extra], { DATABASE_URL: srv.databaseUrl ?? '' });
      /** What an attacker with write access to the database does after editing entry `from`: recompute every hash after it. */
      const rehash = async (srv: TestServer, from: number) => {
        const db = srv.server.ctx.db;
        const rows = await db
          .selectFrom('audit_log')
          .selectAll()
          .where('seq', '>=', from)
          .orderBy('seq')
          .execute();
        let prev = (await db
          .selectFrom('audit_log')
          .select('hash')
          .where('seq', '=', from - 1)
          .executeTakeFirst())!.hash;
        for (const r of rows) {
          const hash = auditHash({ ...r, seq: Number(r.seq), prevHash: prev });
          await db.updateTable('audit_log').set({ prev_hash: prev, hash }).where('seq', '=', r.seq).execute();
          prev = hash;
        }
      };

      it('a rewritten history with recomputed hashes fails `sidian audit verify`, even with the anchor table wiped', async () => {
        const srv = await withHistory();
        try {
          const anchor = await srv.server.ctx.auditAnchors.anchorNow();
          expect(anchor).toMatchObject({
            seq: expect.any(Number),
            hash: expect.stringMatching(/^[0-9a-f]{64}$/),
          });
          // the signed head is an RFC 3161 token that openssl verifies against the CA
          const tokenFile = path.join(work, 'anchor.tst');
          fs.writeFileSync(tokenFile, Buffer.from(anchor!.token, 'base64'));
          const imprint = createHash('sha256')
            .update(`sidian-audit-head\0${anchor!.seq}\0${anchor!.hash}`)
            .digest('hex');
          execFileSync(
            'openssl',
            [
              'ts',
              '-verify',
              '-digest',
              imprint,
              '-token_in',
              '-in',
              tokenFile,
              '-CAfile',
              path.join(srv.dataDir, 'pki', 'ca.pem'),
            ],
            { stdio: 'pipe' },
          );
          let r = cli(srv);
          expect(r.code).toBe(0);
          expect(r.stdout).toMatch(
            new RegExp(`anchored: 1 time-stamped heads, the newest at entry ${anchor!.seq}`),
          );
          const exported = path.join(work, `anchors-${Date.now()}.jsonl`);
          r = runCli(['audit', 'anchor-export', '--data', srv.dataDir, '--out', exported], {
            DATABASE_URL: srv.databaseUrl ?? '',
          });
          expect(r.code).toBe(0);
          // later acts, not yet anchored
          await fetch(`${srv.url}/api/materials/by-hash/${'0'.repeat(64)}`, {
            method: 'HEAD',
            headers: auth(await devToken(srv.url)),
          });

          // the attacker edits entry 2 and recomputes the chain: the chain alone looks fine
          const db = srv.server.ctx.db;
          await db
            .updateTable('audit_log')
            .set({ actor: 'citizen:someone-else' })
            .where('seq', '=', 2)
            .execute();
          await rehash(srv, 2);
          expect((await verifyAuditChain(db)).ok).toBe(true);
          r = cli(srv);
          expect(r.code).toBe(1);
          expect(r.stdout).toMatch(/BROKEN at entry \d+: .*rewritten/);

          // and wipes the anchor table and the local file too: the exported copy still tells
          await db.deleteFrom('audit_anchors').execute();
          fs.rmSync(path.join(srv.dataDir, 'audit-anchors.jsonl'));
          expect((await check(srv)).ok).toBe(true); // nothing left here to compare with ...
          r = cli(srv, '--anchors', exported); // ... but the operator's copy
          expect(r.code).toBe(1);
          expect(r.stdout).toContain('missing from the anchor table');

          // a forged anchor (the rewritten head, with the old token) does not verify
          await db
            .insertInto('audit_anchors')
            .values({
              ...anchor!,
              hash: (
                await db
                  .selectFrom('audit_log')
                  .select('hash')
                  .where('seq', '=', anchor!.seq)
                  .executeTakeFirstOrThrow()
              ).hash,
            })
            .execute();
          expect((await check(srv)).broken?.reason).toMatch(/does not verify/);
        } finally {
          await srv.close();
        }
      }, 240_000);

      it('deleting the newest rows fails `sidian audit verify`; the server anchors the head by itself', async () => {
        const srv = await withHistory({ auditAnchorMs: 200 });
        try {
          const db = srv.server.ctx.db;
          const head = await srv.server.ctx.audit.head();
          // the timer time-stamps the head without being asked
          const deadline = Date.now() + 10_000;
          for (;;) {
            const a = await db
              .selectFrom('audit_anchors')
              .select('seq')
              .where('seq', '=', head.seq)
              .executeTakeFirst();
            if (a) break;
            if (Date.now() > deadline) throw new Error('the head was not anchored in 10 s');
            await new Promise((r) => setTimeout(r, 100));
          }
          const mode = fs.statSync(path.join(srv.dataDir, 'audit-anchors.jsonl')).mode & 0o777;
          expect(mode).toBe(0o600);
          // the anchors API gives departments the same lines for their own copy
          const api = await fetch(`${srv.url}/api/audit/anchors`, { headers: auth(srv.apiKey) });
          expect(api.status).toBe(200);
          expect(await api.text()).toContain(`"seq":${head.seq},`);
          expect((await check(srv)).ok).toBe(true);
          // the newest two rows go; the chain that is left is still a valid chain
          await db
            .deleteFrom('audit_log')
            .where('seq', '>', head.seq - 2)
            .execute();
          expect((await verifyAuditChain(db)).ok).toBe(true);
          const r = cli(srv);
          expect(r.code).toBe(1);
          // the first anchored entry past the end is named: the head, or the one before it when
          // the timer anchored that too before the head was appended
          const at = Number(/BROKEN at entry (\d+)/.exec(r.stdout)?.[1]);
          expect(at, r.stdout).toBeGreaterThan(head.seq - 2);
          expect(at, r.stdout).toBeLessThanOrEqual(head.seq);
          expect(r.stdout).toContain('truncated');
        } finally {
          await srv.close();
        }
      }, 240_000);
    });

    describe('quotas, expiry, deletion, file modes', () => {
      it('per-user quota and concurrent uploads; incomplete uploads expire and are cleaned up', async () => {
        const srv = await startTestServer({
          databaseUrl: await env.newDatabaseUrl(),
          limits: { userQuotaBytes: 10_000, concurrentUploads: 3 },
        });
        try {
          const tus = tusClient(srv.url);
          const token = await devToken(srv.url, '冯十三', '110101199508081234');
          const other = await devToken(srv.url, '陈十四', '110101199508085678');
          let r = await tus.create(20_000, token);
          expect(r.status).toBe(413);
          expectJsonError(await r.json(), 'QUOTA_EXCEEDED');
          const a = await tus.create(3000, token);
          expect(a.status).toBe(201);
          const b = await tus.create(3000, token);
          expect(b.status).toBe(201);
          // finishing one: it becomes a material, its bytes still count
          const bLoc = b.headers.get('location')!;
          expect((await tus.patch(bLoc, 0, new Uint8Array(3000).fill(5), token)).status).toBe(204);
          const c = await tus.create(3000, token);
          expect(c.status).toBe(201);
          r = await tus.create(3000, token); // 3000 kept + 3000 + 3000 in progress + 3000 > 10 000
          expect(r.status).toBe(413);
          expectJsonError(await r.json(), 'QUOTA_EXCEEDED');
          // re-using content already stored counts as well
          const reuse = await fetch(`${srv.url}/api/materials`, {
            method: 'POST',
            body: JSON.stringify({ sha256: sha256(new Uint8Array(3000).fill(5)) }),
            headers: { 'content-type': 'application/json', ...auth(token) },
          });
          expect(reuse.status).toBe(413);
          expectJsonError(await reuse.json(), 'QUOTA_EXCEEDED');
          expect((await tus.create(10, token)).status).toBe(201); // a third upload in progress
          r = await tus.create(10, token);
          expect(r.status).toBe(429);
          expectJsonError(await r.json(), 'TOO_MANY_UPLOADS');
          expect((await tus.create(10, other)).status).toBe(201); // the limits are per user

          // the completed upload is a material
          const bId = bLoc.split('/').pop()!;
          expect((await fetch(`${srv.url}/api/materials/${bId}`, { headers: auth(token) })).status).toBe(200);
        } finally {
          await srv.close();
        }

        // expiry (tus expiration extension), on a server whose uploads live 1 s
        const short = await startTestServer({
          databaseUrl: await env.newDatabaseUrl(),
          limits: { userQuotaBytes: 10_000, uploadExpiryMs: 1000 },
        });
        try {
          const tus = tusClient(short.url);
          const token = await devToken(short.url, '冯十三', '110101199508081234');
          const a = await tus.create(6000, token);
          expect(a.status).toBe(201);
          const expires = Date.parse(a.headers.get('upload-expires') ?? '');
          expect(expires).toBeGreaterThan(Date.now() - 5000);
          expect(expires).toBeLessThan(Date.now() + 5000);
          const aLoc = a.headers.get('location')!;
          const aId = aLoc.split('/').pop()!;
          const deadline = Date.now() + 15_000;
          while (fs.existsSync(path.join(short.dataDir, 'uploads', aId)) && Date.now() < deadline)
            await new Promise((res) => setTimeout(res, 200));
          // files and rows gone, the client told so, the room given back
          expect(fs.existsSync(path.join(short.dataDir, 'uploads', aId))).toBe(false);
          expect(fs.existsSync(path.join(short.dataDir, 'uploads', `${aId}.json`))).toBe(false);
          expect([404, 410]).toContain((await tus.head(aLoc, token)).status);
          expect(
            await short.server.ctx.db.selectFrom('uploads').select('id').where('id', '=', aId).execute(),
          ).toEqual([]);
          expect((await tus.create(6000, token)).status).toBe(201);
        } finally {
          await short.close();
        }
      });

      it('the owner deletes a material (audit entry); others cannot; the content goes when nothing else holds it', async () => {
        const tus = tusClient(s.url);
        const token = await devToken(s.url, '褚十五', '110101199609091234');
        const thief = await devToken(s.url, '卫十六', '110101199609095678');
        const data = new Uint8Array(7777).fill(77);
        const id = await tus.upload(data, token);
        const shared = await tus.upload(new Uint8Array(100).fill(1), token);
        const sharedOther = await tus.upload(new Uint8Array(100).fill(1), thief);
        const del = (mid: string, t: string) =>
          fetch(`${s.url}/api/materials/${mid}`, { method: 'DELETE', headers: auth(t) });
        let r = await del(id, thief);
        expect(r.status).toBe(404);
        expectJsonError(await r.json());
        expect(s.server.ctx.blobs.has(sha256(data))).toBe(true);
        r = await del(id, token);
        expect(r.status).toBe(204);
        expect((await fetch(`${s.url}/api/materials/${id}`, { headers: auth(token) })).status).toBe(404);
        expect(s.server.ctx.blobs.has(sha256(data))).toBe(false);
        expect(fs.existsSync(path.join(s.dataDir, 'uploads', id))).toBe(false);
        expect(fs.existsSync(path.join(s.dataDir, 'uploads', `${id}.json`))).toBe(false);
        const entry = await s.server.ctx.db
          .selectFrom('audit_log')
          .select('actor')
          .where('action', '=', 'material.delete')
          .where('subject', 'like', `material:${id}:%`)
          .executeTakeFirstOrThrow();
        expect(entry.actor).toMatch(/^citizen:[0-9a-f]{32}$/);
        // same content held by someone else: their material keeps it
        expect((await del(shared, token)).status).toBe(204);
        const c = await fetch(`${s.url}/api/materials/${sharedOther}/content`, { headers: auth(thief) });
        expect(c.status).toBe(200);
        expect((await c.arrayBuffer()).byteLength).toBe(100);
      });

      it('data files 0600, folders 0700, database 0600; stale temporary blobs are removed at start', async () => {
        const tus = tusClient(s.url);
        const token = await devToken(s.url);
        const data = new Uint8Array(1234).fill(12);
        const id = await tus.upload(data, token);
        const mode = (p: string) => fs.statSync(p).mode & 0o777;
        const blob = s.server.ctx.blobs.pathOf(sha256(data));
        expect(mode(s.dataDir)).toBe(0o700);
        for (const d of ['uploads', 'blobs', 'blobs/sha256', 'blobs/tmp'])
          expect(mode(path.join(s.dataDir, d))).toBe(0o700);
        expect(mode(path.dirname(blob))).toBe(0o700);
        expect(mode(blob)).toBe(0o600);
        expect(mode(path.join(s.dataDir, 'uploads', id))).toBe(0o600);
        expect(mode(path.join(s.dataDir, 'uploads', `${id}.json`))).toBe(0o600);
        if (!s.databaseUrl) {
          for (const f of ['sidian.db', 'sidian.db-wal'])
            if (fs.existsSync(path.join(s.dataDir, f))) expect(mode(path.join(s.dataDir, f))).toBe(0o600);
          expect(fs.existsSync(path.join(s.dataDir, 'sidian.db'))).toBe(true);
        }
        // a temporary blob a kill left behind an hour ago, and one being written right now
        const tmp = path.join(s.dataDir, 'blobs', 'tmp');
        fs.writeFileSync(path.join(tmp, 'left-by-kill'), 'x');
        const old = new Date(Date.now() - 3600_000);
        fs.utimesSync(path.join(tmp, 'left-by-kill'), old, old);
        fs.writeFileSync(path.join(tmp, 'in-flight'), 'y');
        const again = await startTestServer({ dataDir: s.dataDir, databaseUrl: s.databaseUrl });
        try {
          expect(fs.existsSync(path.join(tmp, 'left-by-kill'))).toBe(false);
          expect(fs.existsSync(path.join(tmp, 'in-flight'))).toBe(true);
        } finally {
          await again.close();
          fs.rmSync(path.join(tmp, 'in-flight'), { force: true });
        }
      });
    });

    describe('rate limits behind a proxy', () => {
      const enrol = async (url: string, token?: string, xff?: string) => {
        const k = (await webcrypto.subtle.generateKey(EC_P256, false, ['sign', 'verify'])) as CryptoKeyPair;
        const csr = await x509.Pkcs10CertificateRequestGenerator.create({
          name: 'CN=x',
          keys: k,
          signingAlgorithm: ECDSA_SHA256,
        });
        return fetch(`${url}/api/enrol`, {
          method: 'POST',
          body: JSON.stringify({ csr: csr.toString('pem') }),
          headers: {
            'content-type': 'application/json',
            ...(token ? auth(token) : {}),
            ...(xff ? { 'x-forwarded-for': xff } : {}),
          },
        });
      };
      const stamp = (url: string, xff: string) => {
        const data = path.join(work, 'rl.txt');
        fs.writeFileSync(data, 'x');
        const q = path.join(work, 'rl.tsq');
        execFileSync('openssl', ['ts', '-query', '-data', data, '-sha256', '-out', q], { stdio: 'pipe' });
        return fetch(`${url}/api/tsa`, {
          method: 'POST',
          body: new Uint8Array(fs.readFileSync(q)),
          headers: { 'content-type': 'application/timestamp-query', 'x-forwarded-for': xff },
        });
      };

      it('enrolment is limited per citizen; anonymous requests do not use it up; X-Forwarded-For only from the trusted proxy', async () => {
        const limits = { enrolPerMinute: 3, tsaPerMinute: 3 };
        const proxied = await startTestServer({
          databaseUrl: await env.newDatabaseUrl(),
          limits,
          trustProxy: ['127.0.0.1'],
        });
        const direct = await startTestServer({
          databaseUrl: await env.newDatabaseUrl(),
          limits,
          trustProxy: ['10.9.9.9'],
        });
        try {
          // 20 anonymous (or forged-token) requests from behind the same proxy
          for (let i = 0; i < 20; i++) {
            const r = await enrol(proxied.url, i % 2 ? 'forged.token.x' : undefined, '198.51.100.7');
            expect(r.status).toBe(401);
          }
          const a = await devToken(proxied.url, '蒋十七', '110101199710101234');
          const b = await devToken(proxied.url, '沈十八', '110101199710105678');
          for (let i = 0; i < 3; i++) expect((await enrol(proxied.url, a, '198.51.100.7')).status).toBe(201);
          const r = await enrol(proxied.url, a, '198.51.100.8');
          expect(r.status).toBe(429);
          expectJsonError(await r.json(), 'RATE_LIMITED');
          expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
          expect((await enrol(proxied.url, b, '198.51.100.7')).status).toBe(201); // per token, not per address

          // the time-stamp limit keys on the client address the trusted proxy reports
          for (let i = 0; i < 3; i++) expect((await stamp(proxied.url, '203.0.113.1')).status).toBe(200);
          expect((await stamp(proxied.url, '203.0.113.1')).status).toBe(429);
          expect((await stamp(proxied.url, '203.0.113.2')).status).toBe(200);
          // from anywhere else the header is not believed: a made-up address does not get a fresh budget
          for (let i = 0; i < 3; i++)
            expect((await stamp(direct.url, `203.0.113.${10 + i}`)).status).toBe(200);
          const spoofed = await stamp(direct.url, '203.0.113.99');
          expect(spoofed.status).toBe(429);
          expectJsonError(await spoofed.json(), 'RATE_LIMITED');
        } finally {
          await proxied.close();
          await direct.close();
        }
      });
    });

    void sha256;
  });
}
