// The elements' Vue typings, generated from the Custom Elements Manifest (npm run build), so that
// templates know <licence-viewer>'s props and events.
import type {} from '../../../packages/elements/types/vue';
