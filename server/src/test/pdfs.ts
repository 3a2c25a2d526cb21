/** Test documents: a minimal PDF, a licence.json, and sealed licences signed with the server's dev seal. */
import fs from 'node:fs';
import path from 'node:path';
import { signPdf, signerFromPkcs12 } from '@sidian/core';
import { minimalPdf, sampleLicence } from '../../../packages/core/src/licence/licence.test-helpers';
import { embedLicence, type LicenceMetadata } from '../../../packages/core/src/licence/index';

export { minimalPdf, sampleLicence };

export async function sealWith(
  dataDir: string,
  pdf: Uint8Array,
  o: { tsa?: string; certify?: 1 | 2 | 3 } = {},
): Promise<Uint8Array> {
  // one signer per data dir (PKCS#12 decryption is the slow part)
  const pki = path.join(dataDir, 'pki');
  const signer = await signerFromPkcs12(
    new Uint8Array(fs.readFileSync(path.join(pki, 'seal.p12'))),
    fs.readFileSync(path.join(pki, 'seal.p12.password'), 'utf8').trim(),
  );
  return signPdf(pdf, { signer, reason: '电子证照签发', location: '项城市', tsa: o.tsa, certify: o.certify });
}

/** A licence PDF with licence.json attached, then sealed by the dev department. */
export async function sealedLicence(
  dataDir: string,
  overrides: Partial<LicenceMetadata> = {},
  o: { tsa?: string } = {},
) {
  const licence = sampleLicence(overrides);
  const pdf = await sealWith(dataDir, embedLicence(minimalPdf(), licence), { ...o, certify: 2 });
  return { licence, pdf };
}

/** A one-page PDF with an extra (unreferenced from the page) stream of `size` random bytes: a large input to verify. */
export function bigPdf(size: number): Uint8Array {
  const head = '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n';
  const objs: (string | Uint8Array)[] = [];
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  let len = 0;
  const push = (s: string | Uint8Array) => {
    const b = typeof s === 'string' ? Uint8Array.from(s, (c) => c.charCodeAt(0)) : s;
    parts.push(b);
    len += b.length;
  };
  push(head);
  const filler = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(filler.subarray(i, Math.min(size, i + 65536)));
  const bodies: (() => void)[] = [
    () => push('<< /Type /Catalog /Pages 2 0 R /PieceInfo << /Sidian << /Private 5 0 R >> >> >>'),
    () => push('<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    () => push('<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>'),
    () => push('<< /Length 18 >>\nstream\nBT ET 0 0 m 1 1 l\nendstream'),
    () => {
      push(`<< /Length ${size} >>\nstream\n`);
      push(filler);
      push('\nendstream');
    },
  ];
  bodies.forEach((body, i) => {
    offsets.push(len);
    push(`${i + 1} 0 obj\n`);
    body();
    push('\nendobj\n');
  });
  void objs;
  const x = len;
  let t = `xref\n0 ${bodies.length + 1}\n0000000000 65535 f\r\n`;
  for (const o of offsets) t += `${String(o).padStart(10, '0')} 00000 n\r\n`;
  t += `trailer\n<< /Size ${bodies.length + 1} /Root 1 0 R >>\nstartxref\n${x}\n%%EOF\n`;
  push(t);
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
