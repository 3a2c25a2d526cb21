/** Registers <seal-placer>: `import '@sidian/elements/seal-placer.js'`. */
import { SealPlacer } from './seal-placer';

export { SealPlacer } from './seal-placer';
export type { SealPlacement, SealPlacerMode, SealPlacerState, PlacementChangeDetail, SealedDetail } from './seal-placer';

if (!customElements.get('seal-placer')) customElements.define('seal-placer', SealPlacer);

declare global {
  interface HTMLElementTagNameMap {
    'seal-placer': SealPlacer;
  }
}
