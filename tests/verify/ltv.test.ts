/**
 * Long-term validation (PAdES B-LT / B-LTA, ETSI EN 319 102-1 §5.6) with a real openssl PKI
 * (root -> intermediate CA -> a seal certificate valid for one day), real CRLs and OCSP responses
 * from `openssl ca` / `openssl ocsp`, and real RFC 3161 TSAs. The fake clock is `at`: the
 * verification is run days after the certificates expire.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSidianError } from '../../packages/core/src/errors';
import { embedLicence } from '../../packages/core/src/licence/index';
import { PdfDict, PdfName, PdfStream } from '../../packages/core/src/pdf/objects';
import { minimalPdf, sampleLicence } from '../../packages/core/src/licence/licence.test-helpers';
import { parseOcspResponse } from '../../packages/core/src/pki/revocation';
import { extendPdf } from '../../packages/core/src/sign/ltv';
import { signPdf } from '../../packages/core/src/sign/sign-pdf';
import { verifyPdf } from '../../packages/core/src/verify';
import type { VerificationReport } from '../../packages/core/src/verify/types';
import {
  type Ca,
  type Entity,
  createCa,
  issueCertificate,
  issueIntermediateCa,
  makeTempDir,
  openssl,
  removeDir,
} from '../helpers/openssl-pki';
import { startOpensslTsa, type OpensslTsa } from '../helpers/tsa-shim';
import { addDocumentTimestamp, addDss, makeCrl, pkiFor, update, type TestPki } from './generator';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

let dir: string;
let root: Ca;
let inter: Ca;
let seal: TestPki;
let tsa: OpensslTsa;
let shortTsa: OpensslTsa;
let rogueTsa: OpensslTsa;
let anchors: string[];
let sealed: Uint8Array;
let rootCrl: Uint8Array;
let interCrl: Uint8Array;
let lt: Uint8Array;
let lta: Uint8Array;
let ltaTime: Date;

/** The CRL of `ca` after it revoked `cert` with the given revocation date (`openssl ca -revoke`, then the date set in its database). */
function crlRevoking(ca: Ca, cert: Entity, when: Date): Uint8Array {
  const index = path.join(ca.dir, 'db', 'index.txt');
  if (
    !readFileSync(index, 'utf8')
      .split('\n')
      .some((l) => l.startsWith('R\t') && l.includes(cert.subject))
  ) {
    openssl(['ca', '-config', ca.configFile, '-revoke', cert.certFile]);
  }
  const utc = when.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  const lines = readFileSync(index, 'utf8')
    .split('\n')
    .map((l) => {
      const f = l.split('\t');
      if (f[0] === 'R' && l.includes(cert.subject)) f[2] = utc;
      return f.join('\t');
    });
  writeFileSync(index, lines.join('\n'));
  return makeCrl(ca).der;
}

/** An OCSP response about `cert` from `openssl ocsp` acting as the responder of `ca` (or of `signer`, an attacker's key). */
function ocspResponse(ca: Ca, cert: Entity, signer: Entity = ca): Uint8Array {
  const req = path.join(cert.dir, `ocsp-${Date.now()}.req`);
  const resp = req.replace(/\.req$/, '.der');
  openssl(['ocsp', '-issuer', ca.certFile, '-cert', cert.certFile, '-no_nonce', '-reqout', req]);
  openssl([
    'ocsp',
    '-index',
    path.join(ca.dir, 'db', 'index.txt'),
    '-rsigner',
    signer.certFile,
    '-rkey',
    signer.keyFile,
    '-CA',
    ca.certFile,
    '-reqin',
    req,
    '-respout',
    resp,
    '-ndays',
    '30',
  ]);
  return new Uint8Array(readFileSync(resp));
}

const verify = (pdf: Uint8Array, at?: Date, crls: Uint8Array[] = []): Promise<VerificationReport> =>
  verifyPdf(pdf, { trustAnchors: anchors, at, crls });
const sealOf = (r: VerificationReport) => r.signatures.find((s) => s.kind !== 'document-timestamp')!;

beforeAll(async () => {
  dir = makeTempDir('sidian-ltv-');
  root = createCa(dir, { name: 'root', subject: '/C=CN/O=Sidian Test/CN=Sidian LTV Root CA' });
  inter = issueIntermediateCa(root, { name: 'inter', subject: '/C=CN/O=Sidian Test/CN=Sidian LTV Seal CA' });
  // a seal certificate valid for one day: expired long before the verifications below
  const leaf = issueCertificate(inter, {
    name: 'seal',
    subject: '/C=CN/O=项城市市场监督管理局/CN=项城市市场监督管理局电子印章',
    days: 1,
  });
  seal = await pkiFor(dir, inter, leaf);
  tsa = await startOpensslTsa(path.join(dir, 'tsa'));
  shortTsa = await startOpensslTsa(path.join(dir, 'short-tsa'), { days: 2 });
  rogueTsa = await startOpensslTsa(path.join(dir, 'rogue-tsa'));
  anchors = [root.certPem, tsa.caPem, shortTsa.caPem];
  // B-T, with a time-stamp from a TSA whose certificate expires in two days
  sealed = await signPdf(embedLicence(minimalPdf(), sampleLicence()), {
    signer: seal.signer,
    certify: 2,
    tsa: shortTsa.url,
  });
  rootCrl = makeCrl(root).der;
  interCrl = makeCrl(inter).der;
  const base = { certificates: [root.certDer], crls: [rootCrl, interCrl], fetch: false as const };
  lt = (await extendPdf(sealed, base)).pdf;
  const ext = await extendPdf(sealed, { ...base, tsa: tsa.url });
  expect(ext.level).toBe('B-LTA');
  lta = ext.pdf;
  const r = await verify(lta);
  ltaTime = new Date(r.signatures.find((s) => s.kind === 'document-timestamp')!.timestampTime!);
}, 120_000);

afterAll(async () => {
  await Promise.all([tsa?.close(), shortTsa?.close(), rogueTsa?.close()]);
  if (dir) removeDir(dir);
});

describe('a licence sealed (B-T) with a one-day certificate, extended to B-LT and B-LTA', () => {
  it('today: valid; the levels are B-LT and B-LTA and the earlier bytes are kept', async () => {
    expect(lta.subarray(0, sealed.length)).toEqual(sealed);
    expect(lt.subarray(0, sealed.length)).toEqual(sealed);
    const r = await verify(lta);
    expect(r.status).toBe('valid');
    expect(sealOf(r).level).toBe('B-LTA');
    expect(sealOf(await verify(lt)).level).toBe('B-LT');
  });

  it('after the seal certificate expired: valid with the archive time-stamp, at its time, naming the evidence', async () => {
    const at = new Date(Date.now() + 5 * DAY);
    const r = await verify(lta, at);
    const s = sealOf(r);
    expect(r.status).toBe('valid');
    expect(s.trust).toBe('trusted');
    expect(s.validationTime).toBe(ltaTime.toISOString());
    expect(s.evidence?.timestamp).toMatchObject({ kind: 'document-timestamp', time: ltaTime.toISOString() });
    expect(s.evidence?.timestamp?.field).toBe(
      r.signatures.find((x) => x.kind === 'document-timestamp')!.field,
    );
    expect(s.evidence?.dss).toMatchObject({ crls: 2 });
    // the seal's status from the intermediate's CRL, the intermediate's from the root's, both in the DSS
    expect(s.evidence?.revocation).toEqual([
      expect.objectContaining({
        kind: 'crl',
        source: 'dss',
        status: 'good',
        certificate: expect.stringContaining('电子印章'),
        object: expect.any(Number),
      }),
      expect.objectContaining({
        kind: 'crl',
        source: 'dss',
        status: 'good',
        certificate: expect.stringContaining('Seal CA'),
      }),
    ]);
    // the document time-stamp itself is valid at the verification time
    const dts = r.signatures.find((x) => x.kind === 'document-timestamp')!;
    expect(dts).toMatchObject({ trust: 'trusted', validationTime: at.toISOString() });
  });

  it("after expiry, and after the signature time-stamp's TSA expired, without the archive time-stamp (B-LT only): indeterminate, expired", async () => {
    const r = await verify(lt, new Date(Date.now() + 5 * DAY));
    expect(r.status).toBe('indeterminate');
    expect(sealOf(r).trust).toBe('expired');
    expect(sealOf(r).reasons.join(' ')).toMatch(/expired/);
  });

  it('attack: an archive time-stamp from a TSA that is not trusted proves nothing', async () => {
    const rogue = await addDocumentTimestamp(lt, rogueTsa.url);
    const r = await verify(rogue, new Date(Date.now() + 3 * DAY));
    expect(r.status).toBe('indeterminate');
    expect(sealOf(r).trust).toBe('expired');
    expect(sealOf(r).evidence?.timestamp ?? null).toBeNull();
  });

  it('attack: revocation data added after the archive time-stamp is not covered by it', async () => {
    // seal, time-stamp, then the DSS: the time-stamp covers no revocation data
    const late = addDss(await addDocumentTimestamp(sealed, tsa.url), {
      certs: [root.certDer],
      crls: [rootCrl, interCrl],
    });
    const r = await verify(late, new Date(Date.now() + 3 * DAY));
    expect(r.status).toBe('indeterminate');
    expect(sealOf(r).trust).not.toBe('trusted');
  });

  it('attack: a document time-stamp written before the signature proves nothing about it', async () => {
    // DSS and time-stamp on the unsigned licence, then the seal (B-B) on top
    const stampedFirst = await addDocumentTimestamp(
      addDss(embedLicence(minimalPdf(), sampleLicence()), {
        certs: [root.certDer],
        crls: [rootCrl, interCrl],
      }),
      tsa.url,
    );
    const signedAfter = await signPdf(stampedFirst, { signer: seal.signer });
    expect((await verify(signedAfter)).status).toBe('valid');
    const r = await verify(signedAfter, new Date(Date.now() + 5 * DAY));
    expect(r.status).toBe('indeterminate');
    expect(sealOf(r).trust).toBe('expired');
    expect(sealOf(r).evidence?.timestamp ?? null).toBeNull();
  });

  it('a time-stamp later than the verification time is no proof', async () => {
    const r = await verify(lta, new Date(ltaTime.getTime() - HOUR));
    const dts = r.signatures.find((x) => x.kind === 'document-timestamp')!;
    expect(dts.trust).toBe('unknown');
    expect(dts.reasons.join(' ')).toMatch(/after the verification time/);
    expect(sealOf(r).evidence?.timestamp?.kind).not.toBe('document-timestamp');
    expect(r.status).toBe('indeterminate');
  });
});

describe('bounded work on hostile evidence', () => {
  it("attack: a DSS of 3000 distinct forged CRLs (the CA's name, another key) is read within bounds and ignored", async () => {
    const fake = createCa(dir, { name: 'fake-inter', subject: '/C=CN/O=Sidian Test/CN=Sidian LTV Seal CA' });
    const forged = makeCrl(fake).der;
    const crls = Array.from({ length: 3000 }, (_, i) => {
      const c = forged.slice();
      c[c.length - 1] = i & 0xff;
      c[c.length - 2] = (i >> 8) & 0xff;
      return c;
    });
    // (addDss writes a new DSS: the genuine CRLs first, then the forged ones)
    const hostile = await addDocumentTimestamp(addDss(lt, { crls: [rootCrl, interCrl, ...crls] }), tsa.url);
    const started = Date.now();
    const r = await verify(hostile, new Date(Date.now() + 5 * DAY));
    expect(Date.now() - started).toBeLessThan(10_000);
    // the forged ones change nothing
    expect(r.status).toBe('valid');
    expect(sealOf(r).reasons.filter((x) => /bad signature/.test(x)).length).toBeLessThanOrEqual(1);
  });
});

describe('bounded work on hostile evidence: the document budget', () => {
  it("attack: a DSS CRL stream that inflates past the verification's work budget ends it with LIMIT_EXCEEDED", async () => {
    // 8 MB of zeros, a few KB deflated, beside the genuine CRLs
    const bomb = deflateSync(new Uint8Array(8 * 1024 * 1024));
    const hostile = update(lt, (u) => {
      const stream = (data: Uint8Array, flate = false) =>
        u.add(new PdfStream(new PdfDict(flate ? [['Filter', PdfName.of('FlateDecode')]] : []), data));
      const dss = new PdfDict([
        ['Type', PdfName.of('DSS')],
        ['CRLs', [stream(rootCrl), stream(interCrl), stream(bomb, true)]],
      ]);
      u.catalog().set('DSS', u.add(dss));
    });
    const budget = 4 * 1024 * 1024;
    await expect(verifyPdf(hostile, { trustAnchors: anchors, decodeBudgetBytes: budget })).rejects.toSatisfy(
      (e) => isSidianError(e) && e.code === 'LIMIT_EXCEEDED',
    );
    // the same file within a budget that holds the stream is verified as usual
    const r = await verifyPdf(hostile, { trustAnchors: anchors, decodeBudgetBytes: 64 * 1024 * 1024 });
    expect(sealOf(r).integrity).toBe('ok');
  });
});

describe('the CA revoked', () => {
  it('after the archive time-stamp: still valid (validated at the time-stamp, the later CRL consulted)', async () => {
    const crl = crlRevoking(root, inter, new Date(ltaTime.getTime() + HOUR));
    // even before the seal certificate expires, the revocation by then is overcome by the time-stamp
    for (const at of [new Date(ltaTime.getTime() + 2 * HOUR), new Date(Date.now() + 3 * DAY)]) {
      const r = await verify(lta, at, [crl]);
      expect(r.status).toBe('valid');
      expect(Date.parse(sealOf(r).validationTime!)).toBeLessThanOrEqual(ltaTime.getTime());
    }
    // without any time-stamp the CA's revocation stands
    const bb = await signPdf(embedLicence(minimalPdf(), sampleLicence()), { signer: seal.signer });
    const r = await verify(bb, new Date(ltaTime.getTime() + 2 * HOUR), [crl]);
    expect(sealOf(r).trust).toBe('revoked');
  });

  it('before the archive time-stamp: revoked', async () => {
    const crl = crlRevoking(root, inter, new Date(ltaTime.getTime() - HOUR));
    const r = await verify(lta, new Date(Date.now() + 3 * DAY), [crl]);
    expect(r.status).toBe('indeterminate');
    expect(sealOf(r).trust).toBe('revoked');
    expect(sealOf(r).reasons.join(' ')).toMatch(/revoked on/);
    expect(sealOf(r).evidence?.revocation).toContainEqual(
      expect.objectContaining({ source: 'given', status: 'revoked' }),
    );
  });
});

describe('OCSP evidence', () => {
  it("an OCSP response from the seal's CA in the DSS gives the seal's status", async () => {
    const resp = ocspResponse(inter, seal.leaf);
    expect(parseOcspResponse(resp)?.responses[0]?.status).toBe('good');
    const ext = await extendPdf(sealed, {
      certificates: [root.certDer],
      crls: [rootCrl],
      ocsps: [resp],
      tsa: tsa.url,
      fetch: false,
    });
    const r = await verify(ext.pdf, new Date(Date.now() + 3 * DAY));
    expect(r.status).toBe('valid');
    expect(sealOf(r).evidence?.revocation[0]).toMatchObject({ kind: 'ocsp', source: 'dss', status: 'good' });
  });

  it('attack: an OCSP response signed by another key (the seal itself) is ignored', async () => {
    const forged = ocspResponse(inter, seal.leaf, seal.leaf);
    const ext = await extendPdf(sealed, {
      certificates: [root.certDer],
      crls: [rootCrl],
      ocsps: [forged],
      tsa: tsa.url,
      fetch: false,
    });
    const r = await verify(ext.pdf, new Date(Date.now() + 3 * DAY));
    expect(r.status).toBe('indeterminate');
    expect(sealOf(r).trust).toBe('unknown');
    expect(sealOf(r).reasons.join(' ')).toMatch(/not signed by its issuer/);
  });
});

describe('renewing the archive time-stamp before its TSA certificate expires', () => {
  let once: Uint8Array;
  let renewed: Uint8Array;
  beforeAll(async () => {
    const base = { certificates: [root.certDer], crls: [rootCrl, interCrl], fetch: false as const };
    // sealed without a signature time-stamp (B-B): the archive time-stamps are its only proof
    const bb = await signPdf(embedLicence(minimalPdf(), sampleLicence()), {
      signer: seal.signer,
      certify: 2,
    });
    once = (await extendPdf(bb, { ...base, tsa: shortTsa.url })).pdf;
    // the renewal: a DSS with the first TSA's chain and CRL, then a time-stamp by a long-lived TSA
    renewed = (
      await extendPdf(once, {
        certificates: [shortTsa.ca.certDer],
        crls: [makeCrl(shortTsa.ca).der],
        tsa: tsa.url,
        fetch: false,
      })
    ).pdf;
  });

  it('after the first TSA expired: valid through the chain of time-stamps', async () => {
    const at = new Date(Date.now() + 5 * DAY);
    const r = await verify(renewed, at);
    expect(r.status).toBe('valid');
    // extendPdf time-stamped the B-B seal before the first DSS: three document time-stamps
    const dts = r.signatures.filter((s) => s.kind === 'document-timestamp');
    expect(dts).toHaveLength(3);
    const [first, second] = dts.slice(1);
    expect(second!.validationTime).toBe(at.toISOString());
    expect(first!.evidence?.timestamp).toMatchObject({ kind: 'document-timestamp', field: second!.field });
    expect(sealOf(r).evidence?.timestamp?.field).toBe(first!.field);
  });

  it('without the renewal: the expired TSA proves nothing, indeterminate', async () => {
    const r = await verify(once, new Date(Date.now() + 5 * DAY));
    expect(r.status).toBe('indeterminate');
    expect(sealOf(r).trust).toBe('expired');
  });
});
