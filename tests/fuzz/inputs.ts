/**
 * Small signed PDFs for mutation fuzzing: Sidian's own output over a classic xref table, a
 * cross-reference stream file, a file signed twice, a certified form, and a B-LTA file (signature
 * timestamp, DSS, document timestamp) when a TSA is given. Kept small (2-4 KB reservations,
 * invisible signatures) so thousands of cases run in seconds.
 */
import { signPdf } from '../../packages/core/src/sign/sign-pdf';
import { addDocumentTimestamp, addDss, loadInput, type TestPki, type Tsa } from '../verify/generator';
import { signedRanges, type FuzzInput } from './mutate';

export async function buildFuzzInputs(
  pki: TestPki,
  anchors: (string | Uint8Array)[],
  tsa?: Tsa,
): Promise<FuzzInput[]> {
  const signer = pki.signer;
  const classic = await signPdf(loadInput('classic-1.3'), { signer, contentsSize: 2048 });
  const raw: { name: string; pdf: Uint8Array }[] = [
    { name: 'classic', pdf: classic },
    { name: 'xref-stream', pdf: await signPdf(loadInput('objstm-1.5'), { signer, contentsSize: 2048 }) },
    { name: 'signed-twice', pdf: await signPdf(classic, { signer, contentsSize: 2048 }) },
    {
      name: 'certified-form',
      pdf: await signPdf(loadInput('acroform'), {
        signer,
        field: 'applicant-signature',
        certify: 2,
        contentsSize: 2048,
      }),
    },
  ];
  if (tsa) {
    const bt = await signPdf(loadInput('classic-1.3'), { signer, tsa, contentsSize: 4096 });
    raw.push({
      name: 'b-lta',
      pdf: await addDocumentTimestamp(addDss(bt, { certs: [pki.leaf.certDer, pki.ca.certDer] }), tsa),
    });
  }
  const out: FuzzInput[] = [];
  for (const r of raw) out.push({ ...r, signed: await signedRanges(r.pdf, anchors) });
  return out;
}
