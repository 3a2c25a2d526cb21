/**
 * GB/T 38540 seals on the server (routes/seals.ts), real server over HTTP, on SQLite and on
 * PostgreSQL: a department gets an SESeal made by the seal authority (制章者) for its SM2
 * certificate; anyone reads it; the holding department revokes it and from then on it (and the
 * signatures made with it) fail verification. Attackers: no key, another department's key, another
 * department's certificate, a non-SM2 or untrusted certificate.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeSeal,
  makeSesSignature,
  parseSeal,
  sealPdf,
  signerFromSm2,
  sm3,
  verifySeal,
  type SealedVerificationReport,
  type SealVerification,
} from '@sidian/core';
import { minimalPdf, sampleLicence } from './test/pdfs';
import { embedLicence, makeLicenceIdentifier } from '../../packages/core/src/licence/index';
import {
  createCa,
  issueCertificate,
  makeTempDir,
  removeDir,
  type Ca,
  type Entity,
} from '../../tests/helpers/openssl-pki';
import { DEMO_DEPARTMENT, generateDevPki, writeDevPki } from './pki/dev-pki';
import { openDatabase } from './db/index';
import { sql } from 'kysely';
import { fromPem, toPem } from './pki/x509';
import {
  postgresAvailable,
  startPostgres,
  startTestServer,
  tempDir,
  type PgCluster,
  type TestServer,
} from './test/harness';

const PNG = new Uint8Array(
  fs.readFileSync(
    path.join(path.dirname(new URL(import.meta.url).pathname), '../../tests/gm/ofdrw/UserV4.esl'),
  ),
);

interface SealJson {
  esID: string;
  status: string;
  name: string;
  type: number;
  seal: string;
  revokedAt: string | null;
  revocationReason: string | null;
}

function defineSealSuite(newDatabaseUrl: () => Promise<string | undefined>) {
  let s: TestServer;
  let work: string;
  let sm2Ca: Ca;
  let deptCert: Entity;
  let otherCert: Entity;
  let otherKey: string;
  let makerRoot: Uint8Array;
  let picture: string;

  beforeAll(async () => {
    work = makeTempDir('sidian-seals-');
    // an SM2 CA the server trusts (beside its P-256 CA), as an operator adds one in <data>/pki/trust.pem
    sm2Ca = createCa(work, { name: 'sm2-ca', key: 'sm2', subject: '/C=CN/O=四电测试/CN=四电 SM2 根 CA' });
    deptCert = issueCertificate(sm2Ca, {
      name: 'dept',
      key: 'sm2',
      subject: `/C=CN/O=${DEMO_DEPARTMENT.name}/organizationIdentifier=${DEMO_DEPARTMENT.creditCode}/CN=${DEMO_DEPARTMENT.name}`,
    });
    otherCert = issueCertificate(sm2Ca, {
      name: 'other',
      key: 'sm2',
      subject: '/C=CN/O=另一局/organizationIdentifier=91110000000000000X/CN=另一局',
    });
    const dataDir = tempDir('sidian-seals-data-');
    writeDevPki(path.join(dataDir, 'pki'), await generateDevPki());
    fs.writeFileSync(path.join(dataDir, 'pki', 'trust.pem'), sm2Ca.certPem);
    s = await startTestServer({ dataDir, databaseUrl: await newDatabaseUrl() });
    otherKey = (
      await s.server.ctx.auth.createDepartment({ name: '另一局', creditCode: '91110000000000000X' })
    ).apiKey;
    [makerRoot] = fromPem(
      fs.readFileSync(path.join(dataDir, 'pki', 'seal-maker', 'root.pem'), 'utf8'),
      'CERTIFICATE',
    );
    // a picture: the PNG inside the ofdrw seal
    picture = Buffer.from(parseSeal(PNG).picture.data).toString('base64');
  });

  afterAll(async () => {
    await s?.close();
    if (work) removeDir(work);
  });

  const request = (body: unknown, apiKey?: string) =>
    fetch(`${s.url}/api/seals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(apiKey ? { 'x-api-key': apiKey } : {}) },
      body: JSON.stringify(body),
    });

  const sealBody = (cert: Entity | string = deptCert) => ({
    certificate: typeof cert === 'string' ? cert : cert.certPem,
    picture,
    name: '项城市市场监督管理局业务专用章',
    type: 3,
    validEnd: new Date(Date.now() + 180 * 86_400_000).toISOString(),
    width: 42,
  });

  const verifyOnServer = async (
    der: Uint8Array,
    query = '',
  ): Promise<SealVerification & { kind: string }> => {
    const r = await fetch(`${s.url}/api/seals/verify${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: der as BodyInit,
    });
    expect(r.status).toBe(200);
    return (await r.json()) as SealVerification & { kind: string };
  };

  let rogueMakers = 0;
  /**
   * Attacker: a seal `name` of `type` for the department's certificate, made by a maker the server
   * does not name (a new SM2 key, its certificate from sm2Ca, which the server trusts for signers).
   */
  const rogueSeal = (name: string, type: number) => {
    const rogueMaker = issueCertificate(sm2Ca, {
      name: `rogue-maker-${++rogueMakers}`,
      key: 'sm2',
      subject: '/C=CN/CN=冒充制章者',
    });
    return makeSeal({
      maker: signerFromSm2(rogueMaker.keyPkcs8, rogueMaker.certDer, [sm2Ca.certDer]),
      name,
      type,
      holderCertificates: [deptCert.certDer],
      picture: { type: 'PNG', data: new Uint8Array(Buffer.from(picture, 'base64')), width: 42, height: 42 },
      validStart: new Date(Date.now() - 60_000),
      validEnd: new Date(Date.now() + 86_400_000),
    });
  };

  let made: SealJson;

  it('a department gets a signed SESeal for its SM2 certificate, made by the SM2 seal authority', async () => {
    const r = await request(sealBody(), s.apiKey);
    expect(r.status).toBe(201);
    made = (await r.json()) as SealJson;
    expect(made).toMatchObject({ status: 'valid', name: '项城市市场监督管理局业务专用章', type: 3 });
    expect(r.headers.get('location')).toBe(`/api/seals/${made.esID}`);
    const der = new Uint8Array(Buffer.from(made.seal, 'base64'));
    const seal = parseSeal(der);
    expect(seal).toMatchObject({
      format: 'GB/T 38540-2020',
      esID: made.esID,
      picture: { type: 'PNG', width: 42, height: 42 },
    });
    expect(seal.property.certs).toEqual([deptCert.certDer]);
    // verified offline against the seal authority's root
    const v = await verifySeal(der, { trustAnchors: [makerRoot] });
    expect(v.problems).toEqual([]);
    expect(v.trust).toBe('trusted');
    // the maker's key is SM2 and not the enrolment CA's
    expect(Buffer.from(seal.makerCertificate).equals(Buffer.from(s.server.ctx.pki.ca.der))).toBe(false);
    // and the server says the same
    expect(await verifyOnServer(der)).toMatchObject({ kind: 'seal', status: 'valid', trust: 'trusted' });
  });

  it('GET /api/seals/:esID shows it to anyone; an unknown id is 404', async () => {
    const r = await fetch(`${s.url}/api/seals/${made.esID}`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ esID: made.esID, status: 'valid', seal: made.seal });
    const missing = await fetch(`${s.url}/api/seals/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'SEAL_NOT_FOUND' });
  });

  it("GET /api/seals/trust serves the seal authority's anchors (PEM): the seals made here verify against them", async () => {
    const r = await fetch(`${s.url}/api/seals/trust`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/x-pem-file');
    const anchors = fromPem(await r.text(), 'CERTIFICATE');
    expect(anchors).toEqual([makerRoot]);
    const v = await verifySeal(new Uint8Array(Buffer.from(made.seal, 'base64')), { trustAnchors: anchors });
    expect(v).toMatchObject({ status: 'valid', trust: 'trusted' });
    // not the PDF signers' anchors: /api/trust does not carry the seal maker's root
    const signers = fromPem(await (await fetch(`${s.url}/api/trust?crl=0`)).text(), 'CERTIFICATE');
    expect(signers.some((a) => Buffer.from(a).equals(Buffer.from(makerRoot)))).toBe(false);
  });

  it('attackers: no API key (401), a wrong key (401), another department for this department (403)', async () => {
    const anon = await request(sealBody());
    expect(anon.status).toBe(401);
    expect(await anon.json()).toMatchObject({ error: 'API_KEY_REQUIRED' });
    const wrong = await request(sealBody(), 'sdk_not-a-key');
    expect(wrong.status).toBe(401);
    const other = await request(sealBody(), otherKey);
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ error: 'SEAL_OTHER_DEPARTMENT' });
    // nor can this department get a seal listing the other department's certificate
    const foreign = await request(sealBody(otherCert), s.apiKey);
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ error: 'SEAL_OTHER_DEPARTMENT' });
  });

  it('refused: a non-SM2 certificate, a certificate from an untrusted CA, bad input', async () => {
    const p256 = await request(sealBody(toPem(s.server.ctx.pki.seal.der, 'CERTIFICATE')), s.apiKey);
    expect(p256.status).toBe(422);
    expect(await p256.json()).toMatchObject({ error: 'SEAL_NOT_SM2' });
    const rogueCa = createCa(work, { name: 'rogue', key: 'sm2' });
    const rogue = issueCertificate(rogueCa, {
      name: 'rogue-dept',
      key: 'sm2',
      subject: `/C=CN/organizationIdentifier=${DEMO_DEPARTMENT.creditCode}/CN=${DEMO_DEPARTMENT.name}`,
    });
    const untrusted = await request(sealBody(rogue), s.apiKey);
    expect(untrusted.status).toBe(422);
    expect(await untrusted.json()).toMatchObject({ error: 'SEAL_CERTIFICATE_UNTRUSTED' });
    const noPicture = await request(
      { ...sealBody(), picture: Buffer.from('not a picture').toString('base64') },
      s.apiKey,
    );
    expect(noPicture.status).toBe(400);
    expect(await noPicture.json()).toMatchObject({ error: 'SEAL_BAD_PICTURE' });
    const badDate = await request({ ...sealBody(), validEnd: 'tomorrow' }, s.apiKey);
    expect(badDate.status).toBe(400);
  });

  it('revocation: only the holding department; from then on the seal and its signatures fail', async () => {
    const der = new Uint8Array(Buffer.from(made.seal, 'base64'));
    const data = new TextEncoder().encode('营业执照 business licence');
    const signature = await makeSesSignature({
      seal: der,
      signer: signerFromSm2(deptCert.keyPkcs8, deptCert.certDer),
      data,
      propertyInfo: 'licence.pdf',
    });
    const sm3hex = Buffer.from(sm3(data)).toString('hex');
    // and a PDF sealed with it (SM2 PAdES, the SESeal in the CMS)
    const sealedPdf = await sealPdf(minimalPdf(), {
      signer: signerFromSm2(deptCert.keyPkcs8, deptCert.certDer, [sm2Ca.certDer]),
      seal: der,
    });
    const pdfBefore = (await verifyOnServer(sealedPdf)) as unknown as SealedVerificationReport;
    // a PDF is verified as POST /api/verify does (the worker pool and its bounds, the CRLs, the
    // report cache), not on the server's own thread: the same report, the second one from the cache
    const viaVerify = await fetch(`${s.url}/api/verify`, { method: 'POST', body: sealedPdf as BodyInit });
    expect(viaVerify.headers.get('sidian-cache')).toBe('hit');
    expect(await viaVerify.json()).toEqual(pdfBefore);
    expect(pdfBefore.signatures[0]!.reasons).toEqual([]);
    expect(pdfBefore.status).toBe('valid');
    expect(pdfBefore.signatures[0]!.gbSeal).toMatchObject({
      esID: made.esID,
      name: '项城市市场监督管理局业务专用章',
      type: 3,
      trust: 'trusted',
    });
    expect(await verifyOnServer(signature, `?dataHash=${sm3hex}`)).toMatchObject({
      kind: 'signature',
      status: 'valid',
    });

    const revoke = (apiKey?: string, reason: unknown = '印章遗失 lost') =>
      fetch(`${s.url}/api/seals/${made.esID}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(apiKey ? { 'x-api-key': apiKey } : {}) },
        body: JSON.stringify({ reason }),
      });
    expect((await revoke()).status).toBe(401);
    const other = await revoke(otherKey);
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ error: 'SEAL_OTHER_DEPARTMENT' });
    expect((await revoke(s.apiKey, '')).status).toBe(400);
    // still valid after the failed attempts
    expect((await verifyOnServer(der)).status).toBe('valid');

    const ok = await revoke(s.apiKey);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'revoked', revocationReason: '印章遗失 lost' });
    expect((await revoke(s.apiKey)).status).toBe(409);

    const afterSeal = await verifyOnServer(der);
    expect(afterSeal).toMatchObject({ status: 'invalid', trust: 'revoked' });
    expect(afterSeal.problems.map((p) => p.code)).toEqual(['SES_SEAL_REVOKED']);
    const afterSig = await verifyOnServer(signature, `?dataHash=${sm3hex}`);
    expect(afterSig.status).toBe('invalid');
    expect(afterSig.problems.map((p) => p.code)).toContain('SES_SEAL_REVOKED');
    const pdfAfter = (await verifyOnServer(sealedPdf)) as unknown as SealedVerificationReport;
    expect(pdfAfter.status).toBe('invalid');
    expect(pdfAfter.signatures[0]!.gbSeal).toMatchObject({ status: 'invalid', trust: 'revoked' });
    const shown = (await (await fetch(`${s.url}/api/seals/${made.esID}`)).json()) as SealJson;
    expect(shown.status).toBe('revoked');
  });

  it("POST /api/verify: a PDF sealed with the server's GB seal is valid; after the seal's revocation it is invalid at once (no stale cached report)", async () => {
    const r = await request({ ...sealBody(), name: '项城市市场监督管理局电子公章', type: 1 }, s.apiKey);
    expect(r.status).toBe(201);
    const mine = (await r.json()) as SealJson;
    const der = new Uint8Array(Buffer.from(mine.seal, 'base64'));
    const pdf = await sealPdf(minimalPdf(), {
      signer: signerFromSm2(deptCert.keyPkcs8, deptCert.certDer, [sm2Ca.certDer]),
      seal: der,
    });
    const verify = async (body: Uint8Array) => {
      const res = await fetch(`${s.url}/api/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/pdf' },
        body: body as BodyInit,
      });
      expect(res.status).toBe(200);
      return {
        cache: res.headers.get('sidian-cache'),
        report: (await res.json()) as SealedVerificationReport,
      };
    };
    const first = await verify(pdf);
    expect(first.report.signatures[0]!.reasons).toEqual([]);
    expect(first.report.status).toBe('valid');
    expect(first.report.signatures[0]).toMatchObject({ algorithm: 'SM2-SM3', trust: 'trusted' });
    expect(first.report.signatures[0]!.gbSeal).toMatchObject({
      esID: mine.esID,
      name: '项城市市场监督管理局电子公章',
      type: 1,
      status: 'valid',
      trust: 'trusted',
    });
    expect((await verify(pdf)).cache).toBe('hit');

    const revoked = await fetch(`${s.url}/api/seals/${mine.esID}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': s.apiKey },
      body: JSON.stringify({ reason: '印章停用 withdrawn' }),
    });
    expect(revoked.status).toBe(200);
    const after = await verify(pdf);
    expect(after.cache).toBe('miss');
    expect(after.report.status).toBe('invalid');
    expect(after.report.signatures[0]!.gbSeal).toMatchObject({ status: 'invalid', trust: 'revoked' });
    expect(after.report.signatures[0]!.gbSeal!.problems.map((p) => p.code)).toEqual(['SES_SEAL_REVOKED']);
    expect(after.report.signatures[0]!.reasons.join(' ')).toContain('印章停用 withdrawn');
  });

  it('POST /api/licences judges a GB/T 38540 seal as /api/verify does: a licence sealed with the registered seal is registered; one sealed with a forged or a revoked seal is refused', async () => {
    const r = await request({ ...sealBody(), name: '项城市市场监督管理局行政审批专用章' }, s.apiKey);
    expect(r.status).toBe(201);
    const mine = (await r.json()) as SealJson;
    const signer = signerFromSm2(deptCert.keyPkcs8, deptCert.certDer, [sm2Ca.certDer]);
    const licencePdf = (serial: string, seal: Uint8Array) =>
      sealPdf(
        embedLicence(
          minimalPdf(),
          sampleLicence({
            identifier: makeLicenceIdentifier({
              typeCode: '11100000MB0143028K',
              issuerCode: DEMO_DEPARTMENT.creditCode,
              serial,
              version: 1,
            }),
          }),
        ),
        { signer, seal, certify: 2 },
      );
    const register = (pdf: Uint8Array) =>
      fetch(`${s.url}/api/licences`, {
        method: 'POST',
        headers: { 'content-type': 'application/pdf', 'x-api-key': s.apiKey },
        body: pdf as BodyInit,
      });
    const ok = await register(await licencePdf('GB0001', new Uint8Array(Buffer.from(mine.seal, 'base64'))));
    expect(ok.status).toBe(201);

    // attacker: a seal for the same certificate from a maker the server does not name
    const forged = await rogueSeal('项城市市场监督管理局行政审批专用章', 3);
    const refusedForged = await register(await licencePdf('GB0002', forged));
    expect(refusedForged.status).toBe(422);
    const forgedBody = (await refusedForged.json()) as { error: string; message: string };
    expect(forgedBody.error).toBe('LICENCE_SEAL_INVALID');
    expect(forgedBody.message).toContain('SES_MAKER_UNTRUSTED');

    // the seal revoked: a licence sealed with it is refused from then on
    const revoked = await fetch(`${s.url}/api/seals/${mine.esID}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': s.apiKey },
      body: JSON.stringify({ reason: '印章遗失 lost' }),
    });
    expect(revoked.status).toBe(200);
    const refused = await register(
      await licencePdf('GB0003', new Uint8Array(Buffer.from(mine.seal, 'base64'))),
    );
    expect(refused.status).toBe(422);
    const body = (await refused.json()) as { error: string; message: string };
    expect(body.error).toBe('LICENCE_SEAL_INVALID');
    expect(body.message).toContain('SES_SEAL_REVOKED');
  });

  it('attacker: a seal made by a maker the server does not name (its certificate from a CA the server trusts for signers) is not valid on /api/verify', async () => {
    const forged = await rogueSeal('项城市市场监督管理局电子公章', 1);
    const pdf = await sealPdf(minimalPdf(), {
      signer: signerFromSm2(deptCert.keyPkcs8, deptCert.certDer, [sm2Ca.certDer]),
      seal: forged,
    });
    const res = await fetch(`${s.url}/api/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/pdf' },
      body: pdf as BodyInit,
    });
    const report = (await res.json()) as SealedVerificationReport;
    expect(report.signatures[0]!.trust).toBe('trusted'); // the PAdES signer itself is trusted
    expect(report.status).not.toBe('valid');
    expect(report.signatures[0]!.gbSeal!.trust).toBe('untrusted');
    expect(report.signatures[0]!.gbSeal!.problems.map((p) => p.code)).toContain('SES_MAKER_UNTRUSTED');
  });

  /** POSTs a PDF to /api/verify: the report and whether it came from the cache. */
  const verifyPdfOnServer = async (body: Uint8Array) => {
    const res = await fetch(`${s.url}/api/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/pdf' },
      body: body as BodyInit,
    });
    expect(res.status).toBe(200);
    return {
      cache: res.headers.get('sidian-cache'),
      report: (await res.json()) as SealedVerificationReport,
    };
  };
  const gbCodes = (r: SealedVerificationReport) => r.signatures[0]!.gbSeal!.problems.map((p) => p.code);
  const sealWithDept = (seal: Uint8Array) =>
    sealPdf(minimalPdf(), {
      signer: signerFromSm2(deptCert.keyPkcs8, deptCert.certDer, [sm2Ca.certDer]),
      seal,
    });

  it("attacker with the seal authority's maker key: a well-formed seal the registry never issued is invalid (SES_SEAL_UNREGISTERED), on /api/verify and /api/seals/verify", async () => {
    // the maker's key and certificate as they lie in the data directory (a leaked key)
    const makerDir = path.join(s.dataDir, 'pki', 'seal-maker');
    const [makerKey] = fromPem(fs.readFileSync(path.join(makerDir, 'maker.key.pem'), 'utf8'), 'PRIVATE KEY');
    const [makerCert, ...makerChain] = fromPem(
      fs.readFileSync(path.join(makerDir, 'maker.pem'), 'utf8'),
      'CERTIFICATE',
    );
    const leaked = signerFromSm2(makerKey!, makerCert!, makerChain);
    const forge = (o: { esID?: string; name?: string } = {}) =>
      makeSeal({
        maker: leaked,
        name: o.name ?? '项城市市场监督管理局电子公章',
        type: 1,
        holderCertificates: [deptCert.certDer],
        picture: { type: 'PNG', data: new Uint8Array(Buffer.from(picture, 'base64')), width: 42, height: 42 },
        validStart: new Date(Date.now() - 60_000),
        validEnd: new Date(Date.now() + 86_400_000),
        esID: o.esID,
      });
    const forged = await forge();
    // well formed: offline, against the seal authority's root, nothing is wrong with it
    const offline = await verifySeal(forged, { trustAnchors: [makerRoot] });
    expect(offline).toMatchObject({ status: 'valid', trust: 'trusted' });

    const pdf = await sealWithDept(forged);
    const { report } = await verifyPdfOnServer(pdf);
    expect(report.signatures[0]).toMatchObject({ algorithm: 'SM2-SM3', trust: 'trusted' });
    expect(report.status).toBe('invalid');
    expect(report.signatures[0]!.status).toBe('invalid');
    expect(report.signatures[0]!.gbSeal).toMatchObject({ status: 'invalid', trust: 'untrusted' });
    expect(gbCodes(report)).toEqual(['SES_SEAL_UNREGISTERED']);
    expect(report.signatures[0]!.reasons.join(' ')).toContain('SES_SEAL_UNREGISTERED');
    const direct = await verifyOnServer(forged);
    expect(direct).toMatchObject({ kind: 'seal', status: 'invalid', trust: 'untrusted' });
    expect(direct.problems.map((p) => p.code)).toEqual(['SES_SEAL_UNREGISTERED']);
    expect(direct.problems[0]!.messageZh).toContain('印章登记');

    // nor does a registered seal's esID carry another seal with it (another name, same esID)
    const r = await request(sealBody(), s.apiKey);
    expect(r.status).toBe(201);
    const registered = (await r.json()) as SealJson;
    const twin = await forge({ esID: registered.esID, name: '项城市市场监督管理局合同专用章' });
    expect(parseSeal(twin).esID).toBe(registered.esID);
    const twinReport = (await verifyPdfOnServer(await sealWithDept(twin))).report;
    expect(twinReport.status).toBe('invalid');
    expect(gbCodes(twinReport)).toEqual(['SES_SEAL_UNREGISTERED']);
    // while the registered seal itself is valid
    const genuine = (
      await verifyPdfOnServer(await sealWithDept(new Uint8Array(Buffer.from(registered.seal, 'base64'))))
    ).report;
    expect(genuine.signatures[0]!.reasons).toEqual([]);
    expect(genuine.status).toBe('valid');
  });

  it("POST /api/verify follows the registry: the same PDF's verdict changes (cache miss) when a seal is registered, its row is lost or restored, or it is revoked", async () => {
    const make = async (name: string) => {
      const r = await request({ ...sealBody(), name }, s.apiKey);
      expect(r.status).toBe(201);
      return (await r.json()) as SealJson;
    };
    const mine = await make('项城市市场监督管理局财务专用章');
    const pdf = await sealWithDept(new Uint8Array(Buffer.from(mine.seal, 'base64')));
    const first = await verifyPdfOnServer(pdf);
    expect(first.report.status).toBe('valid');
    expect((await verifyPdfOnServer(pdf)).cache).toBe('hit');

    // another seal registered: the registry changed, so no report made before is served
    await make('项城市市场监督管理局发票专用章');
    const afterNew = await verifyPdfOnServer(pdf);
    expect(afterNew.cache).toBe('miss');
    expect(afterNew.report.status).toBe('valid');
    expect((await verifyPdfOnServer(pdf)).cache).toBe('hit');

    // the seal's row is lost (a restored backup without it): unregistered from then on
    const db = s.server.ctx.db;
    const row = await db
      .selectFrom('seals')
      .selectAll()
      .where('es_id', '=', mine.esID)
      .executeTakeFirstOrThrow();
    await db.deleteFrom('seals').where('es_id', '=', mine.esID).execute();
    const lost = await verifyPdfOnServer(pdf);
    expect(lost.cache).toBe('miss');
    expect(lost.report.status).toBe('invalid');
    expect(gbCodes(lost.report)).toEqual(['SES_SEAL_UNREGISTERED']);

    // restored (by an older server version, without the DER's digest): the registry holds what it
    // held before, so the report made then is right again
    await db
      .insertInto('seals')
      .values({ ...row, der_sha256: null, maker_key: null })
      .execute();
    const restored = await verifyPdfOnServer(pdf);
    expect(restored.report.status).toBe('valid');
    expect(restored.report.signatures[0]!.reasons).toEqual([]);

    // revoked: invalid at once, with when and why
    const revoked = await fetch(`${s.url}/api/seals/${mine.esID}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': s.apiKey },
      body: JSON.stringify({ reason: '印章更换 replaced' }),
    });
    expect(revoked.status).toBe(200);
    const after = await verifyPdfOnServer(pdf);
    expect(after.cache).toBe('miss');
    expect(after.report.status).toBe('invalid');
    expect(gbCodes(after.report)).toEqual(['SES_SEAL_REVOKED']);
    expect(after.report.signatures[0]!.reasons.join(' ')).toContain('印章更换 replaced');
  });

  /** A well-formed seal for the department by `maker` (certified by sm2Ca), registered nowhere. */
  const sealBy = (maker: Entity) =>
    makeSeal({
      maker: signerFromSm2(maker.keyPkcs8, maker.certDer, [sm2Ca.certDer]),
      name: '项城市市场监督管理局电子公章',
      type: 1,
      holderCertificates: [deptCert.certDer],
      picture: {
        type: 'PNG',
        data: new Uint8Array(Buffer.from(picture, 'base64')),
        width: 42,
        height: 42,
      },
      validStart: new Date(Date.now() - 60_000),
      validEnd: new Date(Date.now() + 86_400_000),
    });
  const postTo = async (url: string, route: string, body: Uint8Array) => {
    const r = await fetch(`${url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: body as BodyInit,
    });
    expect(r.status).toBe(200);
    return (await r.json()) as SealedVerificationReport & SealVerification;
  };

  /** `seal`, alone and in a PDF the department sealed with it, is unregistered (invalid) on both routes of `url`. */
  const expectUnregistered = async (url: string, seal: Uint8Array) => {
    const pdf = await postTo(url, '/api/verify', await sealWithDept(seal));
    expect(pdf.status).toBe('invalid');
    expect(gbCodes(pdf)).toEqual(['SES_SEAL_UNREGISTERED']);
    const alone = await postTo(url, '/api/seals/verify', seal);
    expect(alone.status).toBe('invalid');
    expect(alone.problems.map((p) => p.code)).toEqual(['SES_SEAL_UNREGISTERED']);
  };

  it("a seal root shared with another maker (SIDIAN_SEAL_MAKER_TRUST): the neighbour's seals keep their maker's word (valid on /api/verify, status unknown on /api/seals/verify); our own maker's unregistered seal is invalid", async () => {
    // our maker and a neighbouring maker, both certified by the same SM2 root, which is the seal anchor
    const ours = issueCertificate(sm2Ca, { name: 'our-maker', key: 'sm2', subject: '/C=CN/CN=本市制章者' });
    const neighbour = issueCertificate(sm2Ca, {
      name: 'neighbour-maker',
      key: 'sm2',
      subject: '/C=CN/CN=邻市制章者',
    });
    const chainFile = path.join(work, 'our-maker-chain.pem');
    fs.writeFileSync(chainFile, ours.certPem + sm2Ca.certPem);
    const dataDir = tempDir('sidian-seals-shared-root-');
    writeDevPki(path.join(dataDir, 'pki'), await generateDevPki());
    fs.writeFileSync(path.join(dataDir, 'pki', 'trust.pem'), sm2Ca.certPem);
    const shared = await startTestServer({
      dataDir,
      databaseUrl: await newDatabaseUrl(),
      sealMaker: { keyFile: ours.keyFile, certFile: chainFile, trustFile: sm2Ca.certFile },
    });
    try {
      const post = (route: string, body: Uint8Array) => postTo(shared.url, route, body);
      const theirs = await sealBy(neighbour);
      const theirPdf = await post('/api/verify', await sealWithDept(theirs));
      expect(theirPdf.signatures[0]!.reasons).toEqual([]);
      expect(theirPdf.status).toBe('valid');
      expect(theirPdf.signatures[0]!.gbSeal).toMatchObject({ status: 'valid', trust: 'trusted' });
      const theirSeal = await post('/api/seals/verify', theirs);
      expect(theirSeal.status).toBe('indeterminate');
      expect(theirSeal.problems.map((p) => p.code)).toEqual(['SES_SEAL_STATUS_UNKNOWN']);

      await expectUnregistered(shared.url, await sealBy(ours));
    } finally {
      await shared.close();
    }
  });

  it('attacker with a retired maker key: after the seal authority changes its key (and the server is upgraded past migration 0011), a seal the old key makes now is unregistered (invalid), while the seals it made before stay valid', async () => {
    // the operator replaces the maker key (SIDIAN_SEAL_MAKER_KEY/_CERT) under the same seal root;
    // the old key, retired, leaks later
    const makerAt = (name: string, cn: string) => {
      const m = issueCertificate(sm2Ca, { name, key: 'sm2', subject: `/C=CN/CN=${cn}` });
      const chainFile = path.join(work, `${name}-chain.pem`);
      fs.writeFileSync(chainFile, m.certPem + sm2Ca.certPem);
      return { entity: m, config: { keyFile: m.keyFile, certFile: chainFile, trustFile: sm2Ca.certFile } };
    };
    const retired = makerAt('retired-maker', '本市制章者（旧密钥）');
    const current = makerAt('current-maker', '本市制章者');
    const dataDir = tempDir('sidian-seals-rotation-');
    writeDevPki(path.join(dataDir, 'pki'), await generateDevPki());
    fs.writeFileSync(path.join(dataDir, 'pki', 'trust.pem'), sm2Ca.certPem);
    const databaseUrl = await newDatabaseUrl();
    const before = await startTestServer({ dataDir, databaseUrl, sealMaker: retired.config });
    let issued: SealJson;
    try {
      const r = await fetch(`${before.url}/api/seals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': before.apiKey },
        body: JSON.stringify(sealBody()),
      });
      expect(r.status).toBe(201);
      issued = (await r.json()) as SealJson;
    } finally {
      await before.close();
    }
    // and the database is as a server before migration 0011 left it (no maker key in the rows):
    // the upgrade reads each seal's maker from its DER
    const opened = await openDatabase({ dataDir, databaseUrl });
    try {
      await opened.db.schema.dropIndex('seals_maker').execute();
      await opened.db.schema.alterTable('seals').dropColumn('maker_key').execute();
      await sql`delete from kysely_migration where name = '0011_seals_maker'`.execute(opened.db);
    } finally {
      await opened.close();
    }
    const after = await startTestServer({ dataDir, databaseUrl, sealMaker: current.config });
    try {
      const post = (route: string, body: Uint8Array) => postTo(after.url, route, body);
      // made by the retired key before the change, registered: valid
      const old = new Uint8Array(Buffer.from(issued.seal, 'base64'));
      const oldPdf = await post('/api/verify', await sealWithDept(old));
      expect(oldPdf.signatures[0]!.reasons).toEqual([]);
      expect(oldPdf.status).toBe('valid');
      expect((await post('/api/seals/verify', old)).status).toBe('valid');
      // made by the retired key now, never registered: invalid on both routes
      await expectUnregistered(after.url, await sealBy(retired.entity));
    } finally {
      await after.close();
    }
  });

  it('a seal made elsewhere (ofdrw) is not registered here: untrusted maker, status unknown; garbage is 422', async () => {
    const r = await verifyOnServer(PNG);
    expect(r.status).toBe('invalid');
    expect(r.problems.map((p) => p.code)).toEqual(
      expect.arrayContaining(['SES_MAKER_UNTRUSTED', 'SES_SEAL_STATUS_UNKNOWN']),
    );
    const bad = await fetch(`${s.url}/api/seals/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array([0x30, 0x03, 1, 2, 3]) as BodyInit,
    });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ error: 'SES_MALFORMED' });
  });

  it('the seal authority survives a restart (same maker certificate)', async () => {
    const before = fs.readFileSync(path.join(s.dataDir, 'pki', 'seal-maker', 'maker.pem'), 'utf8');
    const again = await startTestServer({ dataDir: s.dataDir, databaseUrl: s.databaseUrl });
    try {
      const r = await fetch(`${again.url}/api/seals/${made.esID}`);
      expect(((await r.json()) as SealJson).status).toBe('revoked');
      expect(fs.readFileSync(path.join(s.dataDir, 'pki', 'seal-maker', 'maker.pem'), 'utf8')).toBe(before);
    } finally {
      await again.close();
    }
  });
}

describe('seals on SQLite', () => {
  defineSealSuite(async () => undefined);
});

if (!postgresAvailable() && process.env.SIDIAN_REQUIRE_POSTGRES === '1') {
  describe('seals on PostgreSQL', () => {
    it('needs PostgreSQL installed (apt-get install -y postgresql)', () => {
      throw new Error('PostgreSQL binaries not found');
    });
  });
}

describe.skipIf(!postgresAvailable())('seals on PostgreSQL', () => {
  let cluster: PgCluster | undefined;
  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  let databases = 0;
  defineSealSuite(async () => cluster!.createDatabase(`sidian_seals_${process.pid}_${databases++}`));
});
