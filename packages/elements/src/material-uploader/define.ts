/** Registers <material-uploader>: `import '@sidian/elements/material-uploader.js'`. */
import { MaterialUploader } from './material-uploader';

export { MaterialUploader } from './material-uploader';
export type {
  MaterialRequirement,
  Material,
  MaterialState,
  MaterialValue,
  HolderLicence,
  LicenceReusedDetail,
  MaterialAddedDetail,
  MaterialRejectedDetail,
  UploadProgressDetail,
  MaterialUploadedDetail,
  AllUploadedDetail,
} from './material-uploader';
export { configureHashWorker, hashFile } from './hasher';
export { photosToPdf } from './photos';
export { sniffKind, acceptedKinds, type MaterialKind, type SniffedKind } from './sniff';

if (!customElements.get('material-uploader')) customElements.define('material-uploader', MaterialUploader);

declare global {
  interface HTMLElementTagNameMap {
    'material-uploader': MaterialUploader;
  }
}
