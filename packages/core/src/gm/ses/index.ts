/** GB/T 38540-2020 electronic seals and signatures (安全电子签章密码技术规范). */
export {
  makeSeal,
  parseSeal,
  sealListsCertificate,
  SEAL_TYPES,
  type CertDigest,
  type ExtData,
  type MakeSealOptions,
  type SealPicture,
  type SealProperty,
  type SESeal,
  type SesFormat,
} from './seal';
export {
  makeSesSignature,
  parseSesSignature,
  type MakeSesSignatureOptions,
  type SesSignature,
} from './signature';
export {
  verifySeal,
  verifySesSignature,
  type SealStatus,
  type SealVerification,
  type SealVerifyOptions,
  type SesProblem,
  type SesProblemCode,
  type SesSignatureVerification,
  type SesSignatureVerifyOptions,
} from './verify';
export {
  OID_SES_SEAL_ATTRIBUTE,
  sealPdf,
  verifySealedPdf,
  type PdfSealReport,
  type SealedSignatureReport,
  type SealedVerificationReport,
  type SealPdfOptions,
} from './pdf';
