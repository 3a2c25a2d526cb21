import { css } from 'lit';

/** Styles for PdfViewController's markup; the host sets the viewport height. */
export const pdfViewStyles = css`
  .pdf-scroller {
    position: relative;
    overflow: auto;
    scrollbar-gutter: stable;
    height: var(--sidian-viewer-height, 70vh);
    padding: 12px;
    background: var(--_backdrop);
    border-radius: var(--_radius);
  }
  .pdf-page {
    position: relative;
    margin: 0 auto 12px;
    background: #fff;
    box-shadow: var(--sidian-page-shadow, 0 1px 4px rgba(0, 0, 0, 0.25));
  }
  .pdf-canvas {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
  }
  .pdf-controls {
    display: inline-flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 4px;
  }
  .pdf-page-entry input {
    width: 4.5em;
    margin: 0 4px;
  }
  .pdf-zoom {
    min-width: 5em;
    text-align: center;
  }
`;
