/** Strings of the pdf page view's controls (shared by every element showing a document). */
import type { PdfViewLabels } from './pdf-view';
import type { Locale } from './localize';

export const pdfViewLabels: Record<Locale, PdfViewLabels> = {
  'zh-CN': {
    previous: '上一页',
    next: '下一页',
    page: '第',
    of: (n) => `页，共 ${n} 页`,
    zoomIn: '放大',
    zoomOut: '缩小',
    fitWidth: '适合宽度',
    zoom: (p) => `缩放 ${p}%`,
    pages: '文档页面',
  },
  en: {
    previous: 'Previous page',
    next: 'Next page',
    page: 'Page',
    of: (n) => `of ${n}`,
    zoomIn: 'Zoom in',
    zoomOut: 'Zoom out',
    fitWidth: 'Fit width',
    zoom: (p) => `Zoom ${p}%`,
    pages: 'Document pages',
  },
};
