/**
 * Demo material for the stories, made in the browser: a small multi-page PDF and a throw-away
 * seal certificate (self-signed, ECDSA P-256, key non-extractable in WebCrypto).
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { signerFromCryptoKey, type Signer } from '@sidian/core';

/** A plain PDF with `pages` A4 pages, each with a heading and a few lines (standard Helvetica). */
export function samplePdf(pages = 3, title = 'Sidian demo: decision letter'): Uint8Array {
  const objects: string[] = [];
  const add = (body: string) => objects.push(body) ;
  add('<< /Type /Catalog /Pages 2 0 R >>');
  const kids = Array.from({ length: pages }, (_, i) => `${4 + i * 2} 0 R`).join(' ');
  add(`<< /Type /Pages /Kids [${kids}] /Count ${pages} >>`);
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  for (let i = 0; i < pages; i++) {
    add(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] /Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + i * 2} 0 R >>`);
    const lines = [`BT /F1 22 Tf 60 760 Td (${title}) Tj ET`, `BT /F1 12 Tf 60 720 Td (Page ${i + 1} of ${pages}) Tj ET`];
    for (let l = 0; l < 12; l++) lines.push(`BT /F1 11 Tf 60 ${680 - l * 22} Td (Lorem ipsum dolor sit amet, line ${l + 1}.) Tj ET`);
    lines.push('0.6 G 60 120 m 535 120 l S');
    const stream = lines.join('\n');
    add(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
  }
  let out = '%PDF-1.7\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(out);
}

let demoSigner: Promise<Signer> | undefined;

/** A self-signed demo seal certificate with its key in WebCrypto (never leaves the page). */
export function demoSealSigner(): Promise<Signer> {
  demoSigner ??= (async () => {
    x509.cryptoProvider.set(crypto);
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await crypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as CryptoKeyPair;
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=Sidian Demo Department, O=Sidian Demo, C=CN',
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + 365 * 86400_000),
      keys,
      signingAlgorithm: alg,
      extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true)],
    });
    return signerFromCryptoKey(keys.privateKey, new Uint8Array(cert.rawData));
  })();
  return demoSigner;
}

/** A signer that never finishes: shows the "sealing"/"signing" state. */
export async function stalledSigner(): Promise<Signer> {
  const real = await demoSealSigner();
  return { certificate: real.certificate, chain: real.chain, sign: () => new Promise<Uint8Array>(() => undefined) } as Signer;
}
