/**
 * Errors of the elements' own preconditions (no document, no signer, …). Errors from the engine
 * (SidianError from @sidian/core: PDF_ENCRYPTED, SIGN_RECT_OUTSIDE_PAGE, …) pass through as they are;
 * both carry a stable `.code`.
 */
export type ElementErrorCode =
  /** No document: neither `src` nor `.document` given, or it could not be fetched. */
  | 'NO_DOCUMENT'
  /** The document could not be fetched from `src`. */
  | 'FETCH_FAILED'
  /** `.signer` is not set (or is not a Signer). */
  | 'NO_SIGNER'
  /** No seal image: neither `seal` nor `.sealImage`. */
  | 'NO_SEAL_IMAGE'
  /** No placement yet: the seal has not been put on the document. */
  | 'NO_PLACEMENT'
  /** A placement lies (partly) outside its page, or names a page the document does not have. */
  | 'PLACEMENT_OFF_PAGE'
  /** Nothing drawn or typed. */
  | 'SIGNATURE_EMPTY'
  /** A drawing too small or too short to be a signature. */
  | 'SIGNATURE_TOO_SIMPLE'
  /** A signing act is already running. */
  | 'BUSY'
  /** The element is disabled. */
  | 'DISABLED'
  /** The trust anchors could not be fetched from `trust`. */
  | 'TRUST_FETCH_FAILED'
  /** No server endpoint: the `endpoint` attribute is not set. */
  | 'NO_ENDPOINT'
  /** An upload failed after its retries (network, server refusal). */
  | 'UPLOAD_FAILED'
  /** The server's SHA-256 of an upload differs from the one computed in the browser. */
  | 'HASH_MISMATCH'
  /** The server refused the applicant's signature over a material: it does not verify over the stored bytes. */
  | 'SIGNATURE_REFUSED'
  /** Required materials are missing. */
  | 'MATERIALS_MISSING'
  /** The document is already sealed by this element; `reset()` (or a new document) prepares another seal. */
  | 'ALREADY_SEALED'
  /** The document is already signed by this element; `reset()` (or a new document) allows signing again. */
  | 'ALREADY_SIGNED'
  /** Text to draw (a seal's name, a typed signature) has characters the bundled font cannot draw; the message names them. */
  | 'GLYPH_MISSING'
  /** The signer's holder declined the batch at its one confirmation (批量签署). */
  | 'BATCH_DECLINED'
  /** A GB/T 38540 seal is set and the signer is not SM2 or its certificate is not in the seal's certificate list. */
  | 'SEAL_SIGNER_NOT_LISTED';

export class SidianElementError extends Error {
  readonly code: ElementErrorCode;
  constructor(code: ElementErrorCode, message: string) {
    super(message);
    this.name = 'SidianElementError';
    this.code = code;
  }
}

/** The `.code` of any error (ours or the engine's), else "UNKNOWN". */
export function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}
