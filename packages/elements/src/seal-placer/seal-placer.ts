import { html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import {
  DEFAULT_SEAL_SIZE,
  PdfDocument,
  listFields,
  parseSeal,
  SidianError,
  sealBatch,
  sealListsCertificate,
  sealPdf,
  signPdf,
  type BatchDocument,
  type PreparedField,
  type SealBatchResult,
  type SealedDocument,
  type SealRule,
  type Signer,
} from '@sidian/core';
import { SidianElement } from '../shared/base';
import { fetchBytes, sha256Hex, signedName, toFile } from '../shared/bytes';
import { SidianElementError, errorCode } from '../shared/errors';
import { FormAssociated, type FormValidity, type FormValue } from '../shared/form-associated';
import { LocalizeController } from '../shared/localize';
import { pdfViewLabels } from '../shared/pdf-strings';
import { PdfViewController, type PageSize } from '../shared/pdf-view';
import { pdfViewStyles } from '../shared/pdf-view.styles';
import { baseStyles } from '../shared/styles';
import { newFieldName } from '../shared/field-names';
import { errorDetail, technicalDetails } from '../shared/technical-details';
import { sealPlacerStyles } from './seal-placer.styles';
import { sealPlacerStrings } from './seal-placer.strings';

/** Where a seal goes: a page (1-based) and a rectangle in PDF points, origin at the page's bottom-left as displayed. */
export interface SealPlacement {
  page: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export type SealPlacerMode = 'single' | 'every-page' | 'seam';
export type SealPlacerState = 'empty' | 'loading' | 'loaded' | 'placed' | 'sealing' | 'sealed' | 'error';

export interface PlacementChangeDetail {
  placements: SealPlacement[];
}
export interface SealedDetail {
  pdf: Uint8Array;
  sha256: string;
}
export interface BatchProgressDetail {
  done: number;
  total: number;
  sealed: number;
  failed: number;
}

const MM = 72 / 25.4;
const STEP = MM; // an arrow key moves the seal 1 mm; with Shift 10 mm

/**
 * Places a department's seal on a PDF and seals it in the browser (PAdES, key in WebCrypto).
 *
 * @summary 电子印章: drag, click, arrow keys or typed coordinates put the seal on the page; `seal()` signs.
 *
 * @event placement-change - The placements changed: `{placements}` (PDF points).
 * @event sealed - The document was sealed: `{pdf, sha256}` (signed bytes, hex SHA-256).
 * @event batch-progress - One document of `sealBatch()` finished: `{done, total, sealed, failed}`.
 *
 * @csspart toolbar - The bar with navigation, placement and the seal button.
 * @csspart viewport - The scrolling column of pages.
 * @csspart page - One page.
 * @csspart canvas - A page's rendering.
 * @csspart seal - The movable seal preview (a button).
 * @csspart strip - One strip of a seam seal (骑缝章) preview.
 * @csspart coordinates - The coordinate entry fields.
 * @csspart seal-button - The 盖章 button.
 * @csspart cancel-button - The button that cancels a running batch (批量签署).
 * @csspart status - The status / error line.
 * @csspart button - Every button.
 *
 * @cssprop --sidian-color-primary - Primary buttons and focus.
 * @cssprop --sidian-color-danger - Error text.
 * @cssprop --sidian-viewer-height - Height of the page column (default 70vh).
 * @cssprop --sidian-seal-outline - Outline of the seal preview.
 */
export class SealPlacer extends FormAssociated(SidianElement) {
  static override styles = [baseStyles, pdfViewStyles, sealPlacerStyles];

  /** URL of the PDF to seal (fetched with same-origin credentials). */
  @property() src?: string;
  /** URL of the seal image (PNG or JPEG, transparent PNG recommended); the `seal` attribute. */
  @property({ attribute: 'seal' }) sealSrc?: string;
  /** `single` (one page), `every-page` (same place on every page) or `seam` (骑缝章 across the right edges). */
  @property({ reflect: true }) mode: SealPlacerMode = 'single';
  /** The seal's size in millimetres: the larger side of the image (a standard official seal: 42). */
  @property({ type: Number, attribute: 'seal-size' }) sealSize = DEFAULT_SEAL_SIZE / MM;
  /** /Reason of the signature. */
  @property() reason?: string;
  /** /Location of the signature. */
  @property() location?: string;
  /** RFC 3161 timestamp authority URL (makes the seal PAdES B-T). */
  @property() tsa?: string;
  /** Certification signature with DocMDP permission 1, 2 or 3. */
  @property({ type: Number }) certify?: 1 | 2 | 3;
  /** The signer: `signerFromCryptoKey(key, certificate, chain)` from @sidian/core. */
  @property({ attribute: false }) signer?: Signer;
  /**
   * A GB/T 38540 electronic seal (DER SESeal) whose holder `.signer` is: sealing then goes through
   * `sealPdf` (the seal travels in the signature's CMS), the signer must be SM2 and listed in the
   * seal, and the seal image defaults to the seal's own picture.
   */
  @property({ attribute: false }) gbSeal?: Uint8Array;
  /**
   * The signature field: an empty field a certifier prepared (the seal goes where its widget is, no
   * placement needed), or the name of the new field at the placement. Default by role:
   * `issuing-seal` with `certify`, else `department-seal` (numbered when taken).
   */
  @property() field?: string;
  /**
   * Empty signature fields to prepare for later seals, in the same revision (with `certify="2"`:
   * under P=2 later visible seals may only go into prepared fields).
   */
  @property({ attribute: false }) prepareFields?: PreparedField[];

  /**
   * Where the element is: empty, loading, loaded, placed, sealing, sealed or error. `sealed` is the
   * done state: the 盖章 button says 已盖章 and is disabled, and `seal()` rejects with ALREADY_SEALED
   * until `reset()` (another seal on the sealed file) or a new `src` / `.document`.
   */
  @property({ reflect: true, attribute: 'state' }) state: SealPlacerState = 'empty';

  @state() private documentBytes?: Uint8Array;
  @state() private sealBytes?: Uint8Array;
  @state() private sealUrl?: string;
  @state() private sealAspect = 1;
  /** The user's placement: page and the seal's rectangle (for seam: its full width, y and height). */
  @state() private placement?: SealPlacement;
  @state() private message = '';
  @state() private messageKind: 'info' | 'error' | 'success' = 'info';
  /** The code and the engine's own message of the last error, behind 技术详情. */
  @state() private detail = '';
  @state() private announcement = '';
  @state() private batch?: { controller: AbortController; total: number };
  private pageSizes: PageSize[] = [];
  private signedFile?: File;
  private drag?: { id: number; dx: number; dy: number; moved: boolean };
  private loadToken = 0;

  private readonly t = new LocalizeController(this, sealPlacerStrings);
  private readonly view = new PdfViewController(this, { onPageChange: () => this.requestUpdate() });

  /** The PDF bytes (set directly, or fetched from `src`). After `seal()` it holds the sealed file. */
  get document(): Uint8Array | undefined {
    return this.documentBytes;
  }
  set document(bytes: Uint8Array | undefined) {
    this.src = undefined;
    void this.loadDocument(bytes ? Promise.resolve(bytes) : undefined);
  }

  /** The seal image bytes (PNG or JPEG). See `sealPng()` for a drawn standard seal. */
  get sealImage(): Uint8Array | undefined {
    return this.sealBytes;
  }
  set sealImage(bytes: Uint8Array | undefined) {
    this.imageFromGbSeal = false;
    void this.setSealImage(bytes);
  }

  /**
   * Where the seal will go, one entry per widget, in PDF points (origin bottom-left of the page as
   * displayed). Ignored while `state` is `sealed` (call `reset()` first).
   */
  get placements(): SealPlacement[] {
    const p = this.placement;
    if (!p) return [];
    const sizes = this.pageSizes;
    if (this.mode === 'every-page') return sizes.map((_, i) => ({ ...p, page: i + 1 }));
    if (this.mode === 'seam') {
      const strip = p.width / sizes.length;
      return sizes.map((s, i) => ({ page: i + 1, x: s.width - strip, y: p.y, width: strip, height: p.height }));
    }
    return [{ ...p }];
  }
  set placements(list: SealPlacement[]) {
    if (this.state === 'sealed') return; // done: `reset()` first
    const first = list?.[0];
    if (!first) {
      this.placement = undefined;
    } else if (this.mode === 'seam') {
      const strip = first.width;
      this.placement = { page: 1, x: 0, y: first.y, width: strip * Math.max(1, this.pageSizes.length), height: first.height };
    } else {
      this.placement = { page: first.page, x: first.x, y: first.y, width: first.width, height: first.height };
    }
    this.afterPlacementChange(false);
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('src') && this.src) void this.loadDocument(fetchBytes(this.src));
    if (changed.has('sealSrc') && this.sealSrc) void this.setSealImage(undefined, this.sealSrc);
    if (changed.has('gbSeal') && this.gbSeal) this.useGbSealPicture(this.gbSeal);
    if ((changed.has('mode') || changed.has('sealSize')) && this.placement) this.refitPlacement();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.sealUrl) URL.revokeObjectURL(this.sealUrl);
    this.sealUrl = undefined;
  }

  /**
   * Puts the seal at its default place: the bottom-right corner of the current page (single,
   * every-page) or the middle of the right edges (seam). Returns the placements.
   */
  place(): SealPlacement[] {
    if (!this.pageSizes.length || this.state === 'sealed') return [];
    const page = this.mode === 'single' ? Math.min(this.view.currentPage, this.pageSizes.length) : 1;
    const size = this.pageSizes[page - 1]!;
    const { width, height } = this.sealDims();
    const margin = Math.max(0, Math.min(36, (size.width - width) / 2, (size.height - height) / 2));
    this.placement =
      this.mode === 'seam'
        ? { page: 1, x: 0, y: (this.minPageHeight() - height) / 2, width, height }
        : { page, x: size.width - width - margin, y: margin, width, height };
    this.afterPlacementChange(true);
    return this.placements;
  }

  /**
   * Seals the document with `.signer` and returns the signed PDF. Rejects with a coded error
   * (NO_DOCUMENT, NO_SIGNER, NO_SEAL_IMAGE, NO_PLACEMENT, PLACEMENT_OFF_PAGE, BUSY, DISABLED, or the
   * engine's SidianError) and shows why.
   */
  async seal(): Promise<Uint8Array> {
    if (this.state === 'sealing') throw this.fail(new SidianElementError('BUSY', 'a seal is being applied'), false);
    try {
      if (this.isDisabled) throw new SidianElementError('DISABLED', 'the element is disabled');
      if (this.state === 'sealed')
        throw new SidianElementError(
          'ALREADY_SEALED',
          'the document is sealed; call reset() to add another seal',
        );
      const pdf = this.documentBytes;
      if (!pdf) throw new SidianElementError('NO_DOCUMENT', 'no document: set src or .document');
      const signer = this.signer;
      if (!signer || typeof signer.sign !== 'function' || !signer.certificate) {
        throw new SidianElementError('NO_SIGNER', 'no signer: set .signer (signerFromCryptoKey)');
      }
      const gbSeal = this.gbSeal;
      // GB/T 38540 §5: only a holder the seal lists may seal with it; refused before anything is signed
      if (gbSeal && (signer.algorithm !== 'SM2' || !sealListsCertificate(parseSeal(gbSeal), signer.certificate)))
        throw new SidianElementError('SEAL_SIGNER_NOT_LISTED', "the signer's certificate is not in the electronic seal's certificate list");
      if (!this.sealBytes) throw new SidianElementError('NO_SEAL_IMAGE', 'no seal image: set seal or .sealImage');
      const p = this.placement;
      // an empty field prepared earlier fixes the place itself
      const prepared =
        !!this.field && listFields(PdfDocument.load(pdf).latest).some((f) => f.type === 'Sig' && f.fullName === this.field && !f.dict.has('V'));
      if (!p && !prepared) throw new SidianElementError('NO_PLACEMENT', 'the seal has not been placed');
      if (!prepared) this.checkPlacements();
      this.setState('sealing', this.t.term('sealing'), 'info');
      const options: Parameters<typeof signPdf>[1] = {
        signer,
        image: this.sealBytes,
        ...(prepared || !p
          ? {}
          : {
              mode: this.mode,
              page: this.mode === 'single' ? p.page : undefined,
              rect: this.mode === 'seam' ? { x: 0, y: p.y, width: p.width, height: p.height } : { x: p.x, y: p.y, width: p.width, height: p.height },
            }),
        prepareFields: this.prepareFields?.length ? this.prepareFields : undefined,
        reason: this.reason || undefined,
        location: this.location || undefined,
        certify: this.certify || undefined,
        tsa: this.tsa || undefined,
        field: this.field || newFieldName(pdf, this.certify ? 'issuing-seal' : 'department-seal'),
      };
      const signed = gbSeal ? await sealPdf(pdf, { ...options, seal: gbSeal }) : await signPdf(pdf, options);
      const sha256 = await sha256Hex(signed);
      this.signedFile = toFile(signed, signedName(this.src, 'sealed'), 'application/pdf');
      // Show the sealed file; a further seal goes on top of it as a new revision.
      this.placement = undefined;
      await this.loadDocument(Promise.resolve(signed), true);
      this.setState('sealed', this.t.term('sealed'), 'success');
      this.updateForm();
      this.emit('placement-change', { placements: [] });
      this.emit('sealed', { pdf: signed, sha256 });
      return signed;
    } catch (e) {
      // refused while done: the element stays sealed
      throw this.fail(e, errorCode(e) !== 'ALREADY_SEALED');
    }
  }

  /**
   * Leaves the done state after `seal()`: the element shows the sealed file, ready for a further seal
   * on top of it (another department's, as a new revision). Setting `src` or `.document` does the same
   * with a new document. Nothing happens before a seal.
   */
  reset(): void {
    if (this.state !== 'sealed') return;
    this.placement = undefined;
    this.setState(this.documentBytes ? 'loaded' : 'empty', '', 'info');
  }

  /**
   * 批量签署: seals every document with `.signer` and the seal image by one rule — by default the
   * mode and placement shown now — after one confirmation (`confirmBatch`, by default the browser's
   * confirm dialog). Shows progress and a cancel button; a document that fails does not stop the
   * others. Each signed file goes to `onSealed` and is not kept. Rejects with NO_SIGNER,
   * NO_SEAL_IMAGE, NO_PLACEMENT, BUSY, DISABLED or BATCH_DECLINED before anything is sealed.
   */
  async sealBatch(
    documents: BatchDocument[],
    options: { rule?: SealRule; onSealed?: (doc: SealedDocument) => void | Promise<void> } = {},
  ): Promise<SealBatchResult> {
    if (this.state === 'sealing') throw this.fail(new SidianElementError('BUSY', 'a seal is being applied'), false);
    const before = this.state;
    try {
      if (this.isDisabled) throw new SidianElementError('DISABLED', 'the element is disabled');
      const signer = this.signer;
      if (!signer || typeof signer.sign !== 'function' || !signer.certificate) {
        throw new SidianElementError('NO_SIGNER', 'no signer: set .signer (signerFromCryptoKey)');
      }
      let rule = options.rule;
      if (!rule) {
        if (!this.sealBytes) throw new SidianElementError('NO_SEAL_IMAGE', 'no seal image: set seal or .sealImage');
        const p = this.placement;
        if (!p) throw new SidianElementError('NO_PLACEMENT', 'the seal has not been placed');
        rule = {
          image: this.sealBytes,
          mode: this.mode,
          page: this.mode === 'single' ? p.page : undefined,
          rect: this.mode === 'seam' ? { x: 0, y: p.y, width: p.width, height: p.height } : { x: p.x, y: p.y, width: p.width, height: p.height },
          reason: this.reason || undefined,
          location: this.location || undefined,
          tsa: this.tsa || undefined,
        };
      }
      const total = documents.length;
      const n = (v: number) => this.t.number(v);
      if (!(await this.confirmBatch(this.t.term('batchConfirm', n(total)), total))) {
        throw new SidianElementError('BATCH_DECLINED', 'the batch was declined at its confirmation');
      }
      const controller = new AbortController();
      this.batch = { controller, total };
      this.setState('sealing', this.t.term('batchProgress', n(0), n(total)), 'info');
      const result = await sealBatch(documents, {
        signer,
        rule,
        signal: controller.signal,
        onSealed: options.onSealed,
        onProgress: ({ done, sealed, failed }) => {
          this.message = this.t.term('batchProgress', n(done), n(total));
          this.emit('batch-progress', { done, total, sealed, failed });
        },
      });
      const words = result.cancelled ? 'batchCancelled' : 'batchDone';
      this.setState(before, this.t.term(words, n(result.sealed), n(result.failed)), result.failed ? 'error' : 'success');
      return result;
    } catch (e) {
      throw this.fail(e, false);
    } finally {
      this.batch = undefined;
    }
  }

  /** Stops a running `sealBatch()`: documents in flight finish, no new one starts. */
  cancelBatch(): void {
    this.batch?.controller.abort();
  }

  /** Asked once before a batch; resolve true to go on. Default: the browser's confirm dialog. */
  confirmBatch: (question: string, count: number) => boolean | Promise<boolean> = (question) => window.confirm(question);

  // ---- form association ----------------------------------------------------------------------

  protected formValue(): FormValue {
    return this.signedFile ?? null;
  }
  protected formValidity(): FormValidity {
    if (this.required && !this.signedFile) {
      return { flags: { valueMissing: true }, message: this.t.term('required'), anchor: this.sealButton() };
    }
    return { flags: {}, message: '' };
  }
  protected formReset(): void {
    this.signedFile = undefined;
    this.placement = undefined;
    if (this.state === 'sealed' || this.state === 'placed') this.state = this.documentBytes ? 'loaded' : 'empty';
  }
  protected formRestore(state: FormValue): void {
    this.signedFile = state instanceof File ? state : undefined;
  }

  // ---- loading -------------------------------------------------------------------------------

  private async loadDocument(source: Promise<Uint8Array> | undefined, keepState = false): Promise<void> {
    const token = ++this.loadToken;
    if (!source) {
      this.documentBytes = undefined;
      this.pageSizes = [];
      this.placement = undefined;
      this.view.close();
      this.setState('empty', '', 'info');
      return;
    }
    if (!keepState) this.setState('loading', this.t.term('loading'), 'info');
    try {
      const bytes = await source;
      if (token !== this.loadToken) return;
      // The engine reads the file first: a coded error for encrypted or broken files, and the
      // page sizes exactly as signPdf will check them.
      const doc = PdfDocument.load(bytes);
      if (doc.encrypted) throw new SidianError('PDF_ENCRYPTED', 'the PDF is encrypted; decrypt it before sealing');
      this.pageSizes = doc.latest.pages().map(displaySize);
      this.documentBytes = bytes;
      await this.view.open(bytes);
      if (token !== this.loadToken) return;
      if (!keepState) {
        this.signedFile = undefined;
        this.updateForm();
        this.setState(this.placement ? 'placed' : 'loaded', this.t.term('loaded', this.pageSizes.length), 'info');
      }
    } catch (e) {
      if (token !== this.loadToken) return;
      this.documentBytes = undefined;
      this.pageSizes = [];
      this.view.close();
      this.fail(e, true);
      if (keepState) throw e;
    }
  }

  /** The seal image from a GB/T 38540 seal's picture (PNG, JPEG), unless an image was given. */
  private imageFromGbSeal = false;
  private useGbSealPicture(der: Uint8Array): void {
    if (this.sealSrc || (this.sealBytes && !this.imageFromGbSeal)) return;
    try {
      const picture = parseSeal(der).picture;
      if (!['PNG', 'JPG', 'JPEG'].includes(picture.type.toUpperCase())) return;
      this.imageFromGbSeal = true;
      void this.setSealImage(picture.data);
    } catch (e) {
      this.fail(e, true);
    }
  }

  private async setSealImage(bytes: Uint8Array | undefined, url?: string): Promise<void> {
    try {
      if (url) bytes = await fetchBytes(url);
      if (this.sealUrl) URL.revokeObjectURL(this.sealUrl);
      this.sealBytes = bytes;
      this.sealUrl = undefined;
      if (!bytes) return;
      const blob = new Blob([bytes as Uint8Array<ArrayBuffer>]);
      const bitmap = await createImageBitmap(blob);
      this.sealAspect = bitmap.width / bitmap.height;
      bitmap.close();
      this.sealUrl = URL.createObjectURL(blob);
      if (this.placement) this.refitPlacement();
    } catch (e) {
      this.sealBytes = undefined;
      this.fail(e, true);
    }
  }

  // ---- placement -----------------------------------------------------------------------------

  /** Seal width and height in points (its larger side is `sealSize` mm), for seam mode the full seal. */
  private sealDims(): { width: number; height: number } {
    let size = (this.sealSize > 0 ? this.sealSize : 42) * MM;
    const smallest = Math.min(...this.pageSizes.map((s) => Math.min(s.width, s.height)));
    if (Number.isFinite(smallest)) size = Math.min(size, smallest);
    const a = this.sealAspect;
    return a >= 1 ? { width: size, height: size / a } : { width: size * a, height: size };
  }

  private minPageHeight(): number {
    return Math.min(...this.pageSizes.map((s) => s.height));
  }

  /** After a mode, size or image change: keep the seal's centre, take the new size, stay on the page. */
  private refitPlacement(): void {
    const p = this.placement!;
    const { width, height } = this.sealDims();
    const cx = p.x + p.width / 2;
    const cy = p.y + p.height / 2;
    this.placement = { page: p.page, x: cx - width / 2, y: cy - height / 2, width, height };
    this.moveTo(p.page, cx - width / 2, cy - height / 2, false);
  }

  /** Moves the seal (clamped to the page) and reports the change. */
  private moveTo(page: number, x: number, y: number, announce = true): void {
    const p = this.placement;
    if (!p || !this.pageSizes.length) return;
    page = Math.min(this.pageSizes.length, Math.max(1, page));
    const size = this.mode === 'single' ? this.pageSizes[page - 1]! : this.commonSize();
    const clamp = (v: number, max: number) => Math.round(Math.min(Math.max(0, max), Math.max(0, v)) * 100) / 100;
    this.placement = {
      ...p,
      page: this.mode === 'single' ? page : 1,
      x: this.mode === 'seam' ? 0 : clamp(x, size.width - p.width),
      y: clamp(y, size.height - p.height),
    };
    this.afterPlacementChange(announce);
  }

  /** The area every page has (every-page, seam: one rectangle for all pages). */
  private commonSize(): PageSize {
    return {
      width: Math.min(...this.pageSizes.map((s) => s.width)),
      height: this.minPageHeight(),
    };
  }

  private afterPlacementChange(announce: boolean): void {
    const p = this.placement;
    if (this.state === 'loaded' || this.state === 'placed' || this.state === 'error') {
      if (this.documentBytes) this.state = p ? 'placed' : 'loaded';
    }
    if (p && announce) this.announcement = this.t.term('moved', p.page, this.t.number(p.x, { maximumFractionDigits: 1 }), this.t.number(p.y, { maximumFractionDigits: 1 }));
    if (this.messageKind === 'error') this.message = '';
    this.emit('placement-change', { placements: this.placements });
  }

  /** Every placement inside its page, else PLACEMENT_OFF_PAGE. */
  private checkPlacements(): void {
    const eps = 0.01;
    for (const q of this.placements) {
      const s = this.pageSizes[q.page - 1];
      const ok =
        s &&
        Number.isInteger(q.page) &&
        [q.x, q.y, q.width, q.height].every(Number.isFinite) &&
        q.width > 0 &&
        q.height > 0 &&
        q.x >= -eps &&
        q.y >= -eps &&
        q.x + q.width <= s.width + eps &&
        q.y + q.height <= s.height + eps;
      if (!ok) throw new SidianElementError('PLACEMENT_OFF_PAGE', `the seal on page ${q.page} lies outside the page`);
    }
  }

  /** A pointer position as a point on page `index` (PDF points, origin bottom-left). */
  private pointOnPage(index: number, clientX: number, clientY: number): { x: number; y: number } {
    const r = this.view.pageElement(index)!.getBoundingClientRect();
    const s = this.pageSizes[index]!;
    return { x: ((clientX - r.left) / r.width) * s.width, y: s.height - ((clientY - r.top) / r.height) * s.height };
  }

  /** The page under a pointer position, or -1. */
  private pageAt(clientX: number, clientY: number): number {
    for (let i = 0; i < this.pageSizes.length; i++) {
      const r = this.view.pageElement(i)?.getBoundingClientRect();
      if (r && clientX >= r.left && clientX <= r.right && clientY >= r.top && clientY <= r.bottom) return i;
    }
    return -1;
  }

  private onPageClick = (e: MouseEvent) => {
    if (
      this.isDisabled ||
      this.state === 'sealing' ||
      this.state === 'sealed' ||
      (e.target as Element).closest('.seal')
    )
      return;
    const index = Number((e.currentTarget as HTMLElement).dataset.page);
    if (!this.placement) this.place();
    const p = this.placement!;
    const pt = this.pointOnPage(index, e.clientX, e.clientY);
    this.moveTo(index + 1, pt.x - p.width / 2, pt.y - p.height / 2);
  };

  private onSealPointerDown = (e: PointerEvent) => {
    if (this.isDisabled || this.state === 'sealing' || e.button !== 0) return;
    const p = this.placement!;
    const index = this.mode === 'single' ? p.page - 1 : Number((e.currentTarget as HTMLElement).dataset.page ?? 0);
    const pt = this.pointOnPage(index, e.clientX, e.clientY);
    this.drag = { id: e.pointerId, dx: pt.x - p.x, dy: pt.y - p.y, moved: false };
    try {
      (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    } catch {
      // a synthetic pointer: nothing to capture
    }
    (e.currentTarget as HTMLElement).focus();
    e.preventDefault();
  };

  private onSealPointerMove = (e: PointerEvent) => {
    const d = this.drag;
    if (!d || e.pointerId !== d.id) return;
    const p = this.placement!;
    let index = this.mode === 'single' ? this.pageAt(e.clientX, e.clientY) : -1;
    if (index < 0) index = this.mode === 'single' ? p.page - 1 : Math.max(0, this.pageAt(e.clientX, e.clientY));
    const pt = this.pointOnPage(index, e.clientX, e.clientY);
    d.moved = true;
    this.moveTo(index + 1, pt.x - d.dx, pt.y - d.dy, false);
  };

  private onSealPointerUp = (e: PointerEvent) => {
    const d = this.drag;
    if (!d || e.pointerId !== d.id) return;
    this.drag = undefined;
    const p = this.placement;
    if (d.moved && p) this.announcement = this.t.term('moved', p.page, this.t.number(p.x, { maximumFractionDigits: 1 }), this.t.number(p.y, { maximumFractionDigits: 1 }));
  };

  private onSealKeyDown = (e: KeyboardEvent) => {
    const p = this.placement;
    if (!p || this.isDisabled || this.state === 'sealing') return;
    const step = e.shiftKey ? STEP * 10 : STEP;
    const moves: Record<string, [number, number, number]> = {
      ArrowLeft: [0, -step, 0],
      ArrowRight: [0, step, 0],
      ArrowUp: [0, 0, step],
      ArrowDown: [0, 0, -step],
      PageUp: [-1, 0, 0],
      PageDown: [1, 0, 0],
    };
    const m = moves[e.key];
    if (!m) return;
    e.preventDefault();
    this.moveTo(p.page + m[0], p.x + m[1], p.y + m[2]);
    if (m[0] && this.mode === 'single') {
      void this.updateComplete.then(() => {
        this.view.goToPage(this.placement!.page, 'instant');
        this.sealElement()?.focus();
      });
    }
  };

  private onCoordinates = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const num = (name: string) => Number((form.elements.namedItem(name) as HTMLInputElement).value);
    if (!this.placement) this.place();
    const p = this.placement!;
    // typed coordinates are taken as given (not clamped): an off-page value shows as an error
    this.placement = { ...p, page: this.mode === 'single' ? num('page') || p.page : 1, x: this.mode === 'seam' ? 0 : num('x'), y: num('y') };
    this.afterPlacementChange(true);
    try {
      this.checkPlacements();
      if (this.mode === 'single') void this.updateComplete.then(() => this.view.goToPage(this.placement!.page));
    } catch (err) {
      this.fail(err, false);
    }
  };

  // ---- state and errors ----------------------------------------------------------------------

  private setState(s: SealPlacerState, message: string, kind: 'info' | 'error' | 'success'): void {
    this.state = s;
    this.message = message;
    this.detail = '';
    this.messageKind = kind;
  }

  /** Shows an error (and, with `setError`, enters the error state); returns it for throwing. */
  private fail(e: unknown, setError: boolean): unknown {
    const code = errorCode(e);
    const errors = this.t.table.errors;
    this.message = errors[code] ?? errors.UNKNOWN!;
    this.detail = errorDetail(e, code);
    this.messageKind = 'error';
    if (setError) this.state = 'error';
    else if (this.state === 'sealing') this.state = this.placement ? 'placed' : 'loaded';
    return e;
  }

  private sealElement(): HTMLElement | null {
    return this.renderRoot.querySelector('.seal');
  }
  private sealButton(): HTMLElement | undefined {
    return this.renderRoot.querySelector<HTMLElement>('.seal-button') ?? undefined;
  }

  // ---- rendering -----------------------------------------------------------------------------

  override render() {
    const t = this.t;
    const busy = this.state === 'sealing';
    const done = this.state === 'sealed';
    const off = this.isDisabled || busy || done;
    const p = this.placement;
    const hasDoc = this.view.state === 'ready' && this.pageSizes.length > 0;
    const fmt = (n: number) => String(Math.round(n * 100) / 100);
    return html`
      <div class="toolbar" part="toolbar" role="toolbar" aria-label=${t.term('region')}>
        ${this.view.renderControls(pdfViewLabels[t.locale])}
        <span class="spacer"></span>
        <button type="button" part="button" ?disabled=${off || !hasDoc || !this.sealUrl} @click=${() => { this.place(); void this.updateComplete.then(() => this.sealElement()?.focus()); }}>
          ${t.term('place')}
        </button>
        <button
          type="button"
          class="primary seal-button"
          part="button seal-button"
          ?disabled=${off}
          aria-busy=${busy ? 'true' : 'false'}
          @click=${() => this.seal().catch(() => undefined)}
        >
          ${busy ? t.term('sealing') : done ? t.term('done') : t.term('seal')}
        </button>
        ${this.batch
          ? html`<button type="button" class="cancel-button" part="button cancel-button" @click=${() => this.cancelBatch()}>${t.term('cancel')}</button>`
          : nothing}
      </div>
      ${hasDoc
        ? html`<form class="coordinates" part="coordinates" @submit=${this.onCoordinates} aria-label=${t.term('coordinates')}>
            <fieldset ?disabled=${off}>
              <legend>${t.term('coordinates')}</legend>
              <label>${t.term('page')} <input name="page" type="number" min="1" max=${this.pageSizes.length} step="1" .value=${String(p?.page ?? this.view.currentPage)} ?disabled=${this.mode !== 'single'} /></label>
              <label>${t.term('x')} <input name="x" type="number" step="any" .value=${p ? fmt(p.x) : ''} ?disabled=${this.mode === 'seam'} /></label>
              <label>${t.term('y')} <input name="y" type="number" step="any" .value=${p ? fmt(p.y) : ''} /></label>
              <button type="submit" part="button">${t.term('apply')}</button>
            </fieldset>
          </form>`
        : nothing}
      <div class="status ${this.messageKind}" part="status" role=${this.messageKind === 'error' ? 'alert' : 'status'}>
        ${this.message || (this.state === 'empty' ? t.term('noDocument') : '')}
      </div>
      ${this.messageKind === 'error' && this.message ? technicalDetails(t.locale, [this.detail]) : nothing}
      <div class="visually-hidden announce" aria-live="polite">${this.announcement}</div>
      ${hasDoc || this.view.state === 'loading' ? this.view.renderPages(pdfViewLabels[t.locale].pages, (i, size) => this.renderOverlay(i, size)) : nothing}
    `;
  }

  private renderOverlay(index: number, size: PageSize) {
    const p = this.placement;
    const pct = (v: number, of: number) => `${(v / of) * 100}%`;
    const box = (x: number, y: number, w: number, h: number) =>
      `left:${pct(x, size.width)};top:${pct(size.height - y - h, size.height)};width:${pct(w, size.width)};height:${pct(h, size.height)}`;
    let content: unknown = nothing;
    if (p && this.sealUrl) {
      const t = this.t;
      const n = (v: number) => t.number(v, { maximumFractionDigits: 1 });
      if (this.mode === 'seam') {
        const count = this.pageSizes.length;
        const strip = p.width / count;
        // 骑缝章 preview: this page's strip of the seal at the right edge.
        content = html`<button
          type="button"
          class="seal strip"
          part="seal strip"
          data-page=${index}
          .style=${box(size.width - strip, p.y, strip, p.height)}
          aria-label=${t.term('seamLabel', n(p.y))}
          tabindex=${index === 0 ? '0' : '-1'}
          @pointerdown=${this.onSealPointerDown}
          @pointermove=${this.onSealPointerMove}
          @pointerup=${this.onSealPointerUp}
          @pointercancel=${this.onSealPointerUp}
          @keydown=${this.onSealKeyDown}
        ><img src=${this.sealUrl} alt="" draggable="false" .style=${`width:${count * 100}%;left:${-index * 100}%`} /></button>`;
      } else if (this.mode === 'every-page' || p.page === index + 1) {
        content = html`<button
          type="button"
          class="seal"
          part="seal"
          data-page=${index}
          .style=${box(p.x, p.y, p.width, p.height)}
          aria-label=${t.term('sealLabel', p.page, n(p.x), n(p.y))}
          tabindex=${this.mode === 'single' || index === 0 ? '0' : '-1'}
          @pointerdown=${this.onSealPointerDown}
          @pointermove=${this.onSealPointerMove}
          @pointerup=${this.onSealPointerUp}
          @pointercancel=${this.onSealPointerUp}
          @keydown=${this.onSealKeyDown}
        ><img src=${this.sealUrl} alt="" draggable="false" /></button>`;
      }
    }
    return html`<div class="overlay" data-page=${index} @click=${this.onPageClick}>${content}</div>`;
  }
}

/** Width and height of a page as displayed (crop box, after /Rotate), as the engine measures them. */
function displaySize(page: { cropBox: [number, number, number, number]; rotate: number }): PageSize {
  const [x0, y0, x1, y1] = page.cropBox;
  const w = Math.abs(x1 - x0);
  const h = Math.abs(y1 - y0);
  return page.rotate === 90 || page.rotate === 270 ? { width: h, height: w } : { width: w, height: h };
}

declare global {
  interface HTMLElementEventMap {
    'placement-change': CustomEvent<PlacementChangeDetail>;
    sealed: CustomEvent<SealedDetail>;
    'batch-progress': CustomEvent<BatchProgressDetail>;
  }
}
