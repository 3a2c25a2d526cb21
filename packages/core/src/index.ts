/** @sidian/core — the engine: incremental PAdES signing and verification, for browsers and Node. */
export { SidianError, isSidianError, type SidianErrorCode } from './errors';
export type { Signer, SignatureAlgorithmName, HashName } from './signer/types';
export { signerFromCryptoKey, signerFromPkcs12, signerFromRemote } from './signer';
export { signPdf, signPdfUpdate, DEFAULT_SEAL_SIZE, type SignOptions, type SealMode, type Rect, type SignatureUpdate } from './sign/sign-pdf';
export { PdfDocument, PdfView, type PageInfo } from './pdf/document';
export { listFields, type FieldInfo } from './sign/fields';
export { digestChunks, toHex } from './digest';
export { verifyPdf, type VerificationReport, type SignatureReport, type VerifyOptions } from './verify';
