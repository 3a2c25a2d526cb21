/**
 * The pdf.js page view shared by <seal-placer> and <licence-viewer>: a ReactiveController that
 * renders a scrolling column of pages into its host's shadow root.
 *
 * - pdf.js is imported lazily, on the first `open()`; its worker, CMaps, standard fonts and wasm
 *   decoders come from our own server (`configurePdf`), never a CDN; `isEvalSupported: false` (CSP).
 * - Only pages near the viewport are rendered (IntersectionObserver); pages scrolled away give
 *   their canvas memory back.
 * - Canvases are rendered at devicePixelRatio (capped) so text is sharp on HiDPI screens.
 * - The page width fits the element's width (zoom 1); zoom multiplies it. A resize re-fits.
 *
 * The host renders `view.renderPages(overlay)` where `overlay(index, size)` returns what lies over
 * page `index` (the seal preview, a watermark); overlays position themselves in percent of the
 * page, so they need no re-layout on zoom. `view.renderControls(labels)` renders page navigation
 * and zoom buttons.
 */
import { html, nothing, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';
import type { PDFDocumentProxy, PDFPageProxy, RenderTask } from 'pdfjs-dist';

type Host = ReactiveControllerHost & HTMLElement & { readonly renderRoot: HTMLElement | DocumentFragment };

/** Where our copies of pdf.js's files are served from. */
export interface PdfAssets {
  /** A folder laid out like the pdfjs-dist package (build/, cmaps/, standard_fonts/, wasm/, iccs/). */
  pdfjsBase?: string;
  workerSrc?: string;
  cMapUrl?: string;
  standardFontDataUrl?: string;
  wasmUrl?: string;
  iccUrl?: string;
}

let assets: PdfAssets = {};

/**
 * Tells the elements where pdf.js's worker and data files are served. Default: the folder given by
 * `<meta name="sidian-pdfjs-base" content="/elements/pdfjs/">`, else `./pdfjs/` next to the module
 * (for the bundle at /elements/sidian.js: /elements/pdfjs/).
 */
export function configurePdf(options: PdfAssets): void {
  assets = { ...assets, ...options };
}

function resolvedAssets(): Required<Omit<PdfAssets, 'pdfjsBase'>> {
  const meta = typeof document !== 'undefined' ? document.querySelector<HTMLMetaElement>('meta[name="sidian-pdfjs-base"]')?.content : undefined;
  const base = new URL(assets.pdfjsBase ?? meta ?? './pdfjs/', assets.pdfjsBase || meta ? document.baseURI : import.meta.url).href;
  return {
    workerSrc: assets.workerSrc ?? new URL('build/pdf.worker.min.mjs', base).href,
    cMapUrl: assets.cMapUrl ?? new URL('cmaps/', base).href,
    standardFontDataUrl: assets.standardFontDataUrl ?? new URL('standard_fonts/', base).href,
    wasmUrl: assets.wasmUrl ?? new URL('wasm/', base).href,
    iccUrl: assets.iccUrl ?? new URL('iccs/', base).href,
  };
}

type Pdfjs = typeof import('pdfjs-dist');
type PdfWorker = InstanceType<Pdfjs['PDFWorker']>;
let pdfjsPromise: Promise<Pdfjs> | undefined;
let workerPromise: Promise<PdfWorker> | undefined;

/** pdf.js, imported on first use (so a page without documents never downloads it). */
export function loadPdfjs(): Promise<Pdfjs> {
  pdfjsPromise ??= import('pdfjs-dist').then((m) => {
    m.GlobalWorkerOptions.workerSrc = resolvedAssets().workerSrc;
    return m;
  });
  return pdfjsPromise;
}

/**
 * pdf.js and its worker, started ahead of the document: an element calls this as soon as it knows
 * it will show one (before the bytes arrive). The worker's script (the larger part of pdf.js) starts
 * downloading and compiling at once, beside the import of pdf.js's main-thread part and the download
 * of the PDF, and is handed to pdf.js as its worker port when it says it is ready; a worker that
 * cannot start (CSP, missing file) leaves the choice to pdf.js (its own worker, else its fake one).
 * One worker serves every view on the page (pdf.js keeps documents apart by id) for the page's life.
 * Assets configured after the first call (`configurePdf`) do not change the running worker.
 */
export function preloadPdfjs(): Promise<{ pdfjs: Pdfjs; worker: PdfWorker }> {
  workerPromise ??= Promise.all([loadPdfjs(), startWorkerPort()]).then(([pdfjs, port]) =>
    port ? pdfjs.PDFWorker.create({ port }) : new pdfjs.PDFWorker(),
  );
  const worker = workerPromise;
  return loadPdfjs().then(async (pdfjs) => ({ pdfjs, worker: await worker }));
}

/** pdf.js's worker as a plain module worker; resolves once it has said "ready", or undefined. */
function startWorkerPort(): Promise<Worker | undefined> {
  let port: Worker;
  try {
    port = new Worker(resolvedAssets().workerSrc, { type: 'module', name: 'pdfjs' });
  } catch {
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      port.removeEventListener('message', onMessage);
      port.removeEventListener('error', onError);
      if (!ok) port.terminate();
      resolve(ok ? port : undefined);
    };
    // pdf.worker.mjs announces itself with {action: "ready"} (its MessageHandler) once loaded
    const onMessage = (e: MessageEvent<{ action?: string }>) => e.data?.action === 'ready' && done(true);
    const onError = () => done(false);
    port.addEventListener('message', onMessage);
    port.addEventListener('error', onError);
  });
}

/** A page as displayed (crop box, after /Rotate), in PDF points. */
export interface PageSize {
  width: number;
  height: number;
}

export type PdfViewState = 'empty' | 'loading' | 'ready' | 'error';

export interface PdfViewLabels {
  previous: string;
  next: string;
  page: string;
  /** "of N" after the page number input. */
  of: (n: number) => string;
  zoomIn: string;
  zoomOut: string;
  fitWidth: string;
  /** "Zoom 120%" */
  zoom: (percent: number) => string;
  /** Accessible name of the scrolling page column. */
  pages: string;
}

export interface PdfViewOptions {
  /** Called when the most visible page changes (1-based). */
  onPageChange?: (page: number) => void;
}

const PAGE_GAP = 12;
const MAX_CANVAS_PIXELS = 16_777_216; // 4096²: stays under every browser's canvas limit
export const MIN_ZOOM = 0.25;
export const MAX_ZOOM = 4;

interface PageSlot {
  proxy?: PDFPageProxy;
  task?: RenderTask;
  /** The scale the task in flight renders at. */
  taskScale?: number;
  /** The scale (CSS px per point) the canvas holds, 0 when released. */
  renderedScale: number;
  visible: boolean;
}

export class PdfViewController implements ReactiveController {
  /** Display sizes of the pages in points (empty until a document is open). */
  pages: PageSize[] = [];
  state: PdfViewState = 'empty';
  error: unknown;
  /** 1 = fit the element's width. */
  zoom = 1;
  /** The page mostly in view, 1-based. */
  currentPage = 1;

  private readonly host: Host;
  private readonly options: PdfViewOptions;
  private doc?: PDFDocumentProxy;
  private slots: PageSlot[] = [];
  private availableWidth = 0;
  private generation = 0;
  private intersection?: IntersectionObserver;
  private resize?: ResizeObserver;
  private observedScroller?: HTMLElement;
  private observedPages = new WeakSet<Element>();
  private scrollFrame = 0;
  /**
   * Until page 1 is drawn, only its element exists and one spacer stands for the others: creating and
   * laying out 200 page elements took 100-200 ms of the main thread (bench/viewer), just when pdf.js
   * needs it to draw page 1. The scroll height is the same either way.
   */
  private allPagesShown = false;
  private renderTimer?: ReturnType<typeof setTimeout>;
  /** Resolves when a page of the current document has been drawn for the first time. */
  private firstPainted = new Promise<void>((r) => (this.onFirstPaint = r));
  private onFirstPaint!: () => void;

  constructor(host: Host, options: PdfViewOptions = {}) {
    this.host = host;
    this.options = options;
    host.addController(this);
  }

  hostDisconnected(): void {
    this.intersection?.disconnect();
    this.resize?.disconnect();
    this.intersection = undefined;
    this.resize = undefined;
    this.observedScroller = undefined;
    this.observedPages = new WeakSet();
  }

  hostUpdate(): void {
    // a scroller not measured yet (its ResizeObserver reports after the next frame) is measured
    // before this render, so that the pages' first drawing has the right scale
    if (!this.availableWidth && this.scroller()) this.availableWidth = this.innerWidth(this.scroller()!);
  }

  hostUpdated(): void {
    this.attach();
  }

  /**
   * Opens a document (the bytes are copied: pdf.js transfers what it gets to its worker). The view
   * is ready, and page 1 renders, as soon as page 1 is loaded; until the other pages are, they take
   * page 1's size (as pdf.js's own viewer does). Resolves when every page's size is known.
   */
  async open(bytes: Uint8Array): Promise<void> {
    this.close(false);
    const generation = this.generation;
    this.state = 'loading';
    this.host.requestUpdate();
    try {
      const { pdfjs, worker } = await preloadPdfjs();
      const a = resolvedAssets();
      const doc = await pdfjs.getDocument({
        data: bytes.slice(),
        worker,
        isEvalSupported: false,
        cMapUrl: a.cMapUrl,
        cMapPacked: true,
        standardFontDataUrl: a.standardFontDataUrl,
        wasmUrl: a.wasmUrl,
        iccUrl: a.iccUrl,
        enableXfa: false,
      }).promise;
      if (generation !== this.generation) {
        void doc.destroy();
        return;
      }
      const first = await doc.getPage(1);
      if (generation !== this.generation) {
        void doc.destroy();
        return;
      }
      const size = viewSize(first);
      this.doc = doc;
      this.pages = Array.from({ length: doc.numPages }, () => ({ ...size }));
      // page 1 is taken as in view until the IntersectionObserver says otherwise: it is drawn at once
      this.slots = this.pages.map((_, i) => ({ proxy: i === 0 ? first : undefined, renderedScale: 0, visible: i === 0 }));
      this.currentPage = 1;
      this.state = 'ready';
      this.host.requestUpdate();
      // With the width to fit known (the host already shows the scroller), page 1's drawing starts
      // now, in pdf.js's worker, while the host lays out the page column.
      if (this.availableWidth) this.renderVisible();
      // The other pages once page 1 is on screen (or after a second): their requests would
      // otherwise queue in the worker ahead of page 1's drawing.
      await Promise.race([this.firstPainted, new Promise((r) => setTimeout(r, 1000))]);
      if (generation !== this.generation) return;
      this.showAllPages();
      const slots = this.slots;
      const rest = await Promise.all(slots.slice(1).map((_, i) => doc.getPage(i + 2)));
      if (generation !== this.generation) return;
      rest.forEach((proxy, i) => {
        slots[i + 1]!.proxy = proxy;
        this.pages[i + 1] = viewSize(proxy);
      });
      this.pages = [...this.pages];
    } catch (e) {
      if (generation !== this.generation) return;
      this.state = 'error';
      this.error = e;
      throw e;
    } finally {
      if (generation === this.generation) this.host.requestUpdate();
    }
  }

  /** Closes the document and frees pdf.js's resources. */
  close(update = true): void {
    this.generation++; // an open() still in progress gives up
    for (const s of this.slots) s.task?.cancel();
    void this.doc?.destroy();
    this.doc = undefined;
    this.firstPainted = new Promise<void>((r) => (this.onFirstPaint = r));
    this.allPagesShown = false;
    this.slots = [];
    this.pages = [];
    this.state = 'empty';
    this.error = undefined;
    this.observedPages = new WeakSet();
    this.intersection?.disconnect();
    this.intersection = undefined;
    if (update) this.host.requestUpdate();
  }

  /**
   * False while page 1 of the document is being drawn first (the other pages wait as one spacer);
   * true once it is on screen, or a second has passed. A host can hold back heavy rendering of its
   * own until then: the main thread's time goes to pdf.js's drawing of page 1.
   */
  get showsAllPages(): boolean {
    return this.allPagesShown;
  }

  /** CSS pixels per PDF point at the current zoom. */
  get scale(): number {
    if (!this.pages.length) return 1;
    const widest = Math.max(...this.pages.map((p) => p.width));
    const fit = this.availableWidth > 0 ? this.availableWidth / widest : 1;
    return fit * this.zoom;
  }

  setZoom(zoom: number): void {
    const z = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, Math.round(zoom * 100) / 100));
    if (z === this.zoom) return;
    const keep = this.currentPage;
    this.zoom = z;
    this.host.requestUpdate();
    void this.host.updateComplete.then(() => this.goToPage(keep, 'instant'));
  }
  zoomIn(): void {
    this.setZoom(this.zoom * 1.25);
  }
  zoomOut(): void {
    this.setZoom(this.zoom / 1.25);
  }

  /** Scrolls page `n` (1-based) to the top of the view. */
  goToPage(n: number, behavior: ScrollBehavior = 'smooth'): void {
    const page = Math.min(this.pages.length, Math.max(1, Math.round(n)));
    if (!this.allPagesShown && page > 1) {
      this.showAllPages();
      void this.host.updateComplete.then(() => this.goToPage(page, behavior));
      return;
    }
    const el = this.pageElement(page - 1);
    const scroller = this.scroller();
    if (!el || !scroller) return;
    scroller.scrollTo({ top: el.offsetTop - PAGE_GAP, behavior });
    this.setCurrentPage(page);
  }

  /** The element of page `index` (0-based) in the host's shadow root. */
  pageElement(index: number): HTMLElement | null {
    return this.host.renderRoot.querySelector?.(`.pdf-page[data-index="${index}"]`) ?? null;
  }

  /** The scrolling column of pages, with `overlay(index, size)` over each page. */
  renderPages(label: string, overlay?: (index: number, size: PageSize) => unknown): TemplateResult {
    const scale = this.scale;
    const shown = this.allPagesShown ? this.pages : this.pages.slice(0, 1);
    const restHeight = this.pages.slice(shown.length).reduce((h, p) => h + p.height * scale + PAGE_GAP, 0);
    // focusable so keyboard users can scroll it (WCAG 2.1.1)
    return html`<div class="pdf-scroller" part="viewport" tabindex="0" role="region" aria-label=${label} @scroll=${this.onScroll}>
      ${shown.map(
        (p, i) =>
          html`<div
            class="pdf-page"
            part="page"
            data-index=${i}
            .style=${`width:${p.width * scale}px;height:${p.height * scale}px`}
          >
            <canvas class="pdf-canvas" part="canvas" width="0" height="0" aria-hidden="true"></canvas>
            ${overlay ? overlay(i, p) : nothing}
          </div>`,
      )}
      ${restHeight ? html`<div class="pdf-rest" aria-hidden="true" .style=${`height:${restHeight}px`}></div>` : nothing}
    </div>`;
  }

  /** Previous/next page, page number entry, zoom out/in/fit width. */
  renderControls(l: PdfViewLabels): TemplateResult {
    const n = this.pages.length;
    const disabled = this.state !== 'ready';
    return html`<div class="pdf-controls" part="pdf-controls" role="group">
      <button type="button" part="button" aria-label=${l.previous} title=${l.previous} ?disabled=${disabled || this.currentPage <= 1} @click=${() => this.goToPage(this.currentPage - 1)}>‹</button>
      <label class="pdf-page-entry"
        >${l.page}
        <input
          type="number"
          inputmode="numeric"
          min="1"
          max=${Math.max(1, n)}
          .value=${String(this.currentPage)}
          ?disabled=${disabled}
          @change=${(e: Event) => this.goToPage(Number((e.target as HTMLInputElement).value) || 1)}
        />
        ${l.of(n)}</label
      >
      <button type="button" part="button" aria-label=${l.next} title=${l.next} ?disabled=${disabled || this.currentPage >= n} @click=${() => this.goToPage(this.currentPage + 1)}>›</button>
      <button type="button" part="button" aria-label=${l.zoomOut} title=${l.zoomOut} ?disabled=${disabled || this.zoom <= MIN_ZOOM} @click=${() => this.zoomOut()}>−</button>
      <span class="pdf-zoom" aria-live="polite">${l.zoom(Math.round(this.zoom * 100))}</span>
      <button type="button" part="button" aria-label=${l.zoomIn} title=${l.zoomIn} ?disabled=${disabled || this.zoom >= MAX_ZOOM} @click=${() => this.zoomIn()}>+</button>
      <button type="button" part="button" ?disabled=${disabled || this.zoom === 1} @click=${() => this.setZoom(1)}>${l.fitWidth}</button>
    </div>`;
  }

  /** Resolves when every page in view has been drawn at the current scale (tests, screenshots). */
  async rendered(): Promise<void> {
    await this.host.updateComplete;
    for (let tries = 0; tries < 200; tries++) {
      const pending = (this.state === 'ready' && !this.allPagesShown) || this.slots.some((s) => s.visible && (s.task || s.renderedScale !== this.scale));
      if (!pending && this.slots.some((s) => s.visible)) return;
      if (!pending && this.state !== 'ready') return;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  // ----------------------------------------------------------------------------------------------

  private showAllPages(): void {
    if (this.allPagesShown) return;
    this.allPagesShown = true;
    this.host.requestUpdate();
  }

  private scroller(): HTMLElement | null {
    return this.host.renderRoot.querySelector?.('.pdf-scroller') ?? null;
  }

  private attach(): void {
    const scroller = this.scroller();
    if (!scroller) return;
    if (scroller !== this.observedScroller || !this.intersection) {
      this.intersection?.disconnect();
      this.resize?.disconnect();
      this.observedPages = new WeakSet();
      this.observedScroller = scroller;
      this.intersection = new IntersectionObserver((entries) => this.onIntersect(entries), {
        root: scroller,
        rootMargin: '50% 0px',
      });
      // measured in the next frame: a re-layout inside the observer's callback would loop
      this.resize = new ResizeObserver(() => requestAnimationFrame(() => this.measure()));
      this.resize.observe(scroller);
    }
    for (const el of scroller.querySelectorAll('.pdf-page')) {
      if (!this.observedPages.has(el)) {
        this.observedPages.add(el);
        this.intersection!.observe(el);
      }
    }
    this.scheduleRender();
  }

  private measure(): void {
    const scroller = this.observedScroller;
    if (!scroller) return;
    const width = this.innerWidth(scroller);
    if (width > 0 && Math.abs(width - this.availableWidth) >= 1) {
      this.availableWidth = width;
      this.host.requestUpdate();
    }
  }

  /** The width pages fit into: the scroller's, less its padding. */
  private innerWidth(scroller: HTMLElement): number {
    const style = getComputedStyle(scroller);
    return Math.max(0, scroller.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight));
  }

  private onIntersect(entries: IntersectionObserverEntry[]): void {
    for (const e of entries) {
      const slot = this.slots[Number((e.target as HTMLElement).dataset.index)];
      if (!slot) continue;
      slot.visible = e.isIntersecting;
      if (!slot.visible) this.release(slot, e.target.querySelector('canvas'));
    }
    this.scheduleRender();
  }

  private onScroll = (): void => {
    if (this.scrollFrame) return;
    this.scrollFrame = requestAnimationFrame(() => {
      this.scrollFrame = 0;
      const scroller = this.scroller();
      if (!scroller) return;
      const mark = scroller.scrollTop + scroller.clientHeight / 3;
      let page = 1;
      for (let i = 0; i < this.pages.length; i++) {
        const el = this.pageElement(i);
        if (el && el.offsetTop <= mark) page = i + 1;
      }
      this.setCurrentPage(page);
    });
  };

  private setCurrentPage(page: number): void {
    if (page === this.currentPage) return;
    this.currentPage = page;
    this.host.requestUpdate();
    this.options.onPageChange?.(page);
  }

  private release(slot: PageSlot, canvas: HTMLCanvasElement | null): void {
    slot.task?.cancel();
    slot.task = undefined;
    if (canvas && slot.renderedScale) {
      canvas.width = 0;
      canvas.height = 0;
    }
    slot.renderedScale = 0;
  }

  /**
   * Renders visible pages soon: a page in view with nothing drawn yet at once, a re-rendering after
   * 30 ms (a burst of zoom/resize changes renders once).
   */
  private scheduleRender(): void {
    clearTimeout(this.renderTimer);
    const blank = this.slots.some((s) => s.visible && s.proxy && !s.renderedScale && !s.task);
    this.renderTimer = setTimeout(() => this.renderVisible(), blank ? 0 : 30);
  }

  private renderVisible(): void {
    const scale = this.scale;
    this.slots.forEach((slot, i) => {
      if (!slot.visible || !slot.proxy) return;
      // drawn at this scale, or being drawn at it: nothing to do (restarting would throw the work away)
      if (slot.task ? slot.taskScale === scale : slot.renderedScale === scale) return;
      void this.renderPage(slot, i, scale);
    });
  }

  /** Draws page `index` off screen, then onto its canvas (looked up then: it may not exist yet when drawing starts). */
  private async renderPage(slot: PageSlot, index: number, scale: number): Promise<void> {
    slot.task?.cancel();
    const proxy = slot.proxy!;
    const base = proxy.getViewport({ scale });
    let ratio = Math.max(1, window.devicePixelRatio || 1);
    if (base.width * base.height * ratio * ratio > MAX_CANVAS_PIXELS) {
      ratio = Math.sqrt(MAX_CANVAS_PIXELS / (base.width * base.height));
    }
    const viewport = proxy.getViewport({ scale: scale * ratio });
    // Draw into a fresh canvas and swap, so the old picture stays until the new one is ready.
    const target = document.createElement('canvas');
    target.width = Math.floor(viewport.width);
    target.height = Math.floor(viewport.height);
    const task = proxy.render({ canvas: target, viewport });
    slot.task = task;
    slot.taskScale = scale;
    try {
      await task.promise;
    } catch (e) {
      if ((e as Error)?.name === 'RenderingCancelledException') return;
      throw e;
    } finally {
      if (slot.task === task) slot.task = undefined;
    }
    const canvas = this.pageElement(index)?.querySelector('canvas');
    if (!slot.visible || !canvas) return;
    canvas.width = target.width;
    canvas.height = target.height;
    canvas.getContext('2d')!.drawImage(target, 0, 0);
    target.width = target.height = 0;
    slot.renderedScale = scale;
    this.onFirstPaint();
  }
}

/** A page's size as displayed (crop box, after /Rotate), in points. */
function viewSize(proxy: PDFPageProxy): PageSize {
  const vp = proxy.getViewport({ scale: 1 });
  return { width: vp.width, height: vp.height };
}
