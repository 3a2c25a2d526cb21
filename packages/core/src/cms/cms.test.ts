import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Ca,
  type Entity,
  createCa,
  issueCertificate,
  issueIntermediateCa,
  makePkcs12,
  makeTempDir,
  openssl,
  opensslOutput,
  removeDir,
  writeFile,
} from '../../../../tests/helpers/openssl-pki';
import { SidianError } from '../errors';
import { parseCertificate } from '../pki/certificate';
import { compareDerOrder, parseDer } from '../pki/der';
import { OID } from '../pki/oids';
import { digestSync } from '../pki/sha2';
import {
  type Signer,
  ecdsaDerToRaw,
  signerFromCryptoKey,
  signerFromPkcs12,
  signerFromRemote,
} from '../signer';
import {
  buildCmsSignedData,
  buildEssCertIdV2,
  buildSignedAttributes,
  createCadesSignature,
  findSignerCertificate,
  messageDigestOf,
  parseCms,
  signingCertificateV2Of,
} from './index';

let dir: string;
let rsaRoot: Ca;
let ecRoot: Ca;
let ecIssuing: Ca;
let rsa2048: Entity;
let rsa4096: Entity;
let p256: Entity;
let p384: Entity;
let seal: Entity; // 项城市市场监督管理局, issued by an ECDSA intermediate under an ECDSA root
let caBundle: string;
const payload = new TextEncoder().encode(
  '%PDF-1.7 stand-in for the two ByteRange ranges ' + '项'.repeat(500),
);

beforeAll(() => {
  dir = makeTempDir();
  rsaRoot = createCa(dir, {
    name: 'rsa-root',
    key: 'rsa-2048',
    subject: '/C=CN/O=Sidian Test/CN=Sidian Test RSA Root',
  });
  ecRoot = createCa(dir, {
    name: 'ec-root',
    key: 'p-384',
    subject: '/C=CN/O=Sidian Test/CN=Sidian Test EC Root',
  });
  ecIssuing = issueIntermediateCa(ecRoot, {
    name: 'ec-issuing',
    key: 'p-256',
    subject: '/C=CN/O=Sidian Test/CN=Sidian Test EC Issuing CA',
  });
  rsa2048 = issueCertificate(rsaRoot, { name: 'rsa2048', key: 'rsa-2048', subject: '/C=CN/CN=张三' });
  rsa4096 = issueCertificate(rsaRoot, { name: 'rsa4096', key: 'rsa-4096', subject: '/C=CN/CN=李四' });
  p256 = issueCertificate(ecRoot, { name: 'p256', key: 'p-256', subject: '/C=CN/CN=王五' });
  p384 = issueCertificate(ecRoot, { name: 'p384', key: 'p-384', subject: '/C=CN/CN=赵六' });
  seal = issueCertificate(ecIssuing, {
    name: 'seal',
    key: 'p-256',
    subject: '/C=CN/ST=河南省/L=周口市/O=项城市市场监督管理局/CN=项城市市场监督管理局',
  });
  caBundle = writeFile(dir, 'roots.pem', rsaRoot.certPem + ecRoot.certPem);
});
afterAll(() => removeDir(dir));

const sha = async (hash: 'SHA-256' | 'SHA-384', b: Uint8Array) =>
  new Uint8Array(await crypto.subtle.digest(hash, new Uint8Array(b)));

/** openssl cms -verify over the detached payload; returns stderr ("CMS Verification successful"). */
function opensslCmsVerify(cms: Uint8Array, name: string): string {
  const sig = writeFile(dir, `${name}.der`, cms);
  const content = writeFile(dir, 'payload.bin', payload);
  return opensslOutput([
    'cms',
    '-verify',
    '-binary',
    '-inform',
    'DER',
    '-in',
    sig,
    '-content',
    content,
    '-CAfile',
    caBundle,
    '-purpose',
    'any',
    '-out',
    '/dev/null',
  ]).stderr;
}

function opensslCmsPrint(cms: Uint8Array): string {
  return openssl([
    'cms',
    '-cmsout',
    '-print',
    '-inform',
    'DER',
    '-in',
    writeFile(dir, 'print.der', cms),
  ]).toString();
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(SidianError);
    return (e as SidianError).code;
  }
  return 'no error';
}

describe('createCadesSignature, verified by openssl cms', () => {
  const cases: [string, () => Promise<Signer>, string][] = [
    [
      'RSA-2048 PKCS#1 v1.5 (p12 default)',
      async () => signerFromPkcs12(makePkcs12(rsa2048, { password: 'pw', chain: [rsaRoot] }).bytes, 'pw'),
      'sha256WithRSAEncryption',
    ],
    [
      'RSA-4096 PKCS#1 v1.5 (p12 -legacy)',
      async () => signerFromPkcs12(makePkcs12(rsa4096, { password: 'pw', legacy: true }).bytes, 'pw'),
      'sha256WithRSAEncryption',
    ],
    [
      'RSA-2048 RSA-PSS',
      async () =>
        signerFromPkcs12(makePkcs12(rsa2048, { password: 'pw', file: `${dir}/pss.p12` }).bytes, 'pw', {
          rsaScheme: 'pss',
        }),
      'rsassaPss',
    ],
    [
      'P-256 ECDSA (p12 -legacy)',
      async () => signerFromPkcs12(makePkcs12(p256, { password: 'pw', legacy: true }).bytes, 'pw'),
      'ecdsa-with-SHA256',
    ],
    [
      'P-384 ECDSA (CryptoKey)',
      async () =>
        signerFromCryptoKey(
          await crypto.subtle.importKey(
            'pkcs8',
            p384.keyPkcs8,
            { name: 'ECDSA', namedCurve: 'P-384' },
            false,
            ['sign'],
          ),
          p384.certDer,
        ),
      'ecdsa-with-SHA384',
    ],
    [
      '项城市市场监督管理局 seal (EC chain, p12 with chain)',
      async () =>
        signerFromPkcs12(makePkcs12(seal, { password: '印章', chain: [ecRoot, ecIssuing] }).bytes, '印章'),
      'ecdsa-with-SHA256',
    ],
  ];

  for (const [name, make, sigAlg] of cases) {
    it(name, async () => {
      const signer = await make();
      const hash = signer.hash!;
      const cms = await createCadesSignature({
        signer,
        documentDigest: await sha(hash as 'SHA-256', payload),
      });
      expect(opensslCmsVerify(cms, name.replace(/\W+/g, '-'))).toContain('CMS Verification successful');
      const printed = opensslCmsPrint(cms);
      expect(printed).toContain('id-smime-aa-signingCertificateV2');
      expect(printed).toContain('contentType (1.2.840.113549.1.9.3)');
      expect(printed).toContain('messageDigest (1.2.840.113549.1.9.4)');
      expect(printed).not.toMatch(/signingTime/);
      expect(printed).toContain(`algorithm: ${sigAlg}`);
      expect(printed).toMatch(/eContent: <ABSENT>/);
      expect(printed).toMatch(/version: 1/);

      // strict DER throughout
      expect(() => parseDer(cms, { ber: false })).not.toThrow();
      const parsed = parseCms(cms);
      expect(parsed.signerInfos).toHaveLength(1);
      const si = parsed.signerInfos[0]!;
      expect(findSignerCertificate(parsed, si)).toEqual(signer.certificate);
      for (const c of signer.chain) expect(parsed.certificates).toContainEqual(c);
    });
  }

  it('signs with a SHA-384 digest when the signer uses SHA-384 (ESSCertIDv2 names the hash)', async () => {
    const signer = await signerFromPkcs12(
      makePkcs12(rsa2048, { password: 'pw', file: `${dir}/384.p12` }).bytes,
      'pw',
      { hash: 'SHA-384' },
    );
    const cms = await createCadesSignature({ signer, documentDigest: await sha('SHA-384', payload) });
    expect(opensslCmsVerify(cms, 'sha384')).toContain('CMS Verification successful');
    const ids = signingCertificateV2Of(parseCms(cms).signerInfos[0]!)!;
    expect(ids[0]!.hashAlgorithm).toBe(OID.sha384);
    expect(ids[0]!.certHash).toEqual(digestSync('SHA-384', rsa2048.certDer));
    expect(opensslCmsPrint(cms)).toContain('algorithm: sha384WithRSAEncryption');
  });

  it('works with a remote signer (digest out, signature in)', async () => {
    const signer = signerFromRemote({
      certificate: seal.certDer,
      chain: [ecIssuing.certDer],
      signDigest: async (digest) => {
        const f = writeFile(dir, 'remote-digest.bin', digest);
        return new Uint8Array(openssl(['pkeyutl', '-sign', '-inkey', seal.keyFile, '-in', f]));
      },
    });
    const cms = await createCadesSignature({ signer, documentDigest: await sha('SHA-256', payload) });
    expect(opensslCmsVerify(cms, 'remote')).toContain('CMS Verification successful');
  });
});

describe('buildSignedAttributes', () => {
  it('is a DER SET OF in sorted order with exactly the three B-B attributes', async () => {
    const digest = await sha('SHA-256', payload);
    const attrs = buildSignedAttributes({ messageDigest: digest, certificate: seal.certDer });
    const set = parseDer(attrs, { ber: false }).expect(0x31);
    const encodings = set.children.map((c) => c.raw);
    expect([...encodings].sort(compareDerOrder)).toEqual(encodings);
    const cms = parseCms(
      buildCmsSignedData({
        signer: { certificate: seal.certDer, chain: [] },
        signedAttributes: attrs,
        signature: new Uint8Array([1]),
      }),
    );
    const si = cms.signerInfos[0]!;
    expect(si.signedAttrs).toEqual(attrs); // [0] IMPLICIT carries exactly the signed bytes
    expect(si.signedAttributes.map((a) => a.type).sort()).toEqual(
      [OID.contentType, OID.messageDigest, OID.signingCertificateV2].sort(),
    );
    expect(messageDigestOf(si)).toEqual(digest);
    const [id] = signingCertificateV2Of(si)!;
    expect(id!.hashAlgorithm).toBe(OID.sha256);
    expect(id!.certHash).toEqual(digestSync('SHA-256', seal.certDer));
    const cert = parseCertificate(seal.certDer);
    expect(id!.issuerSerial!.issuer).toEqual([cert.issuer]);
    expect(id!.issuerSerial!.serialNumber).toEqual(cert.serialNumberDer);
  });

  it('omits the ESSCertIDv2 hashAlgorithm for SHA-256 (DER DEFAULT)', () => {
    const id = parseDer(buildEssCertIdV2(seal.certDer, 'SHA-256'));
    expect(id.child(0).tag).toBe(0x04);
    const id384 = parseDer(buildEssCertIdV2(seal.certDer, 'SHA-384'));
    expect(id384.child(0).tag).toBe(0x30);
  });

  it('checks the digest length', async () => {
    expect(
      await codeOf(() =>
        buildSignedAttributes({ messageDigest: new Uint8Array(20), certificate: seal.certDer }),
      ),
    ).toBe('SIGN_BAD_OPTIONS');
  });
});

describe('createCadesSignature input checks', () => {
  it('refuses a digest of the wrong length or a conflicting hash', async () => {
    const signer = await signerFromPkcs12(
      makePkcs12(p384, { password: 'pw', file: `${dir}/c.p12` }).bytes,
      'pw',
    );
    expect(await codeOf(createCadesSignature({ signer, documentDigest: new Uint8Array(32) }))).toBe(
      'SIGN_BAD_OPTIONS',
    );
    expect(
      await codeOf(createCadesSignature({ signer, documentDigest: new Uint8Array(48), hash: 'SHA-256' })),
    ).toBe('SIGN_BAD_OPTIONS');
  });

  it('wraps signer failures', async () => {
    const signer: Signer = {
      certificate: p256.certDer,
      chain: [],
      sign: async () => Promise.reject(new Error('card removed')),
    };
    expect(await codeOf(createCadesSignature({ signer, documentDigest: new Uint8Array(32) }))).toBe(
      'SIGNER_FAILED',
    );
  });

  it('derives algorithm and hash for a bare Signer from its certificate', async () => {
    const key = await crypto.subtle.importKey(
      'pkcs8',
      p384.keyPkcs8,
      { name: 'ECDSA', namedCurve: 'P-384' },
      false,
      ['sign'],
    );
    const inner = signerFromCryptoKey(key, p384.certDer);
    const bare: Signer = { certificate: p384.certDer, chain: [], sign: (d) => inner.sign(d) }; // no algorithm/hash
    const cms = await createCadesSignature({ signer: bare, documentDigest: await sha('SHA-384', payload) });
    expect(opensslCmsVerify(cms, 'bare')).toContain('CMS Verification successful');
  });
});

describe('parseCms on foreign CMS', () => {
  it('reads openssl BER (streamed) output: signedAttrs are the bytes the signature covers', async () => {
    const content = writeFile(dir, 'foreign.bin', payload);
    for (const stream of [false, true]) {
      const out = `${dir}/foreign-${stream}.der`;
      openssl([
        'cms',
        '-sign',
        '-binary',
        '-nodetach',
        '-md',
        'sha256',
        '-in',
        content,
        '-signer',
        p256.certFile,
        '-inkey',
        p256.keyFile,
        '-certfile',
        ecRoot.certFile,
        '-outform',
        'DER',
        '-out',
        out,
        ...(stream ? ['-stream'] : []),
      ]);
      const der = new Uint8Array(readFileSync(out));
      if (stream) expect(() => parseDer(der, { ber: false })).toThrow(); // really BER
      const cms = parseCms(der);
      expect(cms.content).toEqual(payload);
      expect(cms.certificates).toContainEqual(ecRoot.certDer);
      const si = cms.signerInfos[0]!;
      expect(si.signedAttributes.map((a) => a.type)).toContain(OID.signingTime);
      expect(messageDigestOf(si)).toEqual(await sha('SHA-256', payload));
      const cert = parseCertificate(findSignerCertificate(cms, si)!);
      const key = await crypto.subtle.importKey(
        'spki',
        new Uint8Array(cert.spki),
        { name: 'ECDSA', namedCurve: 'P-256' },
        false,
        ['verify'],
      );
      const ok = await crypto.subtle.verify(
        { name: 'ECDSA', hash: 'SHA-256' },
        key,
        new Uint8Array(ecdsaDerToRaw(si.signature, 32)!),
        new Uint8Array(si.signedAttrs!),
      );
      expect(ok).toBe(true);
    }
  });

  it('reports junk as CMS_MALFORMED', async () => {
    expect(await codeOf(() => parseCms(new Uint8Array([0x30, 0x00])))).toBe('CMS_MALFORMED');
    expect(await codeOf(() => parseCms(p256.certDer))).toBe('CMS_MALFORMED');
  });
});
