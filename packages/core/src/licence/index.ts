/** Licence metadata (licence.json), identifiers and their check characters. */
export {
  LICENCE_FILE_NAME,
  assertLicenceComplete,
  embedLicence,
  licenceProblems,
  licenceValidity,
  readLicence,
  type EmbedLicenceOptions,
  type HolderIdType,
  type LicenceMetadata,
  type ReadLicenceOptions,
} from './licence';
export {
  LICENCE_ID_PREFIX,
  creditCodeCheckChar,
  isCreditCode,
  isLicenceIdentifier,
  makeLicenceIdentifier,
  mod3736CheckChar,
  mod3736Valid,
  parseLicenceIdentifier,
  type LicenceIdentifierParts,
} from './identifier';
export { licenceQrPayload, parseLicenceQrPayload } from './qr';
export {
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
} from './status';
