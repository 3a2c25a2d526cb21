/**
 * Issue 18, auto fill on the server: `GET /api/prefill?service=...` returns, for the applicant of
 * the portal token, the values the registry can vouch for — the applicant's identity and the
 * applicant's own valid licences of the service's types — each with its source licence. Another
 * applicant's licences, revoked, expired and not-yet-valid licences are never sources; without a
 * citizen token it fails. Real server over HTTP, on SQLite and (when installed) PostgreSQL.
 */
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedLicence } from '../../packages/core/src/licence/index';
import { makeLicenceIdentifier } from '../../packages/core/src/licence/identifier';
import {
  devToken,
  postgresAvailable,
  startPostgres,
  startTestServer,
  type PgCluster,
  type TestServer,
} from './test/harness';
import { minimalPdf, sampleLicence, sealWith } from './test/pdfs';

const TYPE = sampleLicence().typeCode;
const SERVICE = { code: 'TEST-SVC', name: '测试事项', nameEn: 'Test service', licenceTypes: [TYPE] };
const A = { name: '张三', idNumber: '110101199003074477' };
const B = { name: '李四', idNumber: '110101198506120019' };

interface Prefill {
  service: { code: string };
  values: Record<string, string>;
  sources: Record<string, string>;
  licences: Record<
    string,
    {
      id: string;
      typeCode: string;
      typeName: string;
      issuer: { name: string; creditCode: string };
      status: string;
    }
  >;
}

function defineSuite(newDatabaseUrl: () => Promise<string | undefined>) {
  let s: TestServer;
  let tokenA: string;
  let tokenB: string;
  const ids: Record<string, string> = {};

  const licence = (
    serial: string,
    holder: { name: string; idNumber: string },
    over: Partial<ReturnType<typeof sampleLicence>> = {},
  ) =>
    sampleLicence({
      number: `JY${serial}`,
      identifier: makeLicenceIdentifier({
        typeCode: TYPE,
        issuerCode: sampleLicence().issuer.creditCode,
        serial,
        version: 1,
      }),
      holder: { name: holder.name, idType: '居民身份证', idNumber: holder.idNumber },
      ...over,
    });
  async function register(l: ReturnType<typeof sampleLicence>): Promise<string> {
    const pdf = await sealWith(s.dataDir, embedLicence(minimalPdf(), l), { certify: 2 });
    const r = await fetch(`${s.url}/api/licences`, {
      method: 'POST',
      body: pdf as BodyInit,
      headers: { 'x-api-key': s.apiKey, 'content-type': 'application/pdf' },
    });
    expect(r.status, await r.clone().text()).toBe(201);
    return l.identifier;
  }
  async function prefill(token: string | null, service = SERVICE.code, headers: Record<string, string> = {}) {
    const r = await fetch(`${s.url}/api/prefill?service=${encodeURIComponent(service)}`, {
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    });
    return {
      status: r.status,
      body: (await r.json()) as Prefill & { error?: string; message?: string },
      headers: r.headers,
    };
  }

  beforeAll(async () => {
    s = await startTestServer({ databaseUrl: await newDatabaseUrl(), prefillServices: [SERVICE] });
    tokenA = await devToken(s.url, A.name, A.idNumber);
    tokenB = await devToken(s.url, B.name, B.idNumber);
    ids.a = await register(
      licence('700001', A, { data: { 名称: '项城市张三小吃店', 经营场所: '项城市莲花大道88号一楼' } }),
    );
    ids.aRevoked = await register(
      licence('700002', A, { data: { 名称: '已注销的店', 经营场所: '已注销的地址' } }),
    );
    const rv = await fetch(`${s.url}/api/licences/${ids.aRevoked}/revoke`, {
      method: 'POST',
      body: JSON.stringify({ reason: '注销' }),
      headers: { 'x-api-key': s.apiKey, 'content-type': 'application/json' },
    });
    expect(rv.status).toBe(200);
    ids.aExpired = await register(
      licence('700003', A, {
        issueDate: '2018-01-01',
        validFrom: '2018-01-01',
        validUntil: '2023-01-01',
        data: { 名称: '过期的店' },
      }),
    );
    ids.aFuture = await register(
      licence('700004', A, {
        validFrom: '2099-01-01',
        validUntil: '2104-01-01',
        data: { 名称: '未生效的店' },
      }),
    );
    ids.b = await register(
      licence('700005', B, { data: { 名称: '项城市李四烟酒店', 经营场所: '项城市光武大道1号' } }),
    );
  }, 180_000);
  afterAll(async () => {
    await s?.close();
  });

  it("returns the applicant's identity and own valid licence, each value with its source", async () => {
    const r = await prefill(tokenA);
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.body.service.code).toBe(SERVICE.code);
    expect(r.body.values).toMatchObject({
      'identity.name': A.name,
      'identity.idNumber': A.idNumber,
      'licence.holderName': A.name,
      'licence.number': 'JY700001',
      'licence.data.名称': '项城市张三小吃店',
      'licence.data.经营场所': '项城市莲花大道88号一楼',
      [`licence.${TYPE}.data.名称`]: '项城市张三小吃店',
    });
    expect(r.body.sources['identity.name']).toBe('identity');
    expect(r.body.sources['licence.data.名称']).toBe(ids.a);
    expect(r.body.licences[ids.a!]).toMatchObject({
      id: ids.a,
      typeCode: TYPE,
      typeName: sampleLicence().typeName,
      issuer: sampleLicence().issuer,
      status: 'valid',
    });
    // revoked, expired and not yet valid licences are no source
    expect(Object.keys(r.body.licences)).toEqual([ids.a]);
    const all = JSON.stringify(r.body);
    for (const gone of ['已注销的店', '过期的店', '未生效的店', 'JY700002', 'JY700003', 'JY700004'])
      expect(all).not.toContain(gone);
  });

  it("never returns another applicant's values", async () => {
    const a = JSON.stringify((await prefill(tokenA)).body);
    for (const theirs of ['李四', B.idNumber, '项城市李四烟酒店', '光武大道', 'JY700005', ids.b!])
      expect(a).not.toContain(theirs);
    const b = await prefill(tokenB);
    expect(b.body.values['licence.data.名称']).toBe('项城市李四烟酒店');
    expect(b.body.values['identity.idNumber']).toBe(B.idNumber);
    const bs = JSON.stringify(b.body);
    for (const mine of ['张三', A.idNumber, '小吃店', 'JY700001', ids.a!]) expect(bs).not.toContain(mine);
  });

  it('fails without a citizen token, with a department key, with a forged token', async () => {
    const none = await prefill(null);
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('TOKEN_REQUIRED');
    const dept = await prefill(null, SERVICE.code, { 'x-api-key': s.apiKey });
    expect(dept.status).toBe(401);
    expect(JSON.stringify(dept.body)).not.toContain('小吃店');
    // a token with A's identity signed by a key that is not the portal's
    const { privateKey } = await jose.generateKeyPair('ES256');
    const forged = await new jose.SignJWT({ name: A.name, idNumber: A.idNumber })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('sidian-dev-portal')
      .setAudience('sidian')
      .setSubject(A.idNumber)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
    const f = await prefill(forged);
    expect(f.status).toBe(401);
    expect(JSON.stringify(f.body)).not.toContain('小吃店');
  });

  it('needs a known service', async () => {
    const unknown = await prefill(tokenA, 'NO-SUCH-SERVICE');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('SERVICE_NOT_FOUND');
    const r = await fetch(`${s.url}/api/prefill`, { headers: { authorization: `Bearer ${tokenA}` } });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toBe('SERVICE_REQUIRED');
  });

  it('a licence revoked now stops being a source', async () => {
    const rv = await fetch(`${s.url}/api/licences/${ids.a}/revoke`, {
      method: 'POST',
      body: JSON.stringify({ reason: '注销' }),
      headers: { 'x-api-key': s.apiKey, 'content-type': 'application/json' },
    });
    expect(rv.status).toBe(200);
    const r = await prefill(tokenA);
    expect(r.body.licences).toEqual({});
    expect(Object.keys(r.body.values).sort()).toEqual(['identity.idNumber', 'identity.name']);
  });
}

describe('GET /api/prefill on SQLite', () => {
  defineSuite(async () => undefined);
});

describe.skipIf(!postgresAvailable())('GET /api/prefill on PostgreSQL', () => {
  let cluster: PgCluster | undefined;
  let n = 0;
  beforeAll(async () => {
    cluster = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  defineSuite(async () => cluster!.createDatabase(`sidian_prefill_${process.pid}_${++n}`));
});
