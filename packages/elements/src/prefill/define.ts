/** Auto fill (自动数据填充): `import { prefill, fetchPrefill } from '@sidian/elements/prefill.js'`; registers <sidian-fill-source>. */
export { SidianFillSource } from './fill-source';
export {
  prefill,
  fetchPrefill,
  licencePrefill,
  mergePrefill,
  isEdited,
  PrefillError,
  type PrefillData,
  type PrefillSource,
  type PrefillOptions,
  type PrefillResult,
  type FilledInput,
  type LicenceRecord,
} from './prefill';
