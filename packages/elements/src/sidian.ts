/**
 * The bundle served at `/elements/sidian.js` (built by vite.config.ts): one ES module that
 * registers all four elements under their default tags and re-exports the core API, so a
 * department's page needs one `<script type="module">` and no build step:
 *
 * ```html
 * <script type="module" src="https://sidian.example.gov.cn/elements/sidian.js"></script>
 * <seal-placer src="/draft.pdf" seal="/seal.png" certify="2"></seal-placer>
 * ```
 *
 * pdf.js stays out of this file: it is a separate chunk imported when a document is first shown,
 * and its worker and data files are read from `./pdfjs/` next to this module (configurePdf()).
 */
export * from '@sidian/core';
export * from './index';
