/**
 * PDF sealing with a GB/T 38540 seal: the PDF signature is an SM2 PAdES signature whose
 * appearance is the seal's picture, and the SESeal travels inside the CMS as a signed attribute
 * (so it is covered by the signer's SM2 signature and cannot be swapped without breaking it).
 *
 * Where the seal goes (our choice, documented here): GB/T 38540 defines the seal for OFD
 * (SignedValue.dat holds an SES_Signature) and says nothing of PDF. A signed CMS attribute keeps
 * PAdES intact — pdfsig, mutool and Acrobat see an ordinary CAdES-detached signature and ignore
 * the unknown attribute (RFC 5652 §5.3 allows any attribute) — and binds the seal to this
 * signature. Its type is `2.25.296073288705423063176921777908796262275` (a UUID OID, ITU-T X.667:
 * no registration needed), its one value the DER SESeal.
 */
import { findAttribute, findSignerCertificate, parseCms } from '../../cms/parse';
import { SidianError } from '../../errors';
import { derOctetString, parseDer, readOctetString } from '../../pki/der';
import { signPdf, type SignOptions } from '../../sign/sign-pdf';
import { verifyPdf } from '../../verify';
import { isRandomAccessFile, type PdfInput } from '../../pdf/source';
import type { SignatureReport, VerificationReport, VerifyOptions } from '../../verify/types';
import { parseSeal, sealListsCertificate, type SESeal } from './seal';
import { verifySeal, type SealVerifyOptions, type SesProblem } from './verify';

/** CMS signed attribute carrying a GB/T 38540 SESeal (DER, in an OCTET STRING). */
export const OID_SES_SEAL_ATTRIBUTE = '2.25.296073288705423063176921777908796262275';

export interface SealPdfOptions extends SignOptions {
  /** The GB/T 38540 seal (DER SESeal) whose holder the signer is. */
  seal: Uint8Array;
}

/**
 * Seals a PDF with a GB/T 38540 seal: SM2 signer listed in the seal, seal valid at the signing
 * time; the appearance is the seal's picture unless `image` is given. Throws SES_BAD_OPTIONS.
 */
export async function sealPdf(pdf: Uint8Array, options: SealPdfOptions): Promise<Uint8Array> {
  const { seal: der, ...rest } = options;
  const seal = parseSeal(der);
  if (options.signer?.algorithm !== 'SM2')
    throw new SidianError('SES_BAD_OPTIONS', 'a GB/T 38540 seal is used with an SM2 signer (GB/T 38540 §5)');
  if (!sealListsCertificate(seal, options.signer.certificate))
    throw new SidianError(
      'SES_BAD_OPTIONS',
      "the signer's certificate is not in the seal's certificate list",
    );
  const when = options.signingTime ?? new Date();
  if (when < seal.property.validStart || when > seal.property.validEnd)
    throw new SidianError('SES_BAD_OPTIONS', `the seal is not valid at ${when.toISOString()}`);
  const picture = seal.picture.type.toUpperCase();
  const image = options.image ?? (['PNG', 'JPG', 'JPEG'].includes(picture) ? seal.picture.data : undefined);
  if (!image)
    throw new SidianError(
      'SES_BAD_OPTIONS',
      `the seal's ${picture} picture cannot be drawn in a PDF: give image`,
    );
  return signPdf(pdf, {
    ...rest,
    image,
    extraSignedAttributes: [
      ...(options.extraSignedAttributes ?? []),
      { type: OID_SES_SEAL_ATTRIBUTE, values: [derOctetString(der)] },
    ],
  });
}

/** What a sealed PDF signature's report says of its GB/T 38540 seal. */
export interface PdfSealReport {
  esID: string;
  name: string;
  type: number;
  validStart: string;
  validEnd: string;
  status: 'valid' | 'invalid' | 'indeterminate';
  trust: 'trusted' | 'untrusted' | 'revoked' | 'unknown';
  problems: SesProblem[];
}

export type SealedSignatureReport = SignatureReport & { gbSeal?: PdfSealReport };
export interface SealedVerificationReport extends VerificationReport {
  signatures: SealedSignatureReport[];
}

/** The CMS in a signature's /Contents (the hex string between the byte ranges). */
function cmsOf(pdf: PdfInput, byteRange: number[] | undefined): Uint8Array | undefined {
  if (!byteRange || byteRange.length !== 4) return undefined;
  const [start, end] = [byteRange[1]! + 1, byteRange[2]! - 1];
  const size = isRandomAccessFile(pdf) ? pdf.size : pdf.length;
  if (!(start >= 0 && end > start && end <= size && end - start <= 64 * 1024 * 1024)) return undefined;
  let raw: Uint8Array;
  if (isRandomAccessFile(pdf)) {
    raw = new Uint8Array(end - start);
    pdf.readSync(raw, start);
  } else raw = pdf.subarray(start, end);
  const hex = new TextDecoder('latin1').decode(raw);
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2) return undefined;
  const bytes = Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
  // the DER value's own length (X.690 §8.1.3), without the zero padding after it
  if (bytes[0] !== 0x30 || bytes.length < 2) return undefined;
  const first = bytes[1]!;
  let length = first;
  let header = 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n < 1 || n > 4 || bytes.length < 2 + n) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + bytes[2 + i]!;
    header = 2 + n;
  }
  if (header + length > bytes.length) return undefined;
  return bytes.subarray(0, header + length);
}

/** The seal in a signature's CMS and the certificate that signed it (the one its sid names). */
function sealIn(pdf: PdfInput, sig: SignatureReport): { seal?: SESeal; signer?: Uint8Array; error?: string } {
  const der = cmsOf(pdf, sig.byteRange);
  if (!der) return {};
  let value: Uint8Array | undefined;
  let signer: Uint8Array | undefined;
  try {
    const cms = parseCms(der);
    const si = cms.signerInfos[0];
    if (!si) return {};
    value = findAttribute(si.signedAttributes, OID_SES_SEAL_ATTRIBUTE)?.[0];
    signer = findSignerCertificate(cms, si);
  } catch {
    return {};
  }
  if (!value) return {};
  try {
    return { seal: parseSeal(readOctetString(parseDer(value))), signer };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Options of the GB/T 38540 part of verifyPdf (VerifyOptions carries them). */
export interface GbSealVerifyOptions {
  /** Anchors for the seal makers' certificates; default the PDF signers' `trustAnchors`. */
  sealTrustAnchors?: SealVerifyOptions['trustAnchors'];
  /** The seal registry's status of a seal (revocation), e.g. the server's `GET /api/seals/:esID`. */
  sealStatus?: SealVerifyOptions['sealStatus'];
}

/**
 * Called by verifyPdf: for every signature that carries a GB/T 38540 seal, the seal verified
 * (maker's signature, validity at the signature's time-stamp or else the verification time, maker
 * trust, registry status) and the PDF signer in the seal's certificate list; the result goes to the
 * signature's `gbSeal`. A seal that fails makes its signature invalid (indeterminate when only its
 * trust is unknown), with the reasons. Reports without such a seal are left as they are.
 */
export async function addGbSealReports(
  pdf: PdfInput,
  report: VerificationReport,
  options: VerifyOptions & GbSealVerifyOptions,
): Promise<void> {
  let found = false;
  for (const sig of report.signatures as SealedSignatureReport[]) {
    if (sig.kind === 'document-timestamp') continue;
    const { seal, signer: signerDer, error } = sealIn(pdf, sig);
    if (error) {
      found = true;
      sig.status = 'invalid';
      sig.reasons.push(`the GB/T 38540 seal in the signature is unreadable: ${error}`);
      continue;
    }
    if (!seal) continue;
    found = true;
    // the seal's validity at a time the signature proves (its time-stamp), else at the
    // verification time: the claimed /M is the signer's own word and could be backdated
    const time = sig.timestampTime
      ? new Date(sig.timestampTime)
      : (options.at ?? options.validationTime ?? new Date());
    const r = await verifySeal(seal, {
      time,
      trustAnchors: options.sealTrustAnchors ?? options.trustAnchors,
      sealStatus: options.sealStatus,
    });
    const problems = [...r.problems];
    if (!signerDer || !sealListsCertificate(seal, signerDer))
      problems.push({
        code: 'SES_SIGNER_NOT_IN_SEAL',
        severity: 'invalid',
        message: "the PDF signer's certificate is not in the seal's certificate list",
        messageZh: 'PDF 签名者证书不在印章的签章者证书列表中',
      });
    const status = problems.some((p) => p.severity === 'invalid')
      ? 'invalid'
      : problems.length
        ? 'indeterminate'
        : 'valid';
    sig.gbSeal = {
      esID: seal.esID,
      name: seal.property.name,
      type: seal.property.type,
      validStart: seal.property.validStart.toISOString(),
      validEnd: seal.property.validEnd.toISOString(),
      status,
      trust: r.trust,
      problems,
    };
    for (const p of problems) sig.reasons.push(`${p.code}: ${p.message}`);
    if (status === 'invalid') sig.status = 'invalid';
    else if (status === 'indeterminate' && sig.status === 'valid') sig.status = 'indeterminate';
  }
  if (!found || report.status === 'unsigned') return;
  const statuses = report.signatures.map((s) => s.status);
  report.status = statuses.includes('invalid')
    ? 'invalid'
    : statuses.includes('indeterminate')
      ? 'indeterminate'
      : 'valid';
}

/** verifyPdf, typed with the seals' reports (verifyPdf itself adds them: addGbSealReports). */
export async function verifySealedPdf(
  pdf: PdfInput,
  options: VerifyOptions & GbSealVerifyOptions = {},
): Promise<SealedVerificationReport> {
  return (await verifyPdf(pdf, options)) as SealedVerificationReport;
}
