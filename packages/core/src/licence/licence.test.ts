import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PdfDocument } from '../pdf/document';
import {
  embedLicence,
  isCreditCode,
  licenceProblems,
  licenceQrPayload,
  licenceValidity,
  makeLicenceIdentifier,
  mod3736CheckChar,
  mod3736Valid,
  parseLicenceIdentifier,
  parseLicenceQrPayload,
  readLicence,
} from './index';
import { ISSUER_CODE, minimalPdf, sampleLicence } from './licence.test-helpers';

describe('ISO 7064 MOD 37,36 and identifiers', () => {
  it('matches the published example', () => {
    // python-stdnum iso7064.mod_37_36 example
    expect(mod3736CheckChar('A12425GABC1234002')).toBe('M');
    expect(mod3736Valid('A12425GABC1234002M')).toBe(true);
    expect(mod3736Valid('A12425GABC1234002N')).toBe(false);
  });
  it('detects every single-character substitution and adjacent transposition', () => {
    const body = '12156300521110000MB0143028K114116810055987730001231';
    const check = mod3736CheckChar(body);
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    for (let i = 0; i < body.length; i++) {
      for (const c of alphabet) {
        if (c === body[i]) continue;
        expect(mod3736Valid(body.slice(0, i) + c + body.slice(i + 1) + check)).toBe(false);
      }
      if (i + 1 < body.length && body[i] !== body[i + 1]) {
        expect(mod3736Valid(body.slice(0, i) + body[i + 1] + body[i] + body.slice(i + 2) + check)).toBe(
          false,
        );
      }
    }
  });
  it('builds and parses licence identifiers', () => {
    const id = makeLicenceIdentifier({
      typeCode: '11100000MB0143028K',
      issuerCode: ISSUER_CODE,
      serial: '000123',
      version: 2,
    });
    expect(id).toMatch(/^1\.2\.156\.3005\.2\.11100000MB0143028K\.114116810055987734\.000123\.2\.[0-9A-Z]$/);
    expect(parseLicenceIdentifier(id)).toMatchObject({
      typeCode: '11100000MB0143028K',
      issuerCode: ISSUER_CODE,
      serial: '000123',
      version: '2',
    });
    const bad = id.slice(0, -1) + (id.endsWith('A') ? 'B' : 'A');
    expect(() => parseLicenceIdentifier(bad)).toThrow(/check character/);
    expect(() => parseLicenceIdentifier('1.2.156.3005.2.X.Y')).toThrow();
    expect(() =>
      makeLicenceIdentifier({ typeCode: 'a-b', issuerCode: ISSUER_CODE, serial: '1', version: 1 }),
    ).toThrow();
  });
  it('checks 统一社会信用代码', () => {
    expect(isCreditCode('91350100M000100Y43')).toBe(true);
    expect(isCreditCode('91350100M000100Y44')).toBe(false);
    expect(isCreditCode(ISSUER_CODE)).toBe(true);
  });
  it('QR payloads round-trip', () => {
    const id = sampleLicence().identifier;
    const url = licenceQrPayload('https://zw.example.gov.cn/', id);
    expect(url).toBe(`https://zw.example.gov.cn/v/${id}`);
    expect(parseLicenceQrPayload(url)).toEqual({ identifier: id, base: 'https://zw.example.gov.cn' });
    expect(() => parseLicenceQrPayload('https://x/v/nope')).toThrow();
  });
});

describe('licence.json', () => {
  it('a complete sample has no problems; gaps are listed', () => {
    expect(licenceProblems(sampleLicence())).toEqual([]);
    const p = licenceProblems({
      ...sampleLicence(),
      holder: { name: '', idType: '居民身份证', idNumber: '' },
      validUntil: 'soon',
    });
    expect(p.join('\n')).toMatch(/holder.name/);
    expect(p.join('\n')).toMatch(/validUntil/);
    expect(
      licenceProblems({
        ...sampleLicence(),
        issuer: { name: '别的局', creditCode: '91350100M000100Y43' },
      }).join(),
    ).toMatch(/issuer part/);
    expect(licenceProblems(null)).toHaveLength(1);
  });

  it('validity from dates', () => {
    const l = sampleLicence();
    expect(licenceValidity(l, new Date('2027-01-01'))).toBe('valid');
    expect(licenceValidity(l, new Date('2031-01-05'))).toBe('expired');
    expect(licenceValidity(l, new Date('2025-12-31'))).toBe('not-yet-valid');
    expect(licenceValidity({ ...l, validUntil: null }, new Date('2099-01-01'))).toBe('valid');
  });

  it('embeds as an incremental update and reads back', () => {
    const pdf = minimalPdf();
    const out = embedLicence(pdf, sampleLicence());
    expect(Buffer.from(out.subarray(0, pdf.length)).equals(Buffer.from(pdf))).toBe(true);
    expect(readLicence(out)).toEqual(sampleLicence());
    expect(readLicence(pdf)).toBeUndefined();
    // the earlier revision has none
    expect(readLicence(out, { revisionEnd: pdf.length })).toBeUndefined();
    const doc = PdfDocument.load(out);
    expect(doc.sections).toHaveLength(2);
    const cat = doc.latest.catalog();
    expect(doc.latest.array(cat.get('AF'))).toHaveLength(1);
  });

  it('replacing keeps other attachments and one licence.json', () => {
    const once = embedLicence(minimalPdf(), sampleLicence());
    const twice = embedLicence(once, sampleLicence({ number: 'JY2' }));
    expect(readLicence(twice)?.number).toBe('JY2');
    const doc = PdfDocument.load(twice);
    expect(doc.latest.array(doc.latest.catalog().get('AF'))).toHaveLength(1);
  });

  it('refuses incomplete metadata unless asked', () => {
    expect(() => embedLicence(minimalPdf(), { ...sampleLicence(), number: '' })).toThrow(/incomplete/);
    const out = embedLicence(minimalPdf(), { ...sampleLicence(), number: '' }, { allowIncomplete: true });
    expect(readLicence(out)?.number).toBe('');
  });

  it('qpdf accepts the result and sees the attachment', () => {
    let qpdf = true;
    try {
      execFileSync('qpdf', ['--version']);
    } catch {
      qpdf = false;
    }
    if (!qpdf) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'licence-'));
    const file = path.join(dir, 'l.pdf');
    fs.writeFileSync(file, embedLicence(minimalPdf(), sampleLicence()));
    execFileSync('qpdf', ['--check', file]);
    const list = execFileSync('qpdf', ['--list-attachments', file]).toString();
    expect(list).toContain('licence.json');
    const shown = execFileSync('qpdf', ['--show-attachment=licence.json', file]);
    expect(JSON.parse(shown.toString())).toEqual(sampleLicence());
    fs.rmSync(dir, { recursive: true });
  });
});
