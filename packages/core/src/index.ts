/** @sidian/core — the engine: incremental PAdES signing and verification, for browsers and Node. */
export { SidianError, isSidianError, type SidianErrorCode } from './errors';
export type { Signer, SignatureAlgorithmName, HashName } from './signer/types';
export {
  signerFromCryptoKey,
  signerFromPkcs12,
  signerFromRemote,
  signerFromSm2,
  signerHash,
  createSm2Key,
  type Sm2KeyPair,
  Sm2KeyStore,
  type Sm2StoredKey,
} from './signer';
export { setSm3Engine, sm3, sm3EngineInUse, type Sm3Engine } from './gm/sm3';
export { sm2Sign, sm2Verify, sm2Z, sm2PublicKey, setSm2BasePointTable, SM2_DEFAULT_ID } from './gm/sm2';
export * from './gm/ses';
export { timestampPdf, timestampPdfUpdate, type TimestampOptions } from './sign/sign-pdf';
export { addValidationData, type ValidationData } from './sign/dss';
export { extendPdf, type ExtendOptions, type ExtendResult, type RevocationFetcher } from './sign/ltv';
export { parseOcspResponse, parseCrl, type UsedEvidence } from './pki/revocation';
export {
  signPdf,
  signPdfUpdate,
  DEFAULT_SEAL_SIZE,
  type SignOptions,
  type SealMode,
  type Rect,
  type SignatureUpdate,
  type PreparedField,
} from './sign/sign-pdf';
export {
  sealBatch,
  type BatchDocument,
  type BatchItemResult,
  type BatchProgress,
  type SealBatchOptions,
  type SealBatchResult,
  type SealedDocument,
  type SealRule,
} from './sign/batch';
export { PdfDocument, PdfView, type PageInfo } from './pdf/document';
export type { RandomAccessFile, PdfInput } from './pdf/source';
export { listFields, type FieldInfo } from './sign/fields';
export { fillForm, describeForm, type FieldValue, type FillOptions, type FormField } from './form/fill';
export { digestChunks, toBase64, toHex } from './digest';
export { verifyPdf, type VerificationReport, type SignatureReport, type VerifyOptions } from './verify';
export type { SignatureEvidence } from './verify/types';
export {
  verifyDetachedSignature,
  type DetachedContent,
  type DetachedVerifyOptions,
  type DetachedSignatureReport,
} from './verify/detached';
export {
  readLicence,
  licenceProblems,
  licenceValidity,
  isLicenceIdentifier,
  parseLicenceIdentifier,
  mod3736Valid,
  LICENCE_FILE_NAME,
  embedLicence,
  makeLicenceIdentifier,
  creditCodeCheckChar,
  isCreditCode,
  licenceQrPayload,
  parseLicenceQrPayload,
  LICENCE_STATUSES,
  LICENCE_WITHDRAWALS,
  isLicenceStatus,
  isLicenceWithdrawal,
  licenceStatusTerm,
  licenceStatusTerms,
  type LicenceStatus,
  type LicenceStatusLocale,
  type LicenceStatusTerm,
  type LicenceWithdrawal,
  type LicenceMetadata,
  type EmbedLicenceOptions,
  type HolderIdType,
} from './licence/index';
export {
  createCertificationRequest,
  createSm2CertificationRequest,
  certificationRequestPem,
  type CsrSubject,
} from './pki/csr';
export { createCadesSignature, parseCms, messageDigestOf, type CadesSignatureInput } from './cms/index';
export {
  validatePath,
  type ValidatePathOptions,
  type PathValidationResult,
  type PathPurpose,
  type PathProblem,
} from './pki/path';
