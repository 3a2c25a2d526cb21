/** What the demo loads lazily for issuing: the licence template and the draft pipeline. */
export { draftLicence } from './issue';
export {
  ACKNOWLEDGMENT_FIELD,
  BUSINESS_LICENCE_TYPE,
  FOOD_LICENCE_TYPE,
  SEAL_BOX,
  samplePdf,
} from './licence-template';
