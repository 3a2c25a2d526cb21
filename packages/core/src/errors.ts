/**
 * Every failure that a caller can act on is a SidianError with a stable code.
 * Codes are mapped once to HTTP statuses (server) and exit codes (CLI).
 */
export type SidianErrorCode =
  // input PDFs
  | 'PDF_NOT_PDF'
  | 'PDF_TRUNCATED'
  | 'PDF_NO_XREF'
  | 'PDF_MALFORMED'
  | 'PDF_ENCRYPTED'
  | 'PDF_TOO_COMPLEX'
  // signing options
  | 'SIGN_PAGE_OUT_OF_RANGE'
  | 'SIGN_RECT_OUTSIDE_PAGE'
  | 'SIGN_BAD_IMAGE'
  | 'SIGN_FIELD_EXISTS'
  | 'SIGN_FIELD_NOT_FOUND'
  | 'SIGN_CONTENTS_TOO_SMALL'
  | 'SIGN_CERTIFY_NOT_FIRST'
  | 'SIGN_LOCKED'
  | 'SIGN_BAD_OPTIONS'
  // filling forms (fillForm)
  | 'FORM_FIELD_NOT_FOUND'
  | 'FORM_BAD_VALUE'
  | 'FORM_BAD_OPTION'
  | 'FORM_READ_ONLY'
  | 'FORM_LOCKED'
  | 'FORM_MISSING_GLYPHS'
  | 'FORM_BAD_FONT'
  // keys and certificates
  | 'P12_BAD_PASSWORD'
  | 'P12_MALFORMED'
  | 'P12_UNSUPPORTED'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'CERT_MALFORMED'
  | 'KEY_UNSUPPORTED'
  | 'KEY_NOT_FOUND'
  | 'KEY_EXISTS'
  | 'KEY_STORE_UNAVAILABLE'
  | 'SIGNER_FAILED'
  // CMS structures
  | 'CMS_MALFORMED'
  // GB/T 38540 electronic seals (SESeal) and signatures (SES_Signature)
  | 'SES_MALFORMED'
  | 'SES_BAD_OPTIONS'
  // timestamps
  | 'TSA_UNREACHABLE'
  | 'TSA_REJECTED'
  | 'TSA_BAD_RESPONSE'
  // licences (licence.json, identifiers)
  | 'LICENCE_MISSING'
  | 'LICENCE_INVALID'
  // verification
  | 'VERIFY_UNREADABLE'
  // long-term validation (B-LT / B-LTA)
  | 'LTV_NOTHING_TO_EXTEND'
  | 'REVOCATION_UNREACHABLE'
  | 'LIMIT_EXCEEDED';

export class SidianError extends Error {
  readonly code: SidianErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: SidianErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'SidianError';
    this.code = code;
    this.details = details;
  }
}

export function isSidianError(e: unknown): e is SidianError {
  return e instanceof SidianError;
}
