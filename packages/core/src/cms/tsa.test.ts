import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Ca,
  type Entity,
  createCa,
  issueCertificate,
  makeTempDir,
  openssl,
  opensslOutput,
  removeDir,
  writeFile,
} from '../../../../tests/helpers/openssl-pki';
import {
  type OpensslTsa,
  TSA_OTHER_POLICY,
  TSA_POLICY,
  startOpensslTsa,
} from '../../../../tests/helpers/tsa-shim';
import { SidianError } from '../errors';
import { toHex } from '../pki/der';
import { OID } from '../pki/oids';
import { signerFromCryptoKey } from '../signer';
import {
  buildTimestampRequest,
  createCadesSignature,
  parseCms,
  parseTimestampResponse,
  parseTimestampToken,
  requestTimestamp,
  signatureTimestampTokens,
} from './index';

let dir: string;
let tsa: OpensslTsa;
let ca: Ca;
let leaf: Entity;
const data = new TextEncoder().encode('data to timestamp — 电子证照');
let digest: Uint8Array<ArrayBuffer>;
const servers: http.Server[] = [];

beforeAll(async () => {
  dir = makeTempDir();
  tsa = await startOpensslTsa(dir);
  ca = createCa(dir, { name: 'sign-ca' });
  leaf = issueCertificate(ca, { name: 'seal', subject: '/C=CN/O=项城市/CN=项城市市场监督管理局' });
  digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
});
afterAll(async () => {
  await tsa.close();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  removeDir(dir);
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SidianError);
    return (e as SidianError).code;
  }
  return 'no error';
}

/** openssl ts -verify of a token (ContentInfo DER) against the shim's CA. */
function opensslTsVerify(token: Uint8Array, how: ['-data', Uint8Array] | ['-digest', string]): string {
  const file = writeFile(dir, 'token.der', token);
  const target = how[0] === '-data' ? writeFile(dir, 'ts-data.bin', how[1]) : how[1];
  return opensslOutput([
    'ts',
    '-verify',
    how[0],
    target,
    '-in',
    file,
    '-token_in',
    '-CAfile',
    tsa.caFile,
    '-untrusted',
    tsa.tsaCertFile,
  ]).stdout;
}

/** A local HTTP server answering every POST with `handler`. */
async function fakeTsa(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** POST a query to the shim directly (for transports that tamper with the exchange). */
async function postToShim(query: Uint8Array): Promise<Uint8Array> {
  const res = await fetch(tsa.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/timestamp-query' },
    body: new Uint8Array(query),
  });
  return new Uint8Array(await res.arrayBuffer());
}

describe('requestTimestamp against openssl ts -reply', () => {
  it('gets a token over a SHA-256 imprint that openssl ts -verify accepts', async () => {
    const before = Date.now();
    const token = await requestTimestamp(tsa.url, digest, 'SHA-256');
    expect(opensslTsVerify(token, ['-data', data])).toContain('Verification: OK');
    expect(opensslTsVerify(token, ['-digest', toHex(digest)])).toContain('Verification: OK');
    const { cms, tstInfo } = parseTimestampToken(token);
    expect(tstInfo.policy).toBe(TSA_POLICY);
    expect(tstInfo.messageImprint.hashedMessage).toEqual(digest);
    expect(tstInfo.nonce).toBeTypeOf('bigint');
    expect(Math.abs(tstInfo.genTime.getTime() - before)).toBeLessThan(60_000);
    expect(cms.certificates).toContainEqual(tsa.tsa.certDer); // certReq: true
  });

  it('supports SHA-384 and SHA-512 imprints, a requested policy and a transport function', async () => {
    for (const hash of ['SHA-384', 'SHA-512'] as const) {
      const d = new Uint8Array(await crypto.subtle.digest(hash, data));
      const token = await requestTimestamp(postToShim, d, hash, {
        policy: TSA_OTHER_POLICY,
        nonce: 123456789n,
      });
      expect(opensslTsVerify(token, ['-data', data])).toContain('Verification: OK');
      const { tstInfo } = parseTimestampToken(token);
      expect(tstInfo.policy).toBe(TSA_OTHER_POLICY);
      expect(tstInfo.nonce).toBe(123456789n);
    }
  });

  it('encodes the request like openssl ts -query does', () => {
    const q = buildTimestampRequest(digest, 'SHA-256', { nonce: 42n, certReq: true });
    const text = openssl(['ts', '-query', '-in', writeFile(dir, 'q.tsq', q), '-text']).toString();
    expect(text).toMatch(/Hash Algorithm: sha256/);
    expect(text).toMatch(/Nonce: 0x2A/);
    expect(text).toMatch(/Certificate required: yes/);
  });

  it('reports a refusal as TSA_REJECTED (openssl rejects an unknown policy)', async () => {
    const err = await requestTimestamp(tsa.url, digest, 'SHA-256', { policy: '1.2.3.4.5' }).catch((e) => e);
    expect(err).toBeInstanceOf(SidianError);
    expect(err.code).toBe('TSA_REJECTED');
    expect(err.details.failInfo).toContain('unacceptedPolicy');
  });

  it('reports tokens for other data or without our nonce as TSA_BAD_RESPONSE', async () => {
    const otherDigest = new Uint8Array(32).fill(7);
    const wrongImprint = (_q: Uint8Array) =>
      postToShim(buildTimestampRequest(otherDigest, 'SHA-256', { certReq: true }));
    expect(await codeOf(requestTimestamp(wrongImprint, digest, 'SHA-256', { nonce: false }))).toBe(
      'TSA_BAD_RESPONSE',
    );
    const wrongNonce = (_q: Uint8Array) =>
      postToShim(buildTimestampRequest(digest, 'SHA-256', { nonce: 99n, certReq: true }));
    expect(await codeOf(requestTimestamp(wrongNonce, digest, 'SHA-256'))).toBe('TSA_BAD_RESPONSE');
    const noNonce = (_q: Uint8Array) =>
      postToShim(buildTimestampRequest(digest, 'SHA-256', { certReq: true }));
    expect(await codeOf(requestTimestamp(noNonce, digest, 'SHA-256'))).toBe('TSA_BAD_RESPONSE');
    expect(
      await codeOf(
        requestTimestamp(async () => new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), digest, 'SHA-256'),
      ),
    ).toBe('TSA_BAD_RESPONSE');
    const garbage = await fakeTsa((_q, res) =>
      res.writeHead(200, { 'Content-Type': 'application/timestamp-reply' }).end('<html>oops</html>'),
    );
    expect(await codeOf(requestTimestamp(garbage, digest, 'SHA-256'))).toBe('TSA_BAD_RESPONSE');
  });

  it('reports network and HTTP failures as TSA_UNREACHABLE', async () => {
    const down = await fakeTsa((_q, res) => res.writeHead(503).end());
    expect(await codeOf(requestTimestamp(down, digest, 'SHA-256'))).toBe('TSA_UNREACHABLE');
    const closed = await fakeTsa(() => undefined);
    const port = new URL(closed).port;
    await new Promise((r) => servers.pop()!.close(r));
    expect(await codeOf(requestTimestamp(`http://127.0.0.1:${port}/`, digest, 'SHA-256'))).toBe(
      'TSA_UNREACHABLE',
    );
    const silent = await fakeTsa(() => undefined); // never answers
    expect(await codeOf(requestTimestamp(silent, digest, 'SHA-256', { timeoutMs: 300 }))).toBe(
      'TSA_UNREACHABLE',
    );
    expect(
      await codeOf(requestTimestamp(async () => Promise.reject(new Error('offline')), digest, 'SHA-256')),
    ).toBe('TSA_UNREACHABLE');
  });

  it('checks its inputs', async () => {
    expect(await codeOf(requestTimestamp(tsa.url, new Uint8Array(20), 'SHA-256'))).toBe('SIGN_BAD_OPTIONS');
  });

  it('parses failInfo and statusString of rejections', () => {
    // TimeStampResp { PKIStatusInfo { 2, { "no" }, failInfo badAlg } }
    const fixed = new Uint8Array([
      0x30, 0x0f, 0x30, 0x0d, 0x02, 0x01, 0x02, 0x30, 0x04, 0x0c, 0x02, 0x6e, 0x6f, 0x03, 0x02, 0x07, 0x80,
    ]);
    expect(parseTimestampResponse(fixed)).toEqual({ status: 2, statusText: 'no', failInfo: ['badAlg'] });
  });
});

describe('createCadesSignature with a TSA (B-T)', () => {
  it('adds a signature timestamp over the signature value that openssl verifies', async () => {
    const key = await crypto.subtle.importKey(
      'pkcs8',
      leaf.keyPkcs8,
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign'],
    );
    const signer = signerFromCryptoKey(key, leaf.certDer, [ca.certDer]);
    const payload = new TextEncoder().encode('the ByteRange bytes');
    const docDigest = new Uint8Array(await crypto.subtle.digest('SHA-256', payload));
    const requestsBefore = tsa.requests;
    const cms = await createCadesSignature({ signer, documentDigest: docDigest, tsa: tsa.url });
    expect(tsa.requests).toBe(requestsBefore + 1);

    const sigFile = writeFile(dir, 'bt.der', cms);
    const contentFile = writeFile(dir, 'bt-payload.bin', payload);
    const caFile = writeFile(dir, 'bt-ca.pem', ca.certPem);
    const verified = opensslOutput([
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      sigFile,
      '-content',
      contentFile,
      '-CAfile',
      caFile,
      '-purpose',
      'any',
      '-out',
      '/dev/null',
    ]);
    expect(verified.stderr).toContain('CMS Verification successful');
    const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', sigFile]).toString();
    expect(printed).toContain('id-smime-aa-timeStampToken (1.2.840.113549.1.9.16.2.14)');
    // our signed attributes (the TSA's token, printed later, has its own signingTime)
    const ours = printed.slice(
      printed.indexOf('signedAttrs:'),
      printed.indexOf('signatureAlgorithm:', printed.indexOf('signedAttrs:')),
    );
    expect(ours).toContain('id-smime-aa-signingCertificateV2');
    expect(ours).not.toMatch(/signingTime/);

    const si = parseCms(cms).signerInfos[0]!;
    expect(si.signedAttributes.map((a) => a.type)).not.toContain(OID.signingTime);
    expect(si.unsignedAttributes.map((a) => a.type)).toEqual([OID.signatureTimeStampToken]);
    const [token] = signatureTimestampTokens(si);
    expect(opensslTsVerify(token!, ['-data', si.signature])).toContain('Verification: OK');
  });

  it('accepts a TSA options object (transport + imprint hash)', async () => {
    const key = await crypto.subtle.importKey(
      'pkcs8',
      leaf.keyPkcs8,
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign'],
    );
    const signer = signerFromCryptoKey(key, leaf.certDer);
    const cms = await createCadesSignature({
      signer,
      documentDigest: new Uint8Array(32),
      tsa: { transport: postToShim, hash: 'SHA-512', policy: TSA_OTHER_POLICY },
    });
    const si = parseCms(cms).signerInfos[0]!;
    const { tstInfo } = parseTimestampToken(signatureTimestampTokens(si)[0]!);
    expect(tstInfo.messageImprint.hashAlgorithm).toBe(OID.sha512);
    expect(tstInfo.messageImprint.hashedMessage).toEqual(
      new Uint8Array(await crypto.subtle.digest('SHA-512', new Uint8Array(si.signature))),
    );
  });

  it('fails the whole signature when the TSA fails', async () => {
    const key = await crypto.subtle.importKey(
      'pkcs8',
      leaf.keyPkcs8,
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign'],
    );
    const signer = signerFromCryptoKey(key, leaf.certDer);
    const down = await fakeTsa((_q, res) => res.writeHead(500).end());
    expect(
      await codeOf(createCadesSignature({ signer, documentDigest: new Uint8Array(32), tsa: down })),
    ).toBe('TSA_UNREACHABLE');
  });
});
