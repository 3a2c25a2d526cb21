/**
 * SM3 and SM2 against the standards' published examples and against OpenSSL 3 (both directions).
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
// @ts-expect-error a plain .mjs script without types
import { MODULES, render } from '../../../../scripts/build-wasm.mjs';
import { makeTempDir, openssl, pemToDer, derToPem, removeDir } from '../../../../tests/helpers/openssl-pki';
import { SidianError } from '../errors';
import { fromHex, parseDer, readBitStringBytes, toHex } from '../pki/der';
import { parseCertificate } from '../pki/certificate';
import {
  SM2_DEFAULT_ID,
  sm2Curve,
  sm2Pkcs8,
  sm2PrivateKeyFromDer,
  sm2PublicKey,
  sm2RandomPrivateKey,
  sm2Sign,
  sm2SignRaw,
  sm2Spki,
  sm2Verify,
  sm2VerifyRaw,
  sm2Z,
} from './sm2';
import { setSm3Engine, sm3, sm3EngineInUse } from './sm3';
import { SM3_WASM } from './sm3-wasm';

const utf8 = (s: string) => new TextEncoder().encode(s);
const big = (s: string) => BigInt('0x' + s.replace(/ /g, ''));

// Each engine alone: Node's OpenSSL, sm3.wat in WebAssembly, the JavaScript fallback.
describe.each(['node', 'wasm', 'js'] as const)('SM3 (GB/T 32905-2016 Appendix A), %s engine', (engine) => {
  let previous: ReturnType<typeof setSm3Engine>;
  beforeEach(() => {
    previous = setSm3Engine(engine);
    expect(sm3EngineInUse()).toBe(engine);
  });
  afterEach(() => {
    setSm3Engine(previous);
  });
  it('example 1: "abc"', () => {
    expect(toHex(sm3(utf8('abc')))).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  });
  it('example 2: the 512-bit message "abcd" x 16', () => {
    expect(toHex(sm3(utf8('abcd'.repeat(16))))).toBe(
      'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732',
    );
  });
  it('agrees with openssl dgst -sm3 across block boundaries, incrementally fed', () => {
    for (const len of [0, 55, 56, 63, 64, 65, 1000, 100_003]) {
      const data = new Uint8Array(len).map((_, i) => (i * 31 + len) & 0xff);
      const expected = openssl(['dgst', '-sm3', '-binary'], { input: data });
      expect(toHex(sm3(data)), `length ${len}`).toBe(toHex(expected));
      const h = sm3.create();
      for (let i = 0; i < len; i += 17) h.update(data.subarray(i, i + 17));
      expect(toHex(h.digest())).toBe(toHex(expected));
    }
  });
  it("agrees with Node's OpenSSL sm3 for every length 0-300, split in three updates", () => {
    for (let len = 0; len <= 300; len++) {
      const data = new Uint8Array(len).map((_, i) => (i * 131 + len) & 0xff);
      const expected = createHash('sm3').update(data).digest('hex');
      expect(toHex(sm3(data)), `length ${len}`).toBe(expected);
      const h = sm3.create();
      const [a, b] = [len >> 2, (len * 3) >> 2];
      h.update(data.subarray(0, a)).update(data.subarray(a, b)).update(data.subarray(b));
      expect(toHex(h.digest()), `length ${len} in parts`).toBe(expected);
      expect(() => h.digest()).toThrow();
    }
  });
});

describe('SM3 engines', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });
  it("'auto' uses Node's native sm3 here, and hashers of different engines interleave", () => {
    expect(sm3EngineInUse()).toBe('node');
    const data = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
    const hashers = (['wasm', 'js', 'node'] as const).map((e) => {
      const previous = setSm3Engine(e);
      const h = sm3.create();
      setSm3Engine(previous);
      return h;
    });
    for (let i = 0; i < data.length; i += 70_001)
      for (const h of hashers) h.update(data.subarray(i, i + 70_001));
    const expected = createHash('sm3').update(data).digest('hex');
    for (const h of hashers) expect(toHex(h.digest())).toBe(expected);
  });
  it('falls back to JavaScript where compiling WebAssembly is refused (as under a CSP without wasm-unsafe-eval)', async () => {
    // what Chromium throws under such a CSP; gm.browser-test.ts checks the real policy
    class Refused {
      constructor() {
        throw new WebAssembly.CompileError(
          'WebAssembly.Module(): Wasm code generation disallowed by embedder',
        );
      }
    }
    vi.stubGlobal('WebAssembly', { ...WebAssembly, Module: Refused, CompileError: WebAssembly.CompileError });
    vi.resetModules();
    const fresh = await import('./sm3');
    fresh.setSm3Engine('wasm');
    expect(fresh.sm3EngineInUse()).toBe('js');
    const data = new Uint8Array(1000).map((_, i) => i & 0xff);
    expect(toHex(fresh.sm3(data))).toBe(createHash('sm3').update(data).digest('hex'));
  });
  it('the embedded WebAssembly is sm3.wat as assembled by scripts/build-wasm.mjs', async () => {
    const text: string = await render(MODULES.find((m: { wat: string }) => m.wat.endsWith('sm3.wat')));
    expect(text).toContain(`'${SM3_WASM}'`);
  });
});

describe('SM2 signature (GM/T 0003.2-2012 Appendix A.2, Fp-256 test curve)', () => {
  const curve = sm2Curve({
    p: big('8542D69E 4C044F18 E8B92435 BF6FF7DE 45728391 5C45517D 722EDB8B 08F1DFC3'),
    a: big('787968B4 FA32C3FD 2417842E 73BBFEFF 2F3C848B 6831D7E0 EC65228B 3937E498'),
    b: big('63E4C6D3 B23B0C84 9CF84241 484BFE48 F61D59A5 B16BA06E 6E12D1DA 27C5249A'),
    Gx: big('421DEBD6 1B62EAB6 746434EB C3CC315E 32220B3B ADD50BDC 4C4E6C14 7FEDD43D'),
    Gy: big('0680512B CBB42C07 D47349D2 153B70C4 E5D7FDFC BFA36EA1 A85841B9 E46E09A2'),
    n: big('8542D69E 4C044F18 E8B92435 BF6FF7DD 29772063 0485628D 5AE74EE7 C32E79B7'),
  });
  const d = fromHex('128B2FA8BD433C6C068C8D803DFF79792A519A55171B1B650C23661D15897263');
  const id = 'ALICE123@YAHOO.COM';
  const message = utf8('message digest');
  const k = big('6CB28D99 385C175C 94F94E93 4817663F C176D925 DD72B727 260DBAAE 1FB2F96F');
  const r = big('40F1EC59 F793D9F4 9E09DCEF 49130D41 94F79FB1 EED2CAA5 5BACDB49 C4E755D1');
  const s = big('6FC6DAC3 2C5D5CF1 0C77DFB2 0F7C2EB6 67A45787 2FB09EC5 6327A67E C7DEEBE7');

  it('derives the public key, Z and (with the example k) r and s of the standard', () => {
    const P = sm2PublicKey(d, curve);
    expect(toHex(P)).toBe(
      '04' +
        '0ae4c7798aa0f119471bee11825be46202bb79e2a5844495e97c04ff4df2548a' +
        '7c0240f88f1cd4e16352a73c17b7f16f07353e53a176d684a9fe0c6bb798e857',
    );
    expect(toHex(sm2Z(P, { curve, id }))).toBe(
      'f4a38489e32b45b6f876e3ac2168ca392362dc8f23459c1d1146fc3dbfb7bc9a',
    );
    expect(sm2SignRaw(d, message, { curve, id, k })).toEqual({ r, s });
  });

  it('verifies the published signature and rejects it for another message, ID, r or s', () => {
    const P = sm2PublicKey(d, curve);
    expect(sm2VerifyRaw(P, message, r, s, { curve, id })).toBe(true);
    expect(sm2VerifyRaw(P, utf8('message digesT'), r, s, { curve, id })).toBe(false);
    expect(sm2VerifyRaw(P, message, r, s, { curve, id: SM2_DEFAULT_ID })).toBe(false);
    expect(sm2VerifyRaw(P, message, r + 1n, s, { curve, id })).toBe(false);
    expect(sm2VerifyRaw(P, message, r, s - 1n, { curve, id })).toBe(false);
    expect(sm2VerifyRaw(P, message, 0n, s, { curve, id })).toBe(false);
    expect(sm2VerifyRaw(P, message, r, curve.params.n, { curve, id })).toBe(false);
  });
});

describe('SM2 on the recommended curve (GB/T 32918.5), against OpenSSL 3', () => {
  const dir = makeTempDir('sidian-gm-');
  afterAll(() => removeDir(dir));
  const message = utf8('四电 SM2 互操作 / interop');
  const msgFile = path.join(dir, 'msg.bin');
  writeFileSync(msgFile, message);

  it('a signature made by Sidian verifies with openssl pkeyutl (distid 1234567812345678); a changed one does not', () => {
    const d = sm2RandomPrivateKey();
    const sig = sm2Sign(d, message);
    const pub = path.join(dir, 'pub.pem');
    writeFileSync(pub, derToPem(sm2Spki(sm2PublicKey(d)), 'PUBLIC KEY'));
    const sigFile = path.join(dir, 'sig.der');
    writeFileSync(sigFile, sig);
    const verify = (file: string) =>
      openssl([
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        pub,
        '-rawin',
        '-digest',
        'sm3',
        '-pkeyopt',
        `distid:${SM2_DEFAULT_ID}`,
        '-in',
        file,
        '-sigfile',
        sigFile,
      ]).toString();
    expect(verify(msgFile)).toContain('Signature Verified Successfully');
    const other = path.join(dir, 'other.bin');
    writeFileSync(other, utf8('四电 SM2 互操作 / interoP'));
    expect(() => verify(other)).toThrow(/Signature Verification Failure/);
  });

  it('a signature made by openssl pkeyutl verifies in Sidian, and only for its message and ID', () => {
    const keyFile = path.join(dir, 'ossl.key');
    openssl(['genpkey', '-algorithm', 'SM2', '-out', keyFile]);
    const pkcs8 = new Uint8Array(openssl(['pkcs8', '-topk8', '-nocrypt', '-in', keyFile, '-outform', 'DER']));
    const d = sm2PrivateKeyFromDer(pkcs8);
    const P = sm2PublicKey(d);
    const sig = new Uint8Array(
      openssl([
        'pkeyutl',
        '-sign',
        '-inkey',
        keyFile,
        '-rawin',
        '-digest',
        'sm3',
        '-pkeyopt',
        `distid:${SM2_DEFAULT_ID}`,
        '-in',
        msgFile,
      ]),
    );
    expect(sm2Verify(P, message, sig)).toBe(true);
    expect(sm2Verify(P, utf8('something else'), sig)).toBe(false);
    expect(sm2Verify(P, message, sig, { id: 'ALICE123@YAHOO.COM' })).toBe(false);
    // our own PKCS#8 encoding of the same key reads back to the same scalar, and OpenSSL reads it
    expect(toHex(sm2PrivateKeyFromDer(sm2Pkcs8(d)))).toBe(toHex(d));
    const ours = path.join(dir, 'ours.key');
    writeFileSync(ours, derToPem(sm2Pkcs8(d), 'PRIVATE KEY'));
    const pubOut = openssl(['pkey', '-in', ours, '-pubout', '-outform', 'DER']);
    expect(toHex(pubOut)).toBe(toHex(sm2Spki(P)));
  });

  it('a self-signed SM2 certificate from openssl req -sm3 verifies in Sidian', () => {
    const keyFile = path.join(dir, 'root.key');
    openssl(['genpkey', '-algorithm', 'SM2', '-out', keyFile]);
    const certFile = path.join(dir, 'root.pem');
    openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      keyFile,
      '-subj',
      '/C=CN/CN=SM2 Root',
      '-sm3',
      '-sigopt',
      `distid:${SM2_DEFAULT_ID}`,
      '-days',
      '30',
      '-out',
      certFile,
    ]);
    const der = pemToDer(openssl(['x509', '-in', certFile]).toString());
    const cert = parseCertificate(der);
    expect(cert.publicKey.kind === 'ec' && cert.publicKey.curveOid).toBe('1.2.156.10197.1.301');
    const node = parseDer(der);
    const tbs = node.child(0).raw;
    const sig = readBitStringBytes(node.child(2));
    const point = cert.publicKey.kind === 'ec' ? cert.publicKey.point : new Uint8Array();
    expect(sm2Verify(point, tbs, sig)).toBe(true);
    const tampered = tbs.slice();
    tampered[tampered.length - 40]! ^= 1;
    expect(sm2Verify(point, tampered, sig)).toBe(false);
  });

  it('rejects keys that are not SM2 keys with KEY_UNSUPPORTED', () => {
    const keyFile = path.join(dir, 'p256.key');
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
    const pkcs8 = new Uint8Array(openssl(['pkcs8', '-topk8', '-nocrypt', '-in', keyFile, '-outform', 'DER']));
    expect(() => sm2PrivateKeyFromDer(pkcs8)).toThrow(SidianError);
    expect(() => sm2PrivateKeyFromDer(Uint8Array.of(1, 2, 3))).toThrow(/SM2 private key cannot be read/);
    expect(() => sm2PublicKey(new Uint8Array(32))).toThrow(/\[1, n-2\]/);
    expect(sm2Verify(Uint8Array.of(4, 1, 2), message, sm2Sign(sm2RandomPrivateKey(), message))).toBe(false);
  });
});

describe('SM2 verification with a key table', () => {
  it('a key verified again and again (past the table threshold) still accepts only its own signatures', () => {
    const key = sm2RandomPrivateKey();
    const other = sm2RandomPrivateKey();
    const publicKey = sm2PublicKey(key);
    for (let i = 0; i < 8; i++) {
      const message = utf8(`申请 ${i}`);
      const signature = sm2Sign(key, message);
      expect(sm2Verify(publicKey, message, signature), `round ${i}`).toBe(true);
      expect(sm2Verify(publicKey, utf8(`申请 ${i + 1}`), signature), `round ${i}, other message`).toBe(false);
      // an attacker's signature over the same message with another key, presented under this key
      expect(sm2Verify(publicKey, message, sm2Sign(other, message)), `round ${i}, other key`).toBe(false);
    }
  });
});
