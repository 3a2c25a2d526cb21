import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Ca,
  type Entity,
  type KeySpec,
  createCa,
  issueCertificate,
  issueIntermediateCa,
  makePkcs12,
  makeTempDir,
  opensslOutput,
  removeDir,
} from '../../../../tests/helpers/openssl-pki';
import { SidianError } from '../errors';
import {
  derExplicit,
  derOctetString,
  derOid,
  derSequence,
  derInteger,
  parseDer,
  readOctetString,
} from './der';
import { OID } from './oids';
import { parsePkcs12 } from './pkcs12';

let dir: string;
let root: Ca;
let inter: Ca;
const leaves = {} as Record<KeySpec, Entity>;
const SPECS: KeySpec[] = ['rsa-2048', 'rsa-4096', 'p-256', 'p-384'];

beforeAll(() => {
  dir = makeTempDir();
  root = createCa(dir, { key: 'p-384', subject: '/C=CN/O=Sidian Test/CN=Sidian Test Root CA' });
  inter = issueIntermediateCa(root, {
    name: 'inter',
    subject: '/C=CN/O=Sidian Test/CN=Sidian Test Issuing CA',
    key: 'rsa-2048',
  });
  for (const spec of SPECS) {
    leaves[spec] = issueCertificate(inter, {
      name: `leaf-${spec}`,
      subject: `/C=CN/O=项城市/CN=项城市市场监督管理局 ${spec}`,
      key: spec,
    });
  }
});
afterAll(() => removeDir(dir));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SidianError);
    return (e as SidianError).code;
  }
  return 'no error';
}

describe('parsePkcs12 with OpenSSL 3 files', () => {
  it('defaults really are PBES2/AES-256/SHA-256 MAC and -legacy really is RC2/3DES/SHA-1', () => {
    const leaf = leaves['p-256'];
    const modern = makePkcs12(leaf, { password: 'pw' });
    const legacy = makePkcs12(leaf, { password: 'pw', legacy: true });
    const info = (file: string, extra: string[] = []) => {
      const r = opensslOutput(['pkcs12', '-info', '-noout', '-in', file, '-passin', 'pass:pw', ...extra]);
      return r.stdout + r.stderr;
    };
    const m = info(modern.file);
    expect(m).toMatch(/MAC: sha256/);
    expect(m).toMatch(/PBES2, PBKDF2, AES-256-CBC/);
    const l = info(legacy.file, ['-legacy']);
    expect(l).toMatch(/MAC: sha1/);
    expect(l).toMatch(/pbeWithSHA1And40BitRC2-CBC/);
  });

  for (const spec of SPECS) {
    for (const legacy of [false, true]) {
      it(`reads ${spec} ${legacy ? '-legacy' : 'default'}: leaf by localKeyId, chain ordered upwards`, async () => {
        const leaf = leaves[spec];
        // chain given root first: the reader must order it leaf -> intermediate -> root
        const p12 = makePkcs12(leaf, { password: 'correct horse', chain: [root, inter], legacy });
        const out = await parsePkcs12(p12.bytes, 'correct horse');
        expect(out.certificate).toEqual(leaf.certDer);
        expect(out.chain).toEqual([inter.certDer, root.certDer]);
        expect(out.macVerified).toBe(true);
        expect(out.key.pkcs8).toEqual(leaf.keyPkcs8);
        expect(out.key.algorithmOid).toBe(spec.startsWith('rsa') ? OID.rsaEncryption : OID.ecPublicKey);
      });
    }
  }

  it('accepts UTF-8 and empty passwords, both formats', async () => {
    const leaf = leaves['p-256'];
    for (const password of ['印章密码-2026', '']) {
      for (const legacy of [false, true]) {
        const p12 = makePkcs12(leaf, {
          password,
          legacy,
          file: `${leaf.dir}/pw-${legacy}-${password.length}.p12`,
        });
        const out = await parsePkcs12(p12.bytes, password);
        expect(out.certificate).toEqual(leaf.certDer);
      }
    }
  });

  it('reads files without MAC and with unencrypted bags', async () => {
    const leaf = leaves['rsa-2048'];
    const nomac = makePkcs12(leaf, {
      password: 'pw',
      legacy: true,
      extraArgs: ['-nomac'],
      file: `${leaf.dir}/nomac.p12`,
    });
    const out = await parsePkcs12(nomac.bytes, 'pw');
    expect(out.macVerified).toBe(false);
    expect(out.key.pkcs8).toEqual(leaf.keyPkcs8);
    expect(await codeOf(parsePkcs12(nomac.bytes, 'wrong'))).toBe('P12_BAD_PASSWORD');

    const plain = makePkcs12(leaf, {
      password: 'pw',
      extraArgs: ['-keypbe', 'NONE', '-certpbe', 'NONE'],
      file: `${leaf.dir}/plain.p12`,
    });
    expect((await parsePkcs12(plain.bytes, 'pw')).key.pkcs8).toEqual(leaf.keyPkcs8);
  });

  it('finds the leaf by public key when there is no localKeyId', async () => {
    for (const spec of ['rsa-2048', 'p-384'] as const) {
      const leaf = leaves[spec];
      // Build a MAC-less, unencrypted PFX by hand: certificates first, bags without attributes.
      const certBag = (der: Uint8Array) =>
        derSequence(
          derOid(OID.certBag),
          derExplicit(0, derSequence(derOid(OID.x509Certificate), derExplicit(0, derOctetString(der)))),
        );
      const keyBag = derSequence(derOid(OID.keyBag), derExplicit(0, leaf.keyPkcs8));
      const safe = derSequence(certBag(root.certDer), certBag(leaf.certDer), certBag(inter.certDer), keyBag);
      const authSafe = derSequence(derSequence(derOid(OID.data), derExplicit(0, derOctetString(safe))));
      const pfx = derSequence(
        derInteger(3),
        derSequence(derOid(OID.data), derExplicit(0, derOctetString(authSafe))),
      );
      const out = await parsePkcs12(pfx, 'whatever');
      expect(out.certificate).toEqual(leaf.certDer);
      expect(out.chain).toEqual([inter.certDer, root.certDer]);
    }
  });

  it('reports a wrong password as P12_BAD_PASSWORD', async () => {
    const leaf = leaves['p-384'];
    for (const legacy of [false, true]) {
      const p12 = makePkcs12(leaf, { password: 'right', legacy, file: `${leaf.dir}/wrong-${legacy}.p12` });
      expect(await codeOf(parsePkcs12(p12.bytes, 'wrong'))).toBe('P12_BAD_PASSWORD');
      expect(await codeOf(parsePkcs12(p12.bytes, ''))).toBe('P12_BAD_PASSWORD');
    }
  });

  it('reports garbage as P12_MALFORMED', async () => {
    const p12 = makePkcs12(leaves['p-256'], { password: 'pw', file: `${dir}/g.p12` });
    expect(await codeOf(parsePkcs12(new Uint8Array(0), 'pw'))).toBe('P12_MALFORMED');
    expect(await codeOf(parsePkcs12(new TextEncoder().encode('-----BEGIN CERTIFICATE-----'), 'pw'))).toBe(
      'P12_MALFORMED',
    );
    expect(await codeOf(parsePkcs12(p12.bytes.subarray(0, p12.bytes.length - 40), 'pw'))).toBe(
      'P12_MALFORMED',
    );
    expect(await codeOf(parsePkcs12(leaves['p-256'].certDer, 'pw'))).toBe('P12_MALFORMED');
    const flipped = p12.bytes.slice();
    flipped[flipped.length - 300]! ^= 0xff; // inside the authSafe: the MAC no longer matches
    expect(['P12_BAD_PASSWORD', 'P12_MALFORMED']).toContain(await codeOf(parsePkcs12(flipped, 'pw')));
  });

  it('keeps the friendly name', async () => {
    const p12 = makePkcs12(leaves['p-256'], {
      password: 'pw',
      friendlyName: '电子印章',
      file: `${dir}/fn.p12`,
    });
    const out = await parsePkcs12(p12.bytes, 'pw');
    expect(out.key.friendlyName).toBe('电子印章');
    expect(readOctetString(parseDer(derOctetString(out.key.localKeyId!)))).toHaveLength(20);
  });
});
