/** Shared pieces of the Sidian elements, for elements built on them (and for sites that configure pdf.js). */
export { SidianElement } from './base';
export { baseStyles } from './styles';
export { LocalizeController, resolveLocale, type Locale, type Strings, type Translations } from './localize';
export { FormAssociated, type FormAssociatedElement, type FormValidity, type FormValue } from './form-associated';
export {
  PdfViewController,
  configurePdf,
  loadPdfjs,
  MIN_ZOOM,
  MAX_ZOOM,
  type PdfAssets,
  type PageSize,
  type PdfViewLabels,
  type PdfViewOptions,
  type PdfViewState,
} from './pdf-view';
export { pdfViewStyles } from './pdf-view.styles';
export { pdfViewLabels } from './pdf-strings';
export { SidianElementError, errorCode, type ElementErrorCode } from './errors';
export { configureGlyphs, glyphRun, GlyphMissingError, type GlyphAssets, type Glyph, type GlyphRun } from './glyphs';
export { fetchBytes, sha256Hex, toFile, signedName } from './bytes';
