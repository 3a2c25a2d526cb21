/**
 * 国密 interoperability checks that gm.test.ts and packages/core/src/gm/gm.test.ts do not already
 * make: a second, independent SM2/SM3 implementation (sm-crypto, written apart from @noble/curves)
 * in both directions with DER and raw r||s signatures and other user IDs; `openssl dgst -sm3` in both
 * directions; what OpenSSL 3.0's `cms -verify` does with SM2 CMS (and why it cannot check ours);
 * and bad input: a P-256 key or certificate given as SM2, and an SM2 signature over another signer ID.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCmsSignedData, buildSignedAttributes, parseCms } from '../../packages/core/src/cms';
import { isSidianError } from '../../packages/core/src/errors';
import {
  SM2_DEFAULT_ID,
  sm2PrivateKeyFromDer,
  sm2PublicKey,
  sm2Sign,
  sm2Verify,
} from '../../packages/core/src/gm/sm2';
import { sm3 } from '../../packages/core/src/gm/sm3';
import { derInteger, derSequence, fromHex, toHex } from '../../packages/core/src/pki/der';
import { OID } from '../../packages/core/src/pki/oids';
import { signPdf } from '../../packages/core/src/sign/sign-pdf';
import { ecdsaDerToRaw } from '../../packages/core/src/signer/ecdsa';
import { createSm2Key, signerFromSm2 } from '../../packages/core/src/signer/sm2';
import type { Signer } from '../../packages/core/src/signer/types';
import { verifyPdf } from '../../packages/core/src/verify';
import {
  createCa,
  issueCertificate,
  makeTempDir,
  removeDir,
  SM2_DISTID,
  type Ca,
  type Entity,
} from '../helpers/openssl-pki';
import { loadInput } from './generator';

/** The part of sm-crypto (no type declarations of its own) these tests use. */
interface SmCrypto {
  sm2: {
    generateKeyPairHex(): { privateKey: string; publicKey: string };
    doSignature(
      msg: number[] | string,
      privateKey: string,
      o?: { der?: boolean; hash?: boolean; publicKey?: string; userId?: string },
    ): string;
    doVerifySignature(
      msg: number[] | string,
      signature: string,
      publicKey: string,
      o?: { der?: boolean; hash?: boolean; userId?: string },
    ): boolean;
  };
  sm3(msg: number[] | string): string;
}
const sm = createRequire(import.meta.url)('sm-crypto') as SmCrypto;
const arr = (b: Uint8Array) => Array.from(b);

/** raw r||s (32 + 32 bytes) to DER SEQUENCE { r, s } */
const rawToDer = (raw: Uint8Array) =>
  derSequence(
    derInteger(BigInt('0x' + toHex(raw.subarray(0, 32)))),
    derInteger(BigInt('0x' + toHex(raw.subarray(32)))),
  );

let dir: string;
let ca: Ca;
let leaf: Entity;

beforeAll(() => {
  dir = makeTempDir('sidian-gm-interop-');
  ca = createCa(dir, { name: 'sm2-ca', key: 'sm2', subject: '/C=CN/O=四电测试/CN=四电 SM2 互通 CA' });
  leaf = issueCertificate(ca, { name: 'sm2-leaf', key: 'sm2', subject: '/C=CN/O=四电测试局/CN=互通印章' });
});
afterAll(() => {
  if (dir) removeDir(dir);
});

function openssl(args: string[]) {
  return spawnSync('openssl', args, { encoding: 'utf8' });
}

describe('sm-crypto (an independent SM2/SM3 implementation) and Sidian', () => {
  const message = new TextEncoder().encode('四电 国密互通 — 电子印章 2026');

  it('SM3 digests agree over lengths across block boundaries', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000]) {
      const m = crypto.getRandomValues(new Uint8Array(n));
      expect(toHex(sm3(m))).toBe(sm.sm3(arr(m)));
    }
  });

  it('sm-crypto signs (DER and raw r||s, default ID) and Sidian verifies; a changed message or ID does not verify', () => {
    const { privateKey, publicKey } = sm.sm2.generateKeyPairHex();
    const pub = fromHex(publicKey);
    const der = fromHex(sm.sm2.doSignature(arr(message), privateKey, { der: true, hash: true }));
    expect(sm2Verify(pub, message, der)).toBe(true);
    const raw = fromHex(sm.sm2.doSignature(arr(message), privateKey, { hash: true }).padStart(128, '0'));
    expect(raw).toHaveLength(64);
    expect(sm2Verify(pub, message, rawToDer(raw))).toBe(true);
    expect(sm2Verify(pub, message.slice(1), der)).toBe(false);
    expect(sm2Verify(pub, message, der, { id: 'ALICE123@YAHOO.COM' })).toBe(false);
  });

  it('Sidian signs (DER) and sm-crypto verifies as DER and as raw r||s; not for another message', () => {
    const key = createSm2Key();
    const pubHex = toHex(key.publicKey);
    const der = sm2Sign(key.privateKey, message);
    expect(sm.sm2.doVerifySignature(arr(message), toHex(der), pubHex, { der: true, hash: true })).toBe(true);
    const raw = ecdsaDerToRaw(der, 32)!;
    expect(sm.sm2.doVerifySignature(arr(message), toHex(raw), pubHex, { hash: true })).toBe(true);
    expect(
      sm.sm2.doVerifySignature(arr(message.slice(1)), toHex(der), pubHex, { der: true, hash: true }),
    ).toBe(false);
    // the same key pair through sm-crypto's own derivation
    expect(sm.sm2.doSignature(arr(message), toHex(key.privateKey), { der: true }).length).toBeGreaterThan(0);
  });

  it('with another user ID both ways: the signature verifies only under that ID', () => {
    const userId = 'ALICE123@YAHOO.COM';
    const { privateKey, publicKey } = sm.sm2.generateKeyPairHex();
    const theirs = fromHex(sm.sm2.doSignature(arr(message), privateKey, { der: true, hash: true, userId }));
    expect(sm2Verify(fromHex(publicKey), message, theirs, { id: userId })).toBe(true);
    expect(sm2Verify(fromHex(publicKey), message, theirs)).toBe(false);

    const key = createSm2Key();
    const ours = sm2Sign(key.privateKey, message, { id: userId });
    const pubHex = toHex(key.publicKey);
    expect(
      sm.sm2.doVerifySignature(arr(message), toHex(ours), pubHex, { der: true, hash: true, userId }),
    ).toBe(true);
    expect(
      sm.sm2.doVerifySignature(arr(message), toHex(ours), pubHex, {
        der: true,
        hash: true,
        userId: SM2_DEFAULT_ID,
      }),
    ).toBe(false);
  });

  it('the SM2 signature in a PDF signed by Sidian verifies in sm-crypto over the signed attributes', async () => {
    const signer = signerFromSm2(leaf.keyPkcs8, leaf.certDer, [ca.certDer]);
    const pdf = await signPdf(loadInput('classic-1.3'), { signer });
    const text = new TextDecoder('latin1').decode(pdf);
    const hex = /\/Contents\s*<([0-9A-Fa-f]+)>/.exec(text.slice(text.lastIndexOf('/ByteRange')))![1]!;
    const cms = parseCms(fromHex(hex.replace(/(00)+$/, '')));
    const si = cms.signerInfos[0]!;
    expect(si.signatureAlgorithm.oid).toBe(OID.sm2WithSm3);
    const pubHex = toHex(sm2PublicKey(sm2PrivateKeyFromDer(leaf.keyPkcs8)));
    expect(
      sm.sm2.doVerifySignature(arr(si.signedAttrs!), toHex(si.signature), pubHex, { der: true, hash: true }),
    ).toBe(true);
  });
});

describe('openssl dgst -sm3 with the SM2 ID and Sidian', () => {
  const data = new TextEncoder().encode('国密 openssl dgst 互通');

  it('Sidian signs, openssl dgst -sm3 -verify -sigopt distid:1234567812345678 accepts; without the ID (OpenSSL 3.0 uses the empty ID) it does not', () => {
    const d = sm2PrivateKeyFromDer(leaf.keyPkcs8);
    const dataFile = path.join(dir, 'dgst-data.bin');
    const sigFile = path.join(dir, 'dgst-sidian.sig');
    writeFileSync(dataFile, data);
    writeFileSync(sigFile, sm2Sign(d, data));
    const pub = path.join(dir, 'sm2-leaf.pub.pem');
    expect(openssl(['pkey', '-in', leaf.keyFile, '-pubout', '-out', pub]).status).toBe(0);
    const ok = openssl([
      'dgst',
      '-sm3',
      '-verify',
      pub,
      '-sigopt',
      SM2_DISTID,
      '-signature',
      sigFile,
      dataFile,
    ]);
    expect(ok.stdout, ok.stderr).toContain('Verified OK');
    const noId = openssl(['dgst', '-sm3', '-verify', pub, '-signature', sigFile, dataFile]);
    expect(noId.stdout).not.toContain('Verified OK');
  });

  it('openssl dgst -sm3 -sign -sigopt distid signs, Sidian verifies; the same over the empty ID is refused (another signer ID)', () => {
    const dataFile = path.join(dir, 'dgst-data2.bin');
    writeFileSync(dataFile, data);
    const pub = sm2PublicKey(sm2PrivateKeyFromDer(leaf.keyPkcs8));
    const sign = (extra: string[]) => {
      const out = path.join(dir, `dgst-ossl-${extra.length}.sig`);
      expect(openssl(['dgst', '-sm3', '-sign', leaf.keyFile, ...extra, '-out', out, dataFile]).status).toBe(
        0,
      );
      return new Uint8Array(spawnSync('cat', [out]).stdout);
    };
    expect(sm2Verify(pub, data, sign(['-sigopt', SM2_DISTID]))).toBe(true);
    const emptyId = sign([]);
    expect(sm2Verify(pub, data, emptyId)).toBe(false);
    expect(sm2Verify(pub, data, emptyId, { id: '' })).toBe(true);
  });
});

describe('openssl cms -verify and SM2 CMS (OpenSSL 3.0)', () => {
  it('OpenSSL 3.0 cannot make SM2 CMS, and verifies SM2 SignerInfos over Z with the empty ID: GM/T 0010 CMS (default ID) fails there, the signature itself verifies with the ID', () => {
    const content = new TextEncoder().encode('国密 CMS 互通');
    const contentFile = path.join(dir, 'cms-content.bin');
    writeFileSync(contentFile, content);
    // 1. openssl cms -sign with an SM2 key writes nothing (no SM2 signature algorithm in its CMS code)
    const made = path.join(dir, 'ossl-sm2.cms');
    const sign = openssl([
      'cms', '-sign', '-binary', '-in', contentFile, '-signer', leaf.certFile, '-inkey', leaf.keyFile,
      '-md', 'sm3', '-outform', 'DER', '-out', made,
    ]); // prettier-ignore
    expect(sign.status).not.toBe(0);
    expect(sign.stderr).toMatch(/illegal zero content|error/i);

    // 2. the same signed attributes, signed over Z with the default ID (what Sidian writes) and the empty ID
    const d = sm2PrivateKeyFromDer(leaf.keyPkcs8);
    const attrs = buildSignedAttributes({
      messageDigest: sm3(content),
      certificate: leaf.certDer,
      hash: 'SM3',
    });
    const signer = {
      certificate: leaf.certDer,
      chain: [ca.certDer],
      algorithm: 'SM2' as const,
      hash: 'SM3' as const,
    };
    const cmsVerify = (id: string, chain: 'CAfile' | 'noverify') => {
      const f = path.join(dir, `cms-${id || 'empty'}.der`);
      const cms = buildCmsSignedData({
        signer,
        signedAttributes: attrs,
        signature: sm2Sign(d, attrs, { id }),
      });
      writeFileSync(f, cms);
      return openssl([
        'cms', '-verify', '-binary', '-content', contentFile, '-inform', 'DER', '-in', f,
        ...(chain === 'CAfile' ? ['-CAfile', ca.certFile] : ['-noverify']), '-out', path.join(dir, 'cms-out.bin'),
      ]); // prettier-ignore
    };
    // with -CAfile the chain fails first: cms -verify has no -vfyopt, so the SM2 certificate signatures
    // (made with the default ID, as GM/T 0015 certificates are) are checked over the empty ID
    const chained = cmsVerify(SM2_DEFAULT_ID, 'CAfile');
    expect(chained.status).not.toBe(0);
    expect(chained.stderr).toMatch(/certificate signature failure/);
    // with -noverify (no chain), the SignerInfo signature over the default ID still fails
    const standard = cmsVerify(SM2_DEFAULT_ID, 'noverify');
    expect(standard.status).not.toBe(0);
    expect(standard.stderr).toMatch(/CMS_SignerInfo_verify:verification failure/);
    // accepted only with the empty ID: OpenSSL 3.0's CMS never sets an SM2 distid (and has no option to)
    const empty = cmsVerify('', 'noverify');
    expect(empty.status).toBe(0);
    expect(empty.stderr).toContain('CMS Verification successful');

    // 3. the SignerInfo signature of Sidian's CMS verifies with openssl pkeyutl and the SM2 ID
    const attrsFile = path.join(dir, 'cms-attrs.der');
    const sigFile = path.join(dir, 'cms-attrs.sig');
    writeFileSync(attrsFile, attrs);
    writeFileSync(sigFile, sm2Sign(d, attrs));
    const v = openssl([
      'pkeyutl', '-verify', '-certin', '-inkey', leaf.certFile, '-rawin', '-digest', 'sm3',
      '-pkeyopt', SM2_DISTID, '-in', attrsFile, '-sigfile', sigFile,
    ]); // prettier-ignore
    expect(v.stdout, v.stderr).toContain('Signature Verified Successfully');
  });
});

describe('bad SM2 input: typed errors and invalid verdicts with reasons', () => {
  it('a P-256 key given as SM2 is KEY_UNSUPPORTED; an SM2 key with a P-256 certificate is KEY_UNSUPPORTED', () => {
    const p256 = createCa(path.join(dir, 'p256'), { name: 'p256-ca', key: 'p-256' });
    const p256Leaf = issueCertificate(p256, { name: 'p256-leaf', key: 'p-256', subject: '/CN=P-256' });
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(isSidianError(e)).toBe(true);
        return (e as { code: string; message: string }).code;
      }
      return 'no error';
    };
    expect(codeOf(() => signerFromSm2(p256Leaf.keyPkcs8, leaf.certDer))).toBe('KEY_UNSUPPORTED');
    expect(codeOf(() => signerFromSm2(createSm2Key(), p256Leaf.certDer))).toBe('KEY_UNSUPPORTED');
    expect(codeOf(() => signerFromSm2(createSm2Key(), leaf.certDer))).toBe('KEY_UNSUPPORTED'); // another SM2 key
  });

  it('an SM2 signature over another signer ID in a PDF: integrity bad-signature, status invalid, with a reason', async () => {
    const d = sm2PrivateKeyFromDer(leaf.keyPkcs8);
    const honest = signerFromSm2(leaf.keyPkcs8, leaf.certDer, [ca.certDer]);
    const otherId: Signer = {
      ...honest,
      sign: async (attrs) => sm2Sign(d, attrs, { id: 'ALICE123@YAHOO.COM' }),
    };
    const pdf = await signPdf(loadInput('classic-1.3'), { signer: otherId });
    const report = await verifyPdf(pdf, { trustAnchors: [ca.certPem] });
    const sig = report.signatures[0]!;
    expect(sig.integrity).toBe('bad-signature');
    expect(sig.status).toBe('invalid');
    expect(report.status).toBe('invalid');
    expect(sig.reasons.join(' ')).toMatch(/signature/i);
    // the honest signer over the same input is valid (the baseline)
    const good = await verifyPdf(await signPdf(loadInput('classic-1.3'), { signer: honest }), {
      trustAnchors: [ca.certPem],
    });
    expect(good.signatures[0]!.integrity).toBe('ok');
  });
});
