/**
 * @sidian/elements: every element class (registered under its default tag by importing this
 * module) and the shared pieces. Each element is also importable alone:
 * `@sidian/elements/seal-placer.js`, `@sidian/elements/signature-pad.js`,
 * `@sidian/elements/licence-viewer.js`, `@sidian/elements/material-uploader.js`; auto fill
 * (`prefill`, `fetchPrefill`, `<sidian-fill-source>`) from `@sidian/elements/prefill.js`.
 */
export * from './shared/index';
export * from './seal-placer/define';
export { sealSvg, sealPng, type SealImageOptions } from './seal-placer/seal-image';
export * from './signature-pad/define';
export * from './licence-viewer/define';
export * from './material-uploader/define';
export * from './prefill/define';
