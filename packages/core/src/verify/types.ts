import type { GbSealVerifyOptions, PdfSealReport } from '../gm/ses/pdf';
import type { UsedEvidence } from '../pki/revocation';

/** The verification report (DESIGN.md "The verification path"): the same JSON from core, CLI and server. */
export type Status = 'valid' | 'invalid' | 'indeterminate';

export interface SignerSummary {
  commonName: string | null;
  organization: string | null;
  serialNumber: string | null;
  issuer: string | null;
}

export interface SignatureReport {
  field: string;
  kind: 'approval' | 'certification' | 'document-timestamp';
  subFilter: string | null;
  /** Signature algorithm from the algorithm table: RSA-SHA256, ECDSA-SHA256, SM2-SM3, ... */
  algorithm?: string;
  level: 'B-B' | 'B-T' | 'B-LT' | 'B-LTA' | null;
  signer: SignerSummary | null;
  claimedTime: string | null;
  timestampTime: string | null;
  integrity: 'ok' | 'digest-mismatch' | 'bad-signature' | 'malformed';
  coverage: 'whole-document' | 'revision' | 'partial';
  modificationsAfter: 'none' | 'allowed' | 'disallowed';
  trust: 'trusted' | 'untrusted' | 'expired' | 'revoked' | 'unknown';
  status: Status;
  reasons: string[];
  /** DocMDP permission of a certification signature. */
  docMdp?: 1 | 2 | 3;
  /** Signed byte range as in the file. */
  byteRange?: number[];
  /** Where the signature's widgets are: 1-based page and user-space rectangle (for viewers' marks). */
  widgets?: { page: number; rect: [number, number, number, number] }[];
  /** DER certificates of the signer's chain as found (leaf first), base64. */
  chain?: string[];
  /**
   * The time the signer's chain was validated at: the verification time, or — for long-term
   * validation — the time of the time-stamp that proves the signature existed then.
   */
  validationTime?: string | null;
  /** What the trust verdict rests on (long-term validation, PAdES B-LT/B-LTA). */
  evidence?: SignatureEvidence;
  /** The GB/T 38540 seal the signature carries, with its verdict (gm/ses/pdf.ts). */
  gbSeal?: PdfSealReport;
}

/** The proof of existence, DSS and revocation data that a signature's trust verdict used. */
export interface SignatureEvidence {
  /** The time-stamp whose time the signature was validated at, or null when validated at the verification time. */
  timestamp: { kind: 'signature-timestamp' | 'document-timestamp'; field: string | null; time: string } | null;
  /**
   * The document security store consulted: the one covered by that document time-stamp, else the
   * newest one; with its entry counts (null when the document has none).
   */
  dss: { coveredBy: string | null; certs: number; crls: number; ocsps: number } | null;
  /** The CRL or OCSP response that gave each certificate's revocation status. */
  revocation: UsedEvidence[];
}

export interface VerificationReport {
  status: Status | 'unsigned';
  revisions: number;
  signatures: SignatureReport[];
}

export interface VerifyOptions extends GbSealVerifyOptions {
  /** Trust anchors: DER or PEM certificates. */
  trustAnchors?: (Uint8Array | string)[];
  /** CRLs: DER or PEM. */
  crls?: (Uint8Array | string)[];
  /** OCSP responses (DER), used beside the CRLs. */
  ocsps?: Uint8Array[];
  /**
   * The time of the verification (default now): certificates must be valid then, unless a
   * time-stamp that is itself valid then proves the signature existed earlier (B-T, B-LTA).
   */
  at?: Date;
  /** Older name of `at`. */
  validationTime?: Date;
  /** Time budget in milliseconds for the whole verification (default 10 000). */
  timeBudgetMs?: number;
  /**
   * Bytes that decoded streams and cross-reference tables may take in all (default: 16 times the
   * file's size, at least 32 MB, at most 512 MB; see DECODE_BUDGET).
   */
  decodeBudgetBytes?: number;
}
