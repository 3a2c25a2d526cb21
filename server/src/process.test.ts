/**
 * Tests that need the server as its own process (`sidian serve` spawned as a child): the PKI and counters survive a restart, and a SIGKILL
 * in the middle of a 50 MB upload loses nothing.
 */
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './db/index';
import {
  devToken,
  freePort,
  postgresAvailable,
  productionOptions,
  runCli,
  spawnServer,
  startPostgres,
  startTestServer,
  stopChild,
  tempDir,
  type PgCluster,
} from './test/harness';

const children: ChildProcess[] = [];
let cluster: Promise<PgCluster> | undefined;
const pgCluster = () => (cluster ??= startPostgres());
const dbKinds = postgresAvailable() ? ['sqlite', 'postgres'] : ['sqlite'];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (cluster) await (await cluster).stop();
});

async function spawn(dataDir: string, env: Record<string, string> = {}, o: { log?: boolean } = {}) {
  const port = await freePort();
  const s = await spawnServer(dataDir, port, env, o);
  children.push(s.child);
  return s;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('sidian serve as a process', { timeout: 300_000 }, () => {
  it('keeps its PKI, department key and TSA serials across restarts', async () => {
    const dataDir = tempDir();
    let s = await spawn(dataDir);
    const trust1 = await (await fetch(`${s.url}/api/trust`)).text();
    const dept1 = fs.readFileSync(path.join(dataDir, 'dev-department.json'), 'utf8');
    const q = path.join(dataDir, 'q.tsq');
    fs.writeFileSync(path.join(dataDir, 'x.txt'), 'x');
    execFileSync('openssl', ['ts', '-query', '-data', path.join(dataDir, 'x.txt'), '-sha256', '-out', q], {
      stdio: 'pipe',
    });
    const serial = async (url: string) => {
      const r = await fetch(`${url}/api/tsa`, {
        method: 'POST',
        body: fs.readFileSync(q),
        headers: { 'content-type': 'application/timestamp-query' },
      });
      const f = path.join(dataDir, 'r.tsr');
      fs.writeFileSync(f, new Uint8Array(await r.arrayBuffer()));
      return BigInt(
        /Serial number: (\S+)/.exec(
          execFileSync('openssl', ['ts', '-reply', '-in', f, '-text'], { stdio: 'pipe' }).toString(),
        )![1]!,
      );
    };
    const a = await serial(s.url);
    await stopChild(s.child, 'SIGKILL'); // no clean shutdown
    s = await spawn(dataDir);
    expect(await (await fetch(`${s.url}/api/trust`)).text()).toBe(trust1);
    expect(fs.readFileSync(path.join(dataDir, 'dev-department.json'), 'utf8')).toBe(dept1);
    const b = await serial(s.url);
    expect(b).toBeGreaterThan(a);
    await stopChild(s.child);
  });

  it.each(dbKinds)(
    'SIGKILL during a 50 MB upload (%s): restart, resume with tus, same SHA-256, no duplicate rows',
    async (kind) => {
      const dataDir = tempDir();
      const databaseUrl =
        kind === 'postgres' ? await (await pgCluster()).createDatabase(`crash_${process.pid}`) : undefined;
      const env: Record<string, string> = databaseUrl ? { DATABASE_URL: databaseUrl } : {};
      let s = await spawn(dataDir, env);
      const token = await devToken(s.url, '周九', '110101198512120019');
      const size = 50 * 1024 * 1024;
      const data = new Uint8Array(size);
      for (let i = 0; i < size; i += 65536) webcrypto.getRandomValues(data.subarray(i, i + 65536));
      const expected = sha256(data);
      const auth = { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' };
      const created = await fetch(`${s.url}/api/materials/uploads`, {
        method: 'POST',
        headers: {
          ...auth,
          'upload-length': String(size),
          'upload-metadata': `filename ${Buffer.from('营业执照.pdf').toString('base64')},requirement ${Buffer.from('licence').toString('base64')}`,
        },
      });
      expect(created.status).toBe(201);
      const loc = created.headers.get('location')!;
      const id = loc.split('/').pop()!;

      // stream the whole file slowly in one PATCH and kill the server part-way
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(ctrl) {
          if (sent >= size) return ctrl.close();
          const n = Math.min(256 * 1024, size - sent);
          ctrl.enqueue(data.slice(sent, sent + n));
          sent += n;
          await new Promise((r) => setTimeout(r, 2));
        },
      });
      const patch = fetch(`${s.url}${loc}`, {
        method: 'PATCH',
        headers: { ...auth, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
        body,
        duplex: 'half',
      } as RequestInit).catch((e: Error) => e);
      while (sent < size * 0.4) await new Promise((r) => setTimeout(r, 10));
      await stopChild(s.child, 'SIGKILL');
      const interrupted = await patch;
      expect(interrupted instanceof Error || (interrupted as Response).status >= 400).toBe(true);

      s = await spawn(dataDir, env);
      const head = await fetch(`${s.url}${loc}`, { method: 'HEAD', headers: auth });
      expect(head.status).toBe(200);
      const offset = Number(head.headers.get('upload-offset'));
      expect(offset).toBeGreaterThan(0);
      expect(offset).toBeLessThan(size);
      console.log(
        `[crash] killed after the client queued ${((sent / size) * 100).toFixed(0)}%; the server had ${((offset / size) * 100).toFixed(1)}% on disk; resuming`,
      );
      const rest = await fetch(`${s.url}${loc}`, {
        method: 'PATCH',
        headers: {
          ...auth,
          'upload-offset': String(offset),
          'content-type': 'application/offset+octet-stream',
        },
        body: data.subarray(offset) as BodyInit,
      });
      expect(rest.status).toBe(204);
      expect(rest.headers.get('x-content-sha256')).toBe(expected);
      const m = await fetch(`${s.url}/api/materials/${id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(await m.json()).toMatchObject({ id, sha256: expected, size, name: '营业执照.pdf' });
      // a second restart finds nothing left to finish and adds no rows
      await stopChild(s.child, 'SIGKILL');
      s = await spawn(dataDir, env);
      const content = await fetch(`${s.url}/api/materials/${id}/content`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(sha256(new Uint8Array(await content.arrayBuffer()))).toBe(expected);
      await stopChild(s.child);
      const db = await openDatabase({ dataDir, databaseUrl });
      try {
        expect(await db.db.selectFrom('materials').selectAll().execute()).toHaveLength(1);
        expect(await db.db.selectFrom('blobs').selectAll().execute()).toHaveLength(1);
        const uploads = await db.db
          .selectFrom('audit_log')
          .selectAll()
          .where('action', '=', 'material.upload')
          .execute();
        expect(uploads).toHaveLength(1);
      } finally {
        await db.close();
      }
      expect(runCli(['audit', 'verify', '--data', dataDir], env).code).toBe(0);
    },
  );

  it('an upload completed just before a crash becomes a material at the next start', async () => {
    const dataDir = tempDir();
    let s = await spawn(dataDir);
    const token = await devToken(s.url);
    const data = new TextEncoder().encode('材料 '.repeat(1000));
    const auth = { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' };
    const created = await fetch(`${s.url}/api/materials/uploads`, {
      method: 'POST',
      headers: { ...auth, 'upload-length': String(data.length) },
    });
    const loc = created.headers.get('location')!;
    await stopChild(s.child, 'SIGKILL');
    // the bytes reached the upload file but the server died before recording the material
    fs.writeFileSync(path.join(dataDir, 'uploads', loc.split('/').pop()!), data);
    s = await spawn(dataDir);
    const m = await fetch(`${s.url}/api/materials/${loc.split('/').pop()}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(m.status).toBe(200);
    expect(((await m.json()) as { sha256: string }).sha256).toBe(sha256(data));
    await stopChild(s.child);
  });
});

describe('logs', { timeout: 120_000 }, () => {
  it('request logs carry no tokens, API keys, CSRs or bodies', async () => {
    const dataDir = tempDir();
    const s = await spawn(dataDir, {}, { log: true });
    const apiKey = (
      JSON.parse(fs.readFileSync(path.join(dataDir, 'dev-department.json'), 'utf8')) as { apiKey: string }
    ).apiKey;
    const token = await devToken(s.url, '吴十', '110101197707070077');
    await fetch(`${s.url}/api/audit`, { headers: { 'x-api-key': apiKey } });
    await fetch(`${s.url}/api/enrol`, {
      method: 'POST',
      body: JSON.stringify({ csr: 'MIIBSECRETCSR' }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    await fetch(`${s.url}/api/audit`, { headers: { 'x-api-key': 'sdk_wrong_key_value' } });
    await new Promise((r) => setTimeout(r, 300));
    await stopChild(s.child);
    const log = s.output();
    expect(log).toContain('"statusCode":');
    for (const secret of [
      apiKey,
      token,
      token.split('.')[2]!,
      'sdk_wrong_key_value',
      'MIIBSECRETCSR',
      '110101197707070077',
    ]) {
      expect(log).not.toContain(secret);
    }
  });
});

describe('limits', { timeout: 120_000 }, () => {
  it('bodies over the verify limit get 413 JSON', async () => {
    const s = await startTestServer({ limits: { verifyBodyBytes: 1024 * 1024 } });
    try {
      const body = new Uint8Array(2 * 1024 * 1024);
      body.set(new TextEncoder().encode('%PDF-1.7\n'));
      const r = await fetch(`${s.url}/api/verify`, {
        method: 'POST',
        body: body as BodyInit,
        headers: { 'content-type': 'application/pdf' },
      });
      expect(r.status).toBe(413);
      expect(await r.json()).toMatchObject({ error: 'PAYLOAD_TOO_LARGE', message: expect.any(String) });
    } finally {
      await s.close();
    }
  });

  it('the default verify limit is 100 MB', async () => {
    const s = await startTestServer();
    try {
      expect(s.server.ctx.limits.verifyBodyBytes).toBe(100 * 1024 * 1024);
      // just over: refused from Content-Length before the body is read
      const r = await fetch(`${s.url}/api/verify`, {
        method: 'POST',
        body: new Uint8Array(100 * 1024 * 1024 + 1) as BodyInit,
        headers: { 'content-type': 'application/pdf' },
      }).catch((e: Error) => e);
      if (r instanceof Error) throw r;
      expect(r.status).toBe(413);
    } finally {
      await s.close();
    }
  });

  it('rate limits on the TSA and enrolment: 429 JSON', async () => {
    const s = await startTestServer({ limits: { tsaPerMinute: 3, enrolPerMinute: 2 } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await fetch(`${s.url}/api/tsa`, {
          method: 'POST',
          body: new Uint8Array([0x30, 0]) as BodyInit,
          headers: { 'content-type': 'application/timestamp-query' },
        });
        codes.push(r.status);
        if (r.status === 429)
          expect(await r.json()).toMatchObject({ error: 'RATE_LIMITED', message: expect.any(String) });
      }
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      // enrolment counts per citizen after the token check: anonymous requests are not counted
      const enrol = async (token?: string) =>
        (
          await fetch(`${s.url}/api/enrol`, {
            method: 'POST',
            body: '{}',
            headers: {
              'content-type': 'application/json',
              ...(token ? { authorization: `Bearer ${token}` } : {}),
            },
          })
        ).status;
      const e: number[] = [];
      for (let i = 0; i < 3; i++) e.push(await enrol());
      expect(e).toEqual([401, 401, 401]);
      const token = await devToken(s.url);
      for (let i = 0; i < 3; i++) e.push(await enrol(token));
      expect(e.slice(3)).toEqual([400, 400, 429]);
    } finally {
      await s.close();
    }
  });
});

describe('CLI', { timeout: 120_000 }, () => {
  it('sidian dev-pki --out DIR writes a CA, seal cert+key+p12, a citizen cert and a TSA cert that openssl accepts', () => {
    const out = path.join(tempDir(), 'pki');
    const r = runCli(['dev-pki', '--out', out, '--password', 'pw123456']);
    expect(r.code).toBe(0);
    for (const f of [
      'ca.pem',
      'ca.key.pem',
      'seal.pem',
      'seal.key.pem',
      'seal.p12',
      'citizen.pem',
      'citizen.p12',
      'tsa.pem',
      'tsa.key.pem',
    ]) {
      expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    }
    expect(fs.statSync(path.join(out, 'seal.key.pem')).mode & 0o077).toBe(0);
    const v = execFileSync('openssl', [
      'verify',
      '-CAfile',
      path.join(out, 'ca.pem'),
      path.join(out, 'seal.pem'),
      path.join(out, 'citizen.pem'),
      path.join(out, 'tsa.pem'),
    ]);
    expect(v.toString().match(/: OK/g)).toHaveLength(3);
    const p12 = execFileSync('openssl', [
      'pkcs12',
      '-in',
      path.join(out, 'seal.p12'),
      '-passin',
      'pass:pw123456',
      '-nodes',
    ]).toString();
    expect(p12).toContain('PRIVATE KEY');
    expect(runCli(['dev-pki']).code).toBe(2);
  });

  it('sidian dev-pki also writes the 国密 set: an SM2 root, SM2 TSA and SM2 seal (SM2-with-SM3) that openssl verifies with the SM2 default ID', () => {
    const out = path.join(tempDir(), 'pki');
    expect(runCli(['dev-pki', '--out', out, '--password', 'pw123456']).code).toBe(0);
    for (const f of ['sm2-ca', 'sm2-tsa', 'sm2-seal']) {
      const text = execFileSync('openssl', ['x509', '-in', path.join(out, `${f}.pem`), '-noout', '-text']);
      expect(text.toString()).toMatch(/Signature Algorithm: SM2-with-SM3/);
      expect(text.toString()).toMatch(/ASN1 OID: SM2/);
      expect(fs.statSync(path.join(out, `${f}.key.pem`)).mode & 0o077).toBe(0);
      // the key is an SM2 key OpenSSL reads (PKCS#8, id-ecPublicKey with the SM2 curve)
      expect(
        execFileSync('openssl', [
          'pkey',
          '-in',
          path.join(out, `${f}.key.pem`),
          '-noout',
          '-text',
        ]).toString(),
      ).toMatch(/ASN1 OID: SM2/);
    }
    // OpenSSL 3.0 computes Z with an empty ID unless told; our certificates use the GM/T 0009 default
    const v = (file: string, distid: boolean) =>
      spawnSync(
        'openssl',
        [
          'verify',
          ...(distid ? ['-vfyopt', 'distid:1234567812345678'] : []),
          '-CAfile',
          path.join(out, 'sm2-ca.pem'),
          path.join(out, file),
        ],
        { encoding: 'utf8' },
      );
    for (const f of ['sm2-tsa.pem', 'sm2-seal.pem']) {
      expect(v(f, true).stdout).toContain(': OK');
      expect(v(f, false).status).not.toBe(0);
    }
    // the P-256 root does not vouch for the SM2 certificates
    const cross = spawnSync(
      'openssl',
      [
        'verify',
        '-vfyopt',
        'distid:1234567812345678',
        '-CAfile',
        path.join(out, 'ca.pem'),
        path.join(out, 'sm2-seal.pem'),
      ],
      { encoding: 'utf8' },
    );
    expect(cross.status).not.toBe(0);
  });
});

describe('production mode', { timeout: 120_000 }, () => {
  it('no development tokens; departments from departments.json; audit only with an API key; portal tokens from the configured key', async () => {
    const dataDir = tempDir();
    const apiKey = 'sdk_' + 'k'.repeat(40);
    fs.writeFileSync(
      path.join(dataDir, 'departments.json'),
      JSON.stringify([
        {
          id: 'amr',
          name: '项城市市场监督管理局',
          creditCode: '114116810055987734',
          apiKeySha256: createHash('sha256').update(apiKey).digest('hex'),
        },
      ]),
    );
    const { options, portal } = await productionOptions();
    const s = await startTestServer({ ...options, dataDir });
    try {
      expect(
        (
          await fetch(`${s.url}/api/dev/token`, {
            method: 'POST',
            body: '{}',
            headers: { 'content-type': 'application/json' },
          })
        ).status,
      ).toBe(404);
      expect(fs.existsSync(path.join(dataDir, 'dev-department.json'))).toBe(false);
      expect((await fetch(`${s.url}/api/audit`)).status).toBe(401);
      expect((await fetch(`${s.url}/api/audit`, { headers: { 'x-api-key': apiKey } })).status).toBe(200);
      const token = await portal.token();
      const r = await fetch(`${s.url}/api/materials/by-hash/${'0'.repeat(64)}`, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(r.status).toBe(404); // authenticated, nothing stored
      const wrongAud = await portal.token({ audience: 'someone-else' });
      expect(
        (
          await fetch(`${s.url}/api/materials/by-hash/${'0'.repeat(64)}`, {
            method: 'HEAD',
            headers: { authorization: `Bearer ${wrongAud}` },
          })
        ).status,
      ).toBe(401);
    } finally {
      await s.close();
    }
  });
});
