/** Registers <licence-viewer>: `import '@sidian/elements/licence-viewer.js'`. */
import { LicenceViewer } from './licence-viewer';

export { LicenceViewer, decideVerdict, readLicenceInfo } from './licence-viewer';
export { configureVerifyWorker } from './verifier';
export type { LicenceVerdict, LicenceViewerState, LicenceInfo, RegistryStatus, VerifiedDetail } from './licence-viewer';

if (!customElements.get('licence-viewer')) customElements.define('licence-viewer', LicenceViewer);

declare global {
  interface HTMLElementTagNameMap {
    'licence-viewer': LicenceViewer;
  }
}
