/** Test helpers shared by core and server tests: a hand-written PDF and a complete licence.json. */
import { creditCodeCheckChar, makeLicenceIdentifier, type LicenceMetadata } from './index';

/** A one-page PDF with a classic xref table, written by hand. */
export function minimalPdf(extraCatalog = ''): Uint8Array {
  const objs = [
    `<< /Type /Catalog /Pages 2 0 R ${extraCatalog}>>`,
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>',
    '<< /Length 18 >>\nstream\nBT ET 0 0 m 1 1 l\nendstream',
  ];
  let s = '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objs.forEach((o, i) => {
    offsets.push(s.length);
    s += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const x = s.length;
  s += `xref\n0 ${objs.length + 1}\n0000000000 65535 f\r\n`;
  for (const o of offsets) s += `${String(o).padStart(10, '0')} 00000 n\r\n`;
  s += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${x}\n%%EOF\n`;
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

export const ISSUER_CODE = '11411681005598773' + creditCodeCheckChar('11411681005598773');

export function sampleLicence(overrides: Partial<LicenceMetadata> = {}): LicenceMetadata {
  return {
    version: 1,
    typeName: '食品经营许可证',
    typeCode: '11100000MB0143028K',
    number: 'JY14116810012345',
    identifier: makeLicenceIdentifier({
      typeCode: '11100000MB0143028K',
      issuerCode: ISSUER_CODE,
      serial: '000123',
      version: 1,
    }),
    holder: {
      name: '项城市示例餐饮有限公司',
      idType: '统一社会信用代码',
      idNumber: '91411681MA00000001'.slice(0, 17) + creditCodeCheckChar('91411681MA0000000'),
    },
    issuer: { name: '项城市市场监督管理局', creditCode: ISSUER_CODE },
    issueDate: '2026-01-05',
    validFrom: '2026-01-05',
    validUntil: '2031-01-04',
    data: { 经营场所: '项城市莲花大道 1 号', 主体业态: '餐饮服务经营者' },
    ...overrides,
  };
}
