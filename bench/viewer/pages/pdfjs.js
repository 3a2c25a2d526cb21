// pdf.js's own viewer components (pdfjs-dist/web/pdf_viewer.mjs, the same pdfjs-dist the elements
// bundle), set up as pdf.js's "simpleviewer" example does: open by URL (pdf.js's own streaming and
// range loading), fit page width, time to `pagerendered` for page 1.
import * as pdfjsLib from '/pdfjs-dist/build/pdf.min.mjs';

globalThis.pdfjsLib = pdfjsLib; // pdf_viewer.mjs reads pdf.js from here
const viewerModule = import('/pdfjs-dist/web/pdf_viewer.mjs');
pdfjsLib.GlobalWorkerOptions.workerSrc = '/pdfjs-dist/build/pdf.worker.min.mjs';

window.benchRun = async (url) => {
  const { EventBus, PDFLinkService, PDFViewer } = await viewerModule;
  const container = document.getElementById('viewerContainer');
  const eventBus = new EventBus();
  const linkService = new PDFLinkService({ eventBus });
  const viewer = new PDFViewer({ container, eventBus, linkService });
  linkService.setViewer(viewer);
  const result = {};
  let t0 = 0;
  const firstPage = new Promise((resolve) => {
    eventBus.on('pagerendered', (e) => {
      if (e.pageNumber !== 1 || result.firstPageMs !== undefined) return;
      result.firstPageMs = performance.now() - t0;
      const c = e.source.canvas ?? container.querySelector('.page[data-page-number="1"] canvas');
      result.canvas = c ? `${c.width}x${c.height}` : '?';
      resolve();
    });
  });
  eventBus.on('pagesinit', () => {
    viewer.currentScaleValue = 'page-width';
  });
  t0 = performance.now();
  const doc = await pdfjsLib.getDocument({
    url,
    cMapUrl: '/pdfjs-dist/cmaps/',
    cMapPacked: true,
    standardFontDataUrl: '/pdfjs-dist/standard_fonts/',
    wasmUrl: '/pdfjs-dist/wasm/',
    iccUrl: '/pdfjs-dist/iccs/',
    isEvalSupported: false,
    enableXfa: false,
  }).promise;
  result.documentMs = performance.now() - t0;
  viewer.setDocument(doc);
  linkService.setDocument(doc, null);
  await firstPage;
  return result;
};
