/** Registers <signature-pad>: `import '@sidian/elements/signature-pad.js'`. */
import { SignaturePad } from './signature-pad';

export { SignaturePad } from './signature-pad';
export type { SignaturePadMode, SignaturePlacement, SignedDetail, PngOptions } from './signature-pad';
export type { InkStroke, InkPoint } from './ink';

if (!customElements.get('signature-pad')) customElements.define('signature-pad', SignaturePad);

declare global {
  interface HTMLElementTagNameMap {
    'signature-pad': SignaturePad;
  }
}
