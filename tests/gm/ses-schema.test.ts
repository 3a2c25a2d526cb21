/**
 * The SESeal and SES_Signature Sidian makes follow GB/T 38540-2020 §7.1 and §8.1 (ASN.1 in
 * packages/core/src/gm/ses/ses.asn1): checked by an asn1js schema written here from that ASN.1,
 * independently of the reader in core, and by `openssl asn1parse` (the sequence of tags).
 * The same schema accepts ofdrw's V4 files, which shows the schema matches another implementation.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as asn1js from 'asn1js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSeal, makeSesSignature } from '../../packages/core/src/gm/ses';
import { signerFromSm2 } from '../../packages/core/src/signer/sm2';
import { GM_DIR } from '../fixtures/paths';
import { createCa, issueCertificate, makeTempDir, removeDir } from '../helpers/openssl-pki';
import { loadSealPng } from '../verify/generator';

// ---- GB/T 38540-2020 ASN.1 as asn1js schemas (names are the standard's field names) ----
const { Sequence, Repeated, Choice, Constructed } = asn1js;
const IA5 = (name: string) => new asn1js.IA5String({ name });
const INT = (name: string) => new asn1js.Integer({ name });
const OCT = (name: string) => new asn1js.OctetString({ name });
const BIT = (name: string) => new asn1js.BitString({ name });
const OID = (name: string) => new asn1js.ObjectIdentifier({ name });
const GTIME = (name: string) => new asn1js.GeneralizedTime({ name });

const SES_Header = () => new Sequence({ name: 'header', value: [IA5('id'), INT('version'), IA5('vid')] });
const CertDigestObj = () =>
  new Sequence({ value: [new asn1js.PrintableString({ name: 'digestType' }), OCT('digestValue')] });
const SES_CertList = () =>
  new Choice({
    value: [
      new Sequence({ name: 'certs', value: [new Repeated({ value: OCT('cert') })] }),
      new Sequence({ name: 'certDigestList', value: [new Repeated({ value: CertDigestObj() })] }),
    ],
  });
const SES_ESPropertyInfo = () =>
  new Sequence({
    name: 'property',
    value: [
      INT('type'),
      new asn1js.Utf8String({ name: 'name' }),
      INT('certListType'),
      SES_CertList(),
      GTIME('createDate'),
      GTIME('validStart'),
      GTIME('validEnd'),
    ],
  });
const SES_ESPictrueInfo = () =>
  new Sequence({ name: 'picture', value: [IA5('pictureType'), OCT('data'), INT('width'), INT('height')] });
const ExtensionDatas = () =>
  new Sequence({
    name: 'extDatas',
    optional: true,
    value: [
      new Repeated({
        value: new Sequence({
          value: [OID('extnID'), new asn1js.Boolean({ optional: true }), OCT('extnValue')],
        }),
      }),
    ],
  });
const SES_SealInfo = () =>
  new Sequence({
    name: 'eSealInfo',
    value: [SES_Header(), IA5('esID'), SES_ESPropertyInfo(), SES_ESPictrueInfo(), ExtensionDatas()],
  });
const SESeal = (name = 'seal') =>
  new Sequence({ name, value: [SES_SealInfo(), OCT('cert'), OID('signAlgID'), BIT('signedValue')] });
const TBS_Sign = () =>
  new Sequence({
    name: 'toSign',
    value: [
      INT('tbsVersion'),
      SESeal('eseal'),
      GTIME('timeInfo'),
      BIT('dataHash'),
      IA5('propertyInfo'),
      ExtensionDatas(),
    ],
  });
const SES_Signature = () =>
  new Sequence({
    value: [
      TBS_Sign(),
      OCT('signerCert'),
      OID('signatureAlgID'),
      BIT('signature'),
      new Constructed({ optional: true, idBlock: { tagClass: 3, tagNumber: 0 }, value: [BIT('timeStamp')] }),
    ],
  });

function check(der: Uint8Array, schema: asn1js.AsnType) {
  const ab = der.slice().buffer;
  const res = asn1js.verifySchema(ab, schema);
  expect(res.verified, res.verified ? '' : JSON.stringify((res.result as { error?: string }).error)).toBe(
    true,
  );
  return res.result as unknown as Record<string, asn1js.AsnType>;
}

const TAGS_SEAL = [
  'SEQUENCE', // SESeal
  'SEQUENCE', // eSealInfo
  'SEQUENCE', // header
  'IA5STRING',
  'INTEGER',
  'IA5STRING',
  'IA5STRING', // esID
  'SEQUENCE', // property
  'INTEGER',
  'UTF8STRING',
  'INTEGER', // certListType
  'SEQUENCE', // certList
  'OCTET STRING',
  'GENERALIZEDTIME',
  'GENERALIZEDTIME',
  'GENERALIZEDTIME',
  'SEQUENCE', // picture
  'IA5STRING',
  'OCTET STRING',
  'INTEGER',
  'INTEGER',
  'OCTET STRING', // cert
  'OBJECT',
  'BIT STRING',
];

/** The tags of `openssl asn1parse -inform DER` in order (OCTET STRING contents not descended into). */
function opensslTags(file: string): string[] {
  const r = spawnSync('openssl', ['asn1parse', '-inform', 'DER', '-in', file], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).not.toMatch(/error/i);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => /(?:prim|cons):\s+(.+?)\s*(?::|$)/.exec(l)![1]!.replace(/\s*\[HEX DUMP\]/, ''));
}

let dir: string;
let seal: Uint8Array;
let signature: Uint8Array;

beforeAll(async () => {
  dir = makeTempDir('sidian-ses-schema-');
  const ca = createCa(dir, { name: 'ca', key: 'sm2' });
  const maker = issueCertificate(ca, { name: 'maker', key: 'sm2', subject: '/C=CN/CN=制章者' });
  const holder = issueCertificate(ca, { name: 'holder', key: 'sm2', subject: '/C=CN/CN=持章单位' });
  seal = await makeSeal({
    maker: signerFromSm2(maker.keyPkcs8, maker.certDer),
    name: '四电测试章',
    type: 1,
    holderCertificates: [holder.certDer],
    picture: { type: 'PNG', data: loadSealPng(), width: 40, height: 40 },
    validStart: new Date(Date.now() - 1000),
    validEnd: new Date(Date.now() + 86_400_000),
  });
  signature = await makeSesSignature({
    seal,
    signer: signerFromSm2(holder.keyPkcs8, holder.certDer),
    data: new Uint8Array([1, 2, 3]),
    propertyInfo: 'doc.pdf',
  });
});

afterAll(() => {
  if (dir) removeDir(dir);
});

describe('GB/T 38540-2020 structure of what Sidian makes', () => {
  it('SESeal decodes with the schema from the standard, fields in place', () => {
    const r = check(seal, SESeal());
    expect((r.id as asn1js.IA5String).getValue()).toBe('ES');
    expect((r.version as asn1js.Integer).valueBlock.valueDec).toBe(4);
    expect((r.name as asn1js.Utf8String).getValue()).toBe('四电测试章');
    expect((r.certListType as asn1js.Integer).valueBlock.valueDec).toBe(1);
    expect((r.signAlgID as asn1js.ObjectIdentifier).getValue()).toBe('1.2.156.10197.1.501');
    expect((r.pictureType as asn1js.IA5String).getValue()).toBe('PNG');
  });

  it('SES_Signature decodes with the schema, version 4 and SM2-with-SM3', () => {
    const r = check(signature, SES_Signature());
    expect((r.tbsVersion as asn1js.Integer).valueBlock.valueDec).toBe(4);
    expect((r.propertyInfo as asn1js.IA5String).getValue()).toBe('doc.pdf');
    expect((r.signatureAlgID as asn1js.ObjectIdentifier).getValue()).toBe('1.2.156.10197.1.501');
    expect(new Uint8Array((r.dataHash as asn1js.BitString).valueBlock.valueHexView)).toHaveLength(32);
  });

  it("the schema accepts ofdrw's V4 seal and signature and rejects the V1 (GM/T 0031) seal", () => {
    check(new Uint8Array(readFileSync(path.join(GM_DIR, 'ofdrw', 'UserV4.esl'))), SESeal());
    check(new Uint8Array(readFileSync(path.join(GM_DIR, 'ofdrw', 'SignedValueV4.dat'))), SES_Signature());
    const v1 = new Uint8Array(readFileSync(path.join(GM_DIR, 'ofdrw', 'UserV1.esl')));
    expect(asn1js.verifySchema(v1.slice().buffer, SESeal()).verified).toBe(false);
  });

  it('openssl asn1parse reads both, with the tags of §7.1 and §8.1 in order', () => {
    const sealFile = path.join(dir, 'seal.esl');
    const sigFile = path.join(dir, 'signature.dat');
    writeFileSync(sealFile, seal);
    writeFileSync(sigFile, signature);
    expect(opensslTags(sealFile)).toEqual(TAGS_SEAL);
    expect(opensslTags(sigFile)).toEqual([
      'SEQUENCE', // SES_Signature
      'SEQUENCE', // toSign
      'INTEGER', // version
      ...TAGS_SEAL, // eseal
      'GENERALIZEDTIME', // timeInfo
      'BIT STRING', // dataHash
      'IA5STRING', // propertyInfo
      'OCTET STRING', // cert
      'OBJECT', // signatureAlgID
      'BIT STRING', // signature
    ]);
  });
});
