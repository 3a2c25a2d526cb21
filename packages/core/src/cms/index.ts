/** Public API of the CMS module (re-exported by @sidian/core). */
export {
  buildSignedAttributes,
  buildEssCertIdV2,
  encodeAttribute,
  encodeAttributeSet,
  type Attribute,
  type SignedAttributesInput,
} from './attributes';
export { buildCmsSignedData, effectiveHash, type CmsSignedDataInput } from './signed-data';
export { createCadesSignature, timestampSignature, type CadesSignatureInput } from './cades';
export {
  requestTimestamp,
  buildTimestampRequest,
  parseTimestampResponse,
  type TimestampTransport,
  type TimestampRequestOptions,
  type TimestampResponse,
  type TsaSource,
} from './tsa';
export {
  parseCms,
  parseTstInfo,
  parseTimestampToken,
  findAttribute,
  findSignerCertificate,
  messageDigestOf,
  signatureTimestampTokens,
  signingCertificateV2Of,
  type ParsedCms,
  type ParsedSignerInfo,
  type EssCertIdV2,
  type TstInfo,
} from './parse';
export { digestAlgorithmIdentifier, signatureAlgorithmIdentifier } from './algorithms';
