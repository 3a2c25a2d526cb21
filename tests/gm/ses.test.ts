/**
 * GB/T 38540-2020 / GM/T 0031-2014 electronic seals (SESeal) and signatures (SES_Signature):
 * the ofdrw files (an independent Java implementation) read and verify; every signed field,
 * once altered, fails with its reason; seals Sidian makes verify, and untrusted, expired and
 * foreign-signer cases fail.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeSeal,
  makeSesSignature,
  parseSeal,
  parseSesSignature,
  verifySeal,
  verifySesSignature,
  type SealPicture,
} from '../../packages/core/src/gm/ses';
import { sm2Sign } from '../../packages/core/src/gm/sm2';
import { sm3 } from '../../packages/core/src/gm/sm3';
import { derOctetString, derOid, derSequence, tlv } from '../../packages/core/src/pki/der';
import { OID } from '../../packages/core/src/pki/oids';
import { parsePkcs12 } from '../../packages/core/src/pki/pkcs12';
import { sm2PrivateKeyFromDer } from '../../packages/core/src/gm/sm2';
import { signerFromSm2 } from '../../packages/core/src/signer/sm2';
import type { Signer } from '../../packages/core/src/signer/types';
import { GM_DIR } from '../fixtures/paths';
import {
  createCa,
  issueCertificate,
  makeTempDir,
  removeDir,
  type Ca,
  type Entity,
} from '../helpers/openssl-pki';
import { loadSealPng } from '../verify/generator';

const ofdrw = (name: string) => new Uint8Array(readFileSync(path.join(GM_DIR, 'ofdrw', name)));
/** Inside the ofdrw certificates' validity (2020-04-21 .. 2022-04-21). */
const IN_2021 = new Date('2021-01-01T00:00:00Z');
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];

let ofdrwRoot: Uint8Array;
let dir: string;
let ca: Ca;
let makerEntity: Entity;
let holderEntity: Entity;
let strangerEntity: Entity;
let maker: Signer;
let holder: Signer;
let stranger: Signer;
let picture: SealPicture;

beforeAll(async () => {
  // ROOT.p12's password is 123456 (777777 fails its MAC), see tests/gm/README.md
  ofdrwRoot = (await parsePkcs12(ofdrw('ROOT.p12'), '123456')).certificate;
  dir = makeTempDir('sidian-ses-');
  ca = createCa(dir, { name: 'sm2-ca', key: 'sm2', subject: '/C=CN/O=四电测试/CN=四电 SM2 根 CA' });
  makerEntity = issueCertificate(ca, {
    name: 'maker',
    key: 'sm2',
    subject: '/C=CN/O=四电测试/CN=四电制章者',
  });
  holderEntity = issueCertificate(ca, {
    name: 'holder',
    key: 'sm2',
    subject: '/C=CN/O=四电测试局/CN=四电测试局',
  });
  strangerEntity = issueCertificate(ca, {
    name: 'stranger',
    key: 'sm2',
    subject: '/C=CN/O=另一局/CN=另一局',
  });
  maker = signerFromSm2(makerEntity.keyPkcs8, makerEntity.certDer);
  holder = signerFromSm2(holderEntity.keyPkcs8, holderEntity.certDer);
  stranger = signerFromSm2(strangerEntity.keyPkcs8, strangerEntity.certDer);
  picture = { type: 'PNG', data: loadSealPng(), width: 42, height: 42 };
});

afterAll(() => {
  if (dir) removeDir(dir);
});

/** Replaces the `nth` occurrence of `from` (same length) in a copy of `bytes`. */
function replaceBytes(
  bytes: Uint8Array,
  from: Uint8Array | string,
  to: Uint8Array | string,
  nth = 0,
): Uint8Array {
  const f = typeof from === 'string' ? new TextEncoder().encode(from) : from;
  const t = typeof to === 'string' ? new TextEncoder().encode(to) : to;
  expect(t.length).toBe(f.length);
  let at = -1;
  for (let i = 0, seen = 0; i <= bytes.length - f.length; i++) {
    if (f.every((b, j) => bytes[i + j] === b) && seen++ === nth) {
      at = i;
      break;
    }
  }
  expect(at, `"${String(from)}" #${nth} not found`).toBeGreaterThanOrEqual(0);
  const out = bytes.slice();
  out.set(t, at);
  return out;
}

function flipAt(bytes: Uint8Array, offset: number): Uint8Array {
  const out = bytes.slice();
  out[offset] = out[offset]! ^ 0x01;
  return out;
}

const codes = (r: { problems: { code: string }[] }) => r.problems.map((p) => p.code);

describe('ofdrw seals (independent implementation)', () => {
  it('V1 (GM/T 0031-2014), V4 (GB/T 38540-2020) and V5 seals parse with their fields and PNG picture', () => {
    const v1 = parseSeal(ofdrw('UserV1.esl'));
    expect(v1).toMatchObject({
      format: 'GM/T 0031-2014',
      header: { id: 'ES', version: 1, vid: 'OFDR&WTest' },
      esID: '40C8CDD24DEF43388B86E62CCE1D6832',
      property: { type: 1, name: 'OFDRW测试用印章', certListType: 1 },
      picture: { type: 'PNG', width: 40, height: 40 },
    });
    expect(v1.property.validEnd.toISOString()).toBe('2022-04-22T02:18:07.000Z');
    const v4 = parseSeal(ofdrw('UserV4.esl'));
    expect(v4).toMatchObject({
      format: 'GB/T 38540-2020',
      header: { id: 'ES', version: 4, vid: 'OFDR&WTest' },
      esID: '51f044b76510434e9bc67a1185c2fba5',
      property: { type: 3, name: 'OFD R&W 测试用印章', certListType: 1 },
      picture: { type: 'PNG', width: 40, height: 40 },
    });
    expect(v4.property.validStart.toISOString()).toBe('2020-04-22T02:09:00.000Z');
    expect(v4.property.validEnd.toISOString()).toBe('2022-04-22T02:09:00.000Z');
    const v5 = parseSeal(ofdrw('UserV5_ts.esl'));
    expect(v5).toMatchObject({ header: { version: 5 }, property: { name: 'OFD R&W V5测试用印章' } });
    expect(v5.timeStamp).toBeInstanceOf(Uint8Array);
    for (const s of [v1, v4, v5]) {
      expect([...s.picture.data.subarray(0, 4)]).toEqual(PNG_MAGIC);
      expect(s.picture.data.length).toBe(15693);
      expect(s.property.certs).toHaveLength(1);
      expect(s.signatureAlgorithm).toBe(OID.sm2WithSm3);
    }
    // the holder listed in every seal is USER.p12's certificate
    expect(v4.property.certs[0]).toEqual(v1.property.certs[0]);
  });

  it('V1 and V4 seals verify in 2021: maker signature, validity and the maker chained to the ofdrw root', async () => {
    for (const name of ['UserV1.esl', 'UserV4.esl']) {
      const r = await verifySeal(ofdrw(name), { time: IN_2021, trustAnchors: [ofdrwRoot] });
      expect(r.problems, name).toEqual([]);
      expect(r).toMatchObject({ status: 'valid', trust: 'trusted' });
    }
  });

  it("V5 was made in 2026 after its certificates expired (2022): the maker's signature holds, but no time is inside both the seal's and the certificates' validity", async () => {
    const in2021 = await verifySeal(ofdrw('UserV5_ts.esl'), { time: IN_2021, trustAnchors: [ofdrwRoot] });
    expect(codes(in2021)).toEqual(['SES_SEAL_NOT_YET_VALID']);
    expect(in2021.trust).toBe('trusted');
    const in2027 = await verifySeal(ofdrw('UserV5_ts.esl'), {
      time: new Date('2027-01-01T00:00:00Z'),
      trustAnchors: [ofdrwRoot],
    });
    expect(codes(in2027)).toEqual(['SES_MAKER_UNTRUSTED']);
  });

  it('the V4 signature verifies (ofdrw signed a zero dataHash); the V5 one only fails on its 2026 signing time', async () => {
    const v4 = parseSesSignature(ofdrw('SignedValueV4.dat'));
    expect(v4).toMatchObject({
      format: 'GB/T 38540-2020',
      version: 4,
      propertyInfo: '/Doc_0/Signs/Sign_0/Signature.xml',
    });
    expect(v4.time?.toISOString()).toBe('2020-10-12T11:14:03.000Z');
    expect(v4.seal.esID).toBe('51f044b76510434e9bc67a1185c2fba5');
    const zero = new Uint8Array(32);
    const r4 = await verifySesSignature(v4, { dataHash: zero, trustAnchors: [ofdrwRoot], time: IN_2021 });
    expect(r4.problems).toEqual([]);
    expect(r4.status).toBe('valid');
    const r5 = await verifySesSignature(ofdrw('SignedValueV5.dat'), {
      dataHash: zero,
      trustAnchors: [ofdrwRoot],
      time: IN_2021,
    });
    expect(codes(r5)).toEqual(['SES_SIGNER_CERT_NOT_VALID']);
  });

  describe('altering any signed field of the V4 seal fails the maker signature', () => {
    const cases: [string, (b: Uint8Array) => Uint8Array][] = [
      ['name', (b) => replaceBytes(b, 'OFD R&W', 'OFD R&X')],
      ['validStart', (b) => replaceBytes(b, '20200422020900Z', '20190422020900Z', 1)],
      ['validEnd', (b) => replaceBytes(b, '20220422020900Z', '20320422020900Z')],
      [
        'type',
        (b) => replaceBytes(b, Uint8Array.of(0x02, 0x01, 0x03, 0x0c), Uint8Array.of(0x02, 0x01, 0x01, 0x0c)),
      ],
      ['picture', (b) => flipAt(b, 694 + 4 + 2000)],
      ['cert list', (b) => flipAt(b, 102 + 4 + 300)],
      ['esID', (b) => replaceBytes(b, '51f044b7', '51f044b8')],
    ];
    for (const [field, tamper] of cases) {
      it(field, async () => {
        const r = await verifySeal(tamper(ofdrw('UserV4.esl')), { time: IN_2021, trustAnchors: [ofdrwRoot] });
        expect(r.status).toBe('invalid');
        expect(codes(r)).toContain('SES_MAKER_SIGNATURE_INVALID');
      });
    }
    it('the V1 seal likewise (its name)', async () => {
      const r = await verifySeal(replaceBytes(ofdrw('UserV1.esl'), 'OFDRW', 'OFDRX'), {
        time: IN_2021,
        trustAnchors: [ofdrwRoot],
      });
      expect(codes(r)).toEqual(['SES_MAKER_SIGNATURE_INVALID']);
    });
  });

  describe('altering the V4 signature', () => {
    const zero = new Uint8Array(32);
    it('dataHash: the signer signature fails', async () => {
      // dataHash is BIT STRING 03 21 00 || 32 zero bytes, just before propertyInfo
      const sig = ofdrw('SignedValueV4.dat');
      const bad = flipAt(sig, 17039 + 3 + 5);
      const r = await verifySesSignature(bad, { dataHash: parseSesSignature(bad).dataHash, time: IN_2021 });
      expect(codes(r)).toContain('SES_SIGNATURE_INVALID');
    });
    it('timeInfo: the signer signature fails', async () => {
      const bad = replaceBytes(ofdrw('SignedValueV4.dat'), '20201012111403Z', '20201012111404Z');
      const r = await verifySesSignature(bad, { dataHash: zero, trustAnchors: [ofdrwRoot], time: IN_2021 });
      expect(codes(r)).toEqual(['SES_SIGNATURE_INVALID']);
    });
    it('propertyInfo: the signer signature fails', async () => {
      const bad = replaceBytes(ofdrw('SignedValueV4.dat'), 'Sign_0/Signature', 'Sign_1/Signature');
      const r = await verifySesSignature(bad, { dataHash: zero, trustAnchors: [ofdrwRoot], time: IN_2021 });
      expect(codes(r)).toEqual(['SES_SIGNATURE_INVALID']);
    });
    it('the seal inside it: the maker signature fails', async () => {
      const bad = replaceBytes(ofdrw('SignedValueV4.dat'), 'OFD R&W', 'OFD R&X');
      const r = await verifySesSignature(bad, { dataHash: zero, trustAnchors: [ofdrwRoot], time: IN_2021 });
      expect(codes(r)).toEqual(['SES_MAKER_SIGNATURE_INVALID', 'SES_SIGNATURE_INVALID']);
    });
    it('other data than the signed one: the data hash does not match', async () => {
      const r = await verifySesSignature(ofdrw('SignedValueV4.dat'), {
        data: ofdrw('Signature.xml'),
        trustAnchors: [ofdrwRoot],
        time: IN_2021,
      });
      expect(codes(r)).toEqual(['SES_DATA_HASH_MISMATCH']);
    });
    it('without data or hash the verdict stays indeterminate', async () => {
      const r = await verifySesSignature(ofdrw('SignedValueV4.dat'), {
        trustAnchors: [ofdrwRoot],
        time: IN_2021,
      });
      expect(r.status).toBe('indeterminate');
      expect(codes(r)).toEqual(['SES_DATA_NOT_CHECKED']);
    });
  });

  it('unreadable input is a typed SES_MALFORMED error naming the field', () => {
    const seal = ofdrw('UserV4.esl');
    expect(() => parseSeal(seal.subarray(0, 100))).toThrow(
      expect.objectContaining({ code: 'SES_MALFORMED' }),
    );
    expect(() => parseSeal(new Uint8Array([1, 2, 3]))).toThrow(
      expect.objectContaining({ code: 'SES_MALFORMED' }),
    );
    // header id "ES" -> "EX"
    expect(() => parseSeal(replaceBytes(seal, 'ES', 'EX'))).toThrow(/header\.id/);
    expect(() => parseSesSignature(ofdrw('UserV4.esl'))).toThrow(
      expect.objectContaining({ code: 'SES_MALFORMED' }),
    );
  });
});

describe('seals and signatures Sidian makes', () => {
  const day = 86_400_000;
  const make = (extra: Partial<Parameters<typeof makeSeal>[0]> = {}) =>
    makeSeal({
      maker,
      name: '四电测试局业务专用章',
      type: 3,
      holderCertificates: [holderEntity.certDer],
      picture,
      validStart: new Date(Date.now() - day),
      validEnd: new Date(Date.now() + 365 * day),
      ...extra,
    });

  it('a V4 seal round-trips: fields, picture, and it verifies as trusted against our SM2 root', async () => {
    const der = await make({ esID: 'SIDIAN-TEST-0001' });
    const seal = parseSeal(der);
    expect(seal).toMatchObject({
      format: 'GB/T 38540-2020',
      header: { id: 'ES', version: 4, vid: 'Sidian' },
      esID: 'SIDIAN-TEST-0001',
      property: { type: 3, name: '四电测试局业务专用章', certListType: 1, certs: [holderEntity.certDer] },
      picture: { type: 'PNG', width: 42, height: 42 },
    });
    expect(seal.picture.data).toEqual(picture.data);
    expect(seal.makerCertificate).toEqual(makerEntity.certDer);
    const r = await verifySeal(der, { trustAnchors: [ca.certPem] });
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({ status: 'valid', trust: 'trusted' });
  });

  it('a signature with it verifies against the signed data, and fails for other data', async () => {
    const seal = await make();
    const data = new TextEncoder().encode('申请材料 application form');
    const sig = await makeSesSignature({ seal, signer: holder, data, propertyInfo: 'form.pdf' });
    const ok = await verifySesSignature(sig, { data, trustAnchors: [ca.certPem] });
    expect(ok.problems).toEqual([]);
    expect(ok.status).toBe('valid');
    expect(parseSesSignature(sig).dataHash).toEqual(sm3(data));
    const other = await verifySesSignature(sig, {
      data: new TextEncoder().encode('x'),
      trustAnchors: [ca.certPem],
    });
    expect(codes(other)).toEqual(['SES_DATA_HASH_MISMATCH']);
  });

  it('certListType 2 (certificate digests) lists the holder by its SM3 digest', async () => {
    const seal = await make({ certListType: 2 });
    expect(parseSeal(seal).property.certDigests).toEqual([{ type: 'SM3', value: sm3(holderEntity.certDer) }]);
    const data = new Uint8Array([1, 2, 3]);
    const sig = await makeSesSignature({ seal, signer: holder, data, propertyInfo: 'p' });
    expect((await verifySesSignature(sig, { data, trustAnchors: [ca.certPem] })).status).toBe('valid');
  });

  it('a seal past its validity fails, and cannot be used to sign', async () => {
    const seal = await make({
      validStart: new Date(Date.now() - 10 * day),
      validEnd: new Date(Date.now() - day),
    });
    const r = await verifySeal(seal, { trustAnchors: [ca.certPem] });
    expect(r.status).toBe('invalid');
    expect(codes(r)).toEqual(['SES_SEAL_EXPIRED']);
    expect(r.problems[0]!.messageZh).toContain('印章已于');
    await expect(
      makeSesSignature({ seal, signer: holder, data: new Uint8Array(1), propertyInfo: 'p' }),
    ).rejects.toMatchObject({ code: 'SES_BAD_OPTIONS' });
  });

  it("a seal whose maker is not trusted is untrusted (a forger's own maker certificate)", async () => {
    const r = await verifySeal(await make(), { trustAnchors: [ofdrwRoot] });
    expect(r).toMatchObject({ status: 'invalid', trust: 'untrusted' });
    expect(codes(r)).toEqual(['SES_MAKER_UNTRUSTED']);
    // an attacker copies the ofdrw seal's data and signs it with a key of their own
    const forger = issueCertificate(createCa(dir, { name: 'forger-ca', key: 'sm2' }), {
      name: 'forger',
      key: 'sm2',
      subject: '/C=CN/O=OFD R&W/CN=Test Certificate',
    });
    const ofdrwSeal = parseSeal(ofdrw('UserV4.esl'));
    const forged = await makeSeal({
      maker: signerFromSm2(forger.keyPkcs8, forger.certDer),
      name: ofdrwSeal.property.name,
      type: ofdrwSeal.property.type,
      holderCertificates: ofdrwSeal.property.certs,
      picture: ofdrwSeal.picture,
      validStart: ofdrwSeal.property.validStart,
      validEnd: ofdrwSeal.property.validEnd,
      esID: ofdrwSeal.esID,
    });
    const f = await verifySeal(forged, { time: IN_2021, trustAnchors: [ofdrwRoot] });
    expect(f.trust).toBe('untrusted');
    expect(codes(f)).toContain('SES_MAKER_UNTRUSTED');
    // without anchors nothing is claimed
    const unknown = await verifySeal(await make(), {});
    expect(unknown).toMatchObject({ status: 'indeterminate', trust: 'unknown' });
  });

  it("a signer certificate not in the seal's list: refused when making, invalid when forged by hand", async () => {
    const seal = await make();
    await expect(
      makeSesSignature({ seal, signer: stranger, data: new Uint8Array(1), propertyInfo: 'p' }),
    ).rejects.toMatchObject({ code: 'SES_BAD_OPTIONS' });
    // the stranger builds the SES_Signature themselves (GB/T 38540 §8.1 layout) and signs it validly
    const data = new Uint8Array([9, 9, 9]);
    const now = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(/[-:T]|\.000/g, '');
    const tbs = derSequence(
      tlv(0x02, Uint8Array.of(4)),
      seal,
      tlv(0x18, new TextEncoder().encode(now)),
      tlv(0x03, Uint8Array.of(0), sm3(data)),
      tlv(0x16, new TextEncoder().encode('p')),
    );
    const key = sm2PrivateKeyFromDer(strangerEntity.keyPkcs8);
    const forged = derSequence(
      tbs,
      derOctetString(strangerEntity.certDer),
      derOid(OID.sm2WithSm3),
      tlv(0x03, Uint8Array.of(0), sm2Sign(key, tbs)),
    );
    const r = await verifySesSignature(forged, { data, trustAnchors: [ca.certPem] });
    expect(r.status).toBe('invalid');
    expect(codes(r)).toEqual(['SES_SIGNER_NOT_IN_SEAL']);
  });

  it('a revoked seal (as the registry reports it) fails', async () => {
    const seal = await make();
    const r = await verifySeal(seal, {
      trustAnchors: [ca.certPem],
      sealStatus: async () => ({ status: 'revoked', reason: '印章遗失', revokedAt: new Date() }),
    });
    expect(r).toMatchObject({ status: 'invalid', trust: 'revoked' });
    expect(codes(r)).toEqual(['SES_SEAL_REVOKED']);
  });

  it("a seal its maker's registry does not hold fails (unregistered); one it cannot speak for stays open (unknown)", async () => {
    const seal = await make();
    const unregistered = await verifySeal(seal, {
      trustAnchors: [ca.certPem],
      sealStatus: async () => ({ status: 'unregistered' }),
    });
    expect(unregistered).toMatchObject({ status: 'invalid', trust: 'untrusted' });
    expect(codes(unregistered)).toEqual(['SES_SEAL_UNREGISTERED']);
    expect(unregistered.problems[0]!.messageZh).toContain('印章登记');
    const unknown = await verifySeal(seal, {
      trustAnchors: [ca.certPem],
      sealStatus: async () => ({ status: 'unknown' }),
    });
    expect(unknown).toMatchObject({ status: 'indeterminate', trust: 'trusted' });
    expect(codes(unknown)).toEqual(['SES_SEAL_STATUS_UNKNOWN']);
  });

  it('a registry that does not know the seal, or cannot be asked, leaves it indeterminate, never valid', async () => {
    const seal = await make();
    for (const [status, code] of [
      ['unknown', 'SES_SEAL_STATUS_UNKNOWN'],
      ['unavailable', 'SES_SEAL_STATUS_UNAVAILABLE'],
    ] as const) {
      const r = await verifySeal(seal, { trustAnchors: [ca.certPem], sealStatus: async () => ({ status }) });
      expect(r).toMatchObject({ status: 'indeterminate', trust: 'trusted' });
      expect(codes(r)).toEqual([code]);
    }
  });

  it('bad making options are typed errors', async () => {
    await expect(make({ name: ' ' })).rejects.toMatchObject({ code: 'SES_BAD_OPTIONS' });
    await expect(make({ holderCertificates: [] })).rejects.toMatchObject({ code: 'SES_BAD_OPTIONS' });
    await expect(make({ holderCertificates: [new Uint8Array([1, 2])] })).rejects.toMatchObject({
      code: 'SES_BAD_OPTIONS',
    });
    await expect(make({ validEnd: new Date(0) })).rejects.toMatchObject({ code: 'SES_BAD_OPTIONS' });
    await expect(make({ picture: { ...picture, width: 0 } })).rejects.toMatchObject({
      code: 'SES_BAD_OPTIONS',
    });
    await expect(make({ maker: { ...maker, algorithm: 'ECDSA' } as Signer })).rejects.toMatchObject({
      code: 'SES_BAD_OPTIONS',
    });
  });
});
