/**
 * validatePath against an attacker who holds a valid certificate and tries to get more from it
 * than it grants: issuing certificates with an end-entity key, a CA key that may not sign
 * certificates, a TSA certificate without (critical) timeStamping, a signer key limited to
 * encryption, a CRL from an impostor with the CA's name, an unknown critical extension, and a
 * pool of look-alike issuers meant to make path building explode. Each has its honest twin that
 * passes, so every check is seen able to say yes as well as no.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { validatePath } from '../index';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86400_000;
const now = new Date();
const TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

interface Cred {
  cert: x509.X509Certificate;
  der: Uint8Array;
  keys: CryptoKeyPair;
}
let serial = 1;

async function make(
  subject: string,
  issuer: Cred | undefined,
  o: {
    ca?: boolean;
    usage?: number;
    eku?: { critical: boolean };
    extra?: x509.Extension[];
    notAfter?: Date;
  } = {},
): Promise<Cred> {
  const keys = (await webcrypto.subtle.generateKey(ALG, false, ['sign', 'verify'])) as CryptoKeyPair;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(!!o.ca, undefined, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey));
  if (o.usage !== undefined) extensions.push(new x509.KeyUsagesExtension(o.usage, true));
  if (o.eku) extensions.push(new x509.ExtendedKeyUsageExtension([TIME_STAMPING], o.eku.critical));
  extensions.push(...(o.extra ?? []));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(2, '0'),
    subject,
    issuer: issuer ? issuer.cert.subject : subject,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: o.notAfter ?? new Date(now.getTime() + 365 * DAY),
    publicKey: keys.publicKey,
    signingKey: (issuer ?? { keys }).keys.privateKey,
    signingAlgorithm: ALG,
    extensions,
  });
  return { cert, der: new Uint8Array(cert.rawData), keys };
}

const KU = x509.KeyUsageFlags;
let root: Cred;
let signer: Cred;

beforeAll(async () => {
  root = await make('C=CN, O=Sidian 测试, CN=Test Root CA', undefined, {
    ca: true,
    usage: KU.keyCertSign | KU.cRLSign,
  });
  signer = await make('C=CN, CN=张三', root, { usage: KU.digitalSignature | KU.nonRepudiation });
});

const validate = (
  target: Cred,
  intermediates: Cred[],
  purpose: 'signer' | 'tsa' | 'crl-issuer' | 'any',
  crls: Uint8Array[] = [],
  revocation?: 'require',
) =>
  validatePath({
    target: target.der,
    intermediates: intermediates.map((c) => c.der),
    trustAnchors: [root.der],
    crls,
    time: now,
    purpose,
    revocation,
  });

describe('validatePath refuses what a certificate does not grant', () => {
  it('an end-entity certificate (CA:FALSE) cannot issue: "not a CA (basicConstraints)"', async () => {
    expect((await validate(signer, [], 'signer')).valid).toBe(true);
    const bureau = await make('C=CN, O=项城市市场监督管理局, CN=项城市市场监督管理局', signer, {
      usage: KU.digitalSignature,
    });
    const r = await validate(bureau, [signer], 'signer');
    expect(r).toMatchObject({ valid: false, status: 'invalid', problem: 'basic-constraints' });
    expect(r.reasons[0]).toMatch(/issuer certificate "CN=张三, C=CN" is not a CA \(basicConstraints/);
    expect(r.path.length).toBe(3);
  });

  it('a CA certificate whose key usage lacks keyCertSign cannot issue', async () => {
    const honest = await make('C=CN, CN=Sub CA', root, { ca: true, usage: KU.keyCertSign });
    expect(
      (
        await validate(
          await make('C=CN, CN=leaf a', honest, { usage: KU.digitalSignature }),
          [honest],
          'signer',
        )
      ).valid,
    ).toBe(true);
    const sub = await make('C=CN, CN=Sub CA 2', root, { ca: true, usage: KU.digitalSignature | KU.cRLSign });
    const r = await validate(
      await make('C=CN, CN=leaf b', sub, { usage: KU.digitalSignature }),
      [sub],
      'signer',
    );
    expect(r).toMatchObject({ valid: false, problem: 'key-usage' });
    expect(r.reasons[0]).toMatch(/keyCertSign/);
  });

  it('a TSA needs id-kp-timeStamping, marked critical (RFC 3161 §2.3)', async () => {
    const tsa = await make('C=CN, CN=TSA', root, { usage: KU.digitalSignature, eku: { critical: true } });
    expect((await validate(tsa, [], 'tsa')).valid).toBe(true);
    const soft = await make('C=CN, CN=TSA soft', root, {
      usage: KU.digitalSignature,
      eku: { critical: false },
    });
    const r1 = await validate(soft, [], 'tsa');
    expect(r1).toMatchObject({ valid: false, problem: 'extended-key-usage' });
    expect(r1.reasons[0]).toMatch(/not marked critical/);
    const r2 = await validate(signer, [], 'tsa');
    expect(r2).toMatchObject({ valid: false, problem: 'extended-key-usage' });
    expect(r2.reasons[0]).toMatch(/lacks id-kp-timeStamping/);
  });

  it('a signer needs digitalSignature or nonRepudiation; a CRL issuer needs cRLSign', async () => {
    const enc = await make('C=CN, CN=encryption only', root, { usage: KU.keyEncipherment });
    expect(await validate(enc, [], 'signer')).toMatchObject({ valid: false, problem: 'key-usage' });
    expect(await validate(signer, [], 'crl-issuer')).toMatchObject({ valid: false, problem: 'key-usage' });
    expect((await validate(root, [], 'crl-issuer')).valid).toBe(true);
  });

  it('an unknown critical extension makes the certificate unusable; the same one non-critical does not', async () => {
    const ext = (critical: boolean) =>
      new x509.Extension('1.3.6.1.4.1.99999.1', critical, new Uint8Array([0x05, 0x00]));
    expect(
      (
        await validate(
          await make('C=CN, CN=nc', root, { usage: KU.digitalSignature, extra: [ext(false)] }),
          [],
          'signer',
        )
      ).valid,
    ).toBe(true);
    const r = await validate(
      await make('C=CN, CN=c', root, { usage: KU.digitalSignature, extra: [ext(true)] }),
      [],
      'signer',
    );
    expect(r).toMatchObject({ valid: false, problem: 'critical-extension' });
  });

  it('an expired trust anchor vouches for nothing any more', async () => {
    const oldRoot = await make('C=CN, CN=Retired Root', undefined, {
      ca: true,
      usage: KU.keyCertSign,
      notAfter: new Date(now.getTime() - 1000),
    });
    const leaf = await make('C=CN, CN=leaf e', oldRoot, { usage: KU.digitalSignature });
    const r = await validatePath({
      target: leaf.der,
      trustAnchors: [oldRoot.der],
      time: now,
      purpose: 'signer',
    });
    expect(r).toMatchObject({ valid: false, problem: 'validity' });
    expect(r.reasons[0]).toMatch(/^trust anchor "CN=Retired Root, C=CN" expired/);
  });

  it('an expired issuer fails the path at the validation time', async () => {
    const old = await make('C=CN, CN=Old CA', root, {
      ca: true,
      usage: KU.keyCertSign,
      notAfter: new Date(now.getTime() - 1000),
    });
    const r = await validate(
      await make('C=CN, CN=leaf c', old, { usage: KU.digitalSignature }),
      [old],
      'signer',
    );
    expect(r).toMatchObject({ valid: false, problem: 'validity' });
  });

  it("a CRL from an impostor with the CA's name revokes nothing; the CA's own CRL does", async () => {
    const crl = async (signingKey: CryptoKey) =>
      new Uint8Array(
        (
          await x509.X509CrlGenerator.create({
            issuer: root.cert.subject,
            thisUpdate: new Date(now.getTime() - DAY),
            nextUpdate: new Date(now.getTime() + DAY),
            entries: [
              {
                serialNumber: signer.cert.serialNumber,
                revocationDate: new Date(now.getTime() - 1000),
                reason: x509.X509CrlReason.keyCompromise,
              },
            ],
            signingKey,
            signingAlgorithm: ALG,
          })
        ).rawData,
      );
    const impostor = await make('C=CN, O=Sidian 测试, CN=Test Root CA', undefined, {
      ca: true,
      usage: KU.keyCertSign | KU.cRLSign,
    });
    const fake = await crl(impostor.keys.privateKey);
    expect((await validate(signer, [impostor], 'signer', [fake])).valid).toBe(true);
    expect(await validate(signer, [impostor], 'signer', [fake], 'require')).toMatchObject({
      valid: false,
      problem: 'revocation-unknown',
    });
    const real = await crl(root.keys.privateKey);
    const r = await validate(signer, [], 'signer', [real]);
    expect(r).toMatchObject({ valid: false, status: 'revoked', problem: 'revoked' });
    expect(r.reasons[0]).toMatch(/revoked on .*keyCompromise/);
  });

  it('a pool of 300 look-alike issuers does not make path building explode', async () => {
    const keys = (await webcrypto.subtle.generateKey(ALG, false, ['sign', 'verify'])) as CryptoKeyPair;
    const lookAlike = await x509.X509CertificateGenerator.create({
      serialNumber: 'ff',
      subject: 'C=CN, CN=Loop',
      issuer: 'C=CN, CN=Loop',
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + DAY),
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      signingAlgorithm: ALG,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
    });
    const pool: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      const c = new Uint8Array(lookAlike.rawData).slice(); // a copy: rawData is one shared buffer
      c[c.length - 1] ^= i & 0xff; // distinct bytes, same names
      c[c.length - 2] ^= i >> 8;
      pool.push(c);
    }
    const leaf = await make(
      'C=CN, CN=leaf d',
      { cert: lookAlike, der: new Uint8Array(lookAlike.rawData), keys },
      { usage: KU.digitalSignature },
    );
    const t0 = Date.now();
    const r = await validatePath({
      target: leaf.der,
      intermediates: pool,
      trustAnchors: [root.der],
      time: now,
      purpose: 'signer',
    });
    expect(r).toMatchObject({ valid: false, problem: 'no-path' });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('look-alike issuers listed before the real one do not hide the real path (key identifiers first)', async () => {
    const lookAlikes: Uint8Array[] = [];
    for (let i = 0; i < 40; i++)
      lookAlikes.push(
        (await make('C=CN, CN=Same Name CA', undefined, { ca: true, usage: KU.keyCertSign })).der,
      );
    const real = await make('C=CN, CN=Same Name CA', root, { ca: true, usage: KU.keyCertSign });
    const leaf = await make('C=CN, CN=leaf f', real, { usage: KU.digitalSignature });
    const r = await validatePath({
      target: leaf.der,
      intermediates: [...lookAlikes, real.der],
      trustAnchors: [root.der],
      time: now,
      purpose: 'signer',
    });
    expect(r.valid).toBe(true);
  });

  it('unreadable input is a clear invalid result, not a crash', async () => {
    const r = await validatePath({
      target: new Uint8Array([0x30, 0x03, 0x02, 0x01]),
      trustAnchors: [root.der],
    });
    expect(r).toMatchObject({ valid: false, status: 'invalid', problem: 'malformed' });
  });
});
