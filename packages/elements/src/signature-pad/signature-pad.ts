import { html, nothing, svg, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { PdfDocument, SidianError, listFields, signPdf, type Signer } from '@sidian/core';
import { SidianElement } from '../shared/base';
import { fetchBytes, sha256Hex, signedName, toFile } from '../shared/bytes';
import { newFieldName } from '../shared/field-names';
import { errorDetail, technicalDetails } from '../shared/technical-details';
import { SidianElementError, errorCode } from '../shared/errors';
import { FormAssociated, type FormValidity, type FormValue } from '../shared/form-associated';
import { GlyphMissingError, glyphRun, runAdvance, type GlyphRun } from '../shared/glyphs';
import { LocalizeController } from '../shared/localize';
import { baseStyles } from '../shared/styles';
import { drawInk, fitTransform, inkBounds, inkToSvg, isTrivial, type Box, type InkStroke, type InkStyle } from './ink';
import { signaturePadStyles } from './signature-pad.styles';
import { signaturePadStrings } from './signature-pad.strings';

export type SignaturePadMode = 'draw' | 'type';

/** Where the handwriting goes when there is no `field`: page (1-based) and rectangle in PDF points, origin bottom-left. */
export interface SignaturePlacement {
  page: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface SignedDetail {
  pdf: Uint8Array;
  sha256: string;
}

export interface PngOptions {
  /** Output pixels per CSS pixel of the drawing (default 3: sharp when printed at signature size). */
  scale?: number;
  /** Transparent margin around the trimmed ink, in CSS pixels (default 4). */
  padding?: number;
  /** Letterbox to this width/height ratio (the shape of a signature field), ink centred. */
  aspect?: number;
}

/**
 * A handwritten signature: drawn with mouse, finger or pen (pressure, coalesced events, velocity
 * widths), or typed; exported as PNG, SVG and stroke data; with `src` and a signer it signs a PDF.
 * A typed name is drawn from the outlines of the font that ships with Sidian (Noto Serif SC Bold,
 * shared/glyphs.ts), never from the fonts of the signer's machine: a character that font lacks is a
 * `GLYPH_MISSING` error naming it (shown at once, and `sign()` rejects), never an empty box in the PDF.
 *
 * @summary 电子签名: draw or type a signature; `sign()` puts it into a PDF signature field and signs.
 *
 * @event change - The drawing or typed name changed (a stroke ended, undo, clear, typing).
 * @event signed - `sign()` succeeded: `{pdf, sha256}`.
 *
 * @csspart toolbar - Mode switch, undo, clear, sign.
 * @csspart pad - The writing area.
 * @csspart canvas - The drawing canvas.
 * @csspart baseline - The dashed line to sign on.
 * @csspart input - The name field (type mode).
 * @csspart preview - The typed name as it will look.
 * @csspart sign-button - The 签名 button (with `src`).
 * @csspart status - The status / error line.
 * @csspart button - Every button.
 *
 * @cssprop --sidian-pad-height - Height of the writing area (default 200px).
 * @cssprop --sidian-pad-background - Background of the writing area.
 * @cssprop --sidian-signature-size - Height of the typed name's preview (default 48px).
 * @cssprop --sidian-color-primary - Primary buttons and focus.
 */
export class SignaturePad extends FormAssociated(SidianElement) {
  static override styles = [baseStyles, signaturePadStyles];

  /** Ink colour. */
  @property({ attribute: 'pen-color' }) penColor = '#101a5c';
  /** Thinnest line (fast strokes, light pressure), CSS px. */
  @property({ type: Number, attribute: 'min-width' }) minWidth = 0.8;
  /** Thickest line (slow strokes, firm pressure), CSS px. */
  @property({ type: Number, attribute: 'max-width' }) maxWidth = 3.2;
  /** `draw` (default) or `type` (type the name: the keyboard and screen-reader path). */
  @property({ reflect: true }) mode: SignaturePadMode = 'draw';
  /** A PDF to sign: `sign()` puts the handwriting into it. */
  @property() src?: string;
  /** An existing empty signature field of `src` to fill. */
  @property() field?: string;
  /** /Reason of the signature. */
  @property() reason?: string;
  /** /Location of the signature. */
  @property() location?: string;
  /** RFC 3161 timestamp authority URL. */
  @property() tsa?: string;
  /** Where the handwriting goes when there is no `field`. */
  @property({ attribute: false }) placement?: SignaturePlacement;
  /** The signer: `signerFromCryptoKey(key, certificate, chain)` from @sidian/core. */
  @property({ attribute: false }) signer?: Signer;

  /** The typed name in `type` mode. */
  @state() typedName = '';
  @state() private inkStrokes: InkStroke[] = [];
  @state() private busy = false;
  /** After `sign()`: the done state, left only by `reset()`, a new `.document` / `src` or a form reset. */
  @state() private signedDone = false;
  @state() private message = '';
  @state() private messageKind: 'info' | 'error' | 'success' = 'info';
  /** The code and the engine's own message of the last error, behind 技术详情. */
  @state() private detail = '';
  @state() private announcement = '';

  @query('canvas') private canvas?: HTMLCanvasElement;
  @query('.pad') private pad?: HTMLElement;

  /** The box (CSS px) that stroke coordinates refer to: the pad's size at the first stroke. */
  private box: Box = { width: 0, height: 0 };
  private active?: { id: number; stroke: InkStroke };
  private frame = 0;
  private resizeObserver?: ResizeObserver;
  private documentBytes?: Uint8Array;
  private pngFile?: File;
  private signedFile?: File;
  private valueToken = 0;
  /** The outlines of the typed name (or why there are none), once per name. */
  private typed?: { text: string; run?: GlyphRun; error?: unknown; pending: Promise<GlyphRun> };

  private readonly t = new LocalizeController(this, signaturePadStrings);

  /** The strokes with time and pressure, in CSS px of `strokeBox` (kept as evidence of signing). */
  get strokes(): InkStroke[] {
    return this.inkStrokes.map((s) => ({ pointerType: s.pointerType, points: s.points.map((p) => ({ ...p })) }));
  }
  set strokes(strokes: InkStroke[]) {
    this.inkStrokes = (strokes ?? []).map((s) => ({ pointerType: s.pointerType, points: s.points.map((p) => ({ ...p })) }));
    if (!this.box.width) this.box = this.viewBox();
    this.changed();
  }

  /** The reference box of `.strokes` (the pad's size in CSS px when drawing began). */
  get strokeBox(): Box {
    return { ...this.box };
  }
  set strokeBox(box: Box) {
    this.box = { width: box.width, height: box.height };
    this.redraw();
  }

  /** The PDF to sign (set directly, or fetched from `src` by `sign()`). */
  get document(): Uint8Array | undefined {
    return this.documentBytes;
  }
  set document(bytes: Uint8Array | undefined) {
    this.documentBytes = bytes;
    this.signedFile = undefined;
    this.signedDone = false;
    this.updateForm();
  }

  /**
   * True after `sign()` succeeded: the 签名 button says 已签名 and is disabled, drawing and typing are
   * locked and a further `sign()` rejects with ALREADY_SIGNED. `reset()` or a new `.document` / `src` re-arms.
   */
  get done(): boolean {
    return this.signedDone;
  }

  /** Leaves the done state: clears the signature and the signed file, so that `sign()` signs `.document` afresh. */
  reset(): void {
    this.signedDone = false;
    this.message = '';
    this.clear();
  }

  /** Nothing drawn (draw mode) or typed (type mode). */
  isEmpty(): boolean {
    return this.mode === 'type' ? !this.typedName.trim() : this.inkStrokes.length === 0;
  }

  /** Removes everything drawn and typed. */
  clear(): void {
    this.inkStrokes = [];
    this.typedName = '';
    this.box = { width: 0, height: 0 };
    this.announcement = this.t.term('cleared');
    this.changed();
  }

  /** Removes the last stroke. */
  undo(): void {
    if (!this.inkStrokes.length) return;
    this.inkStrokes = this.inkStrokes.slice(0, -1);
    this.announcement = this.t.term('undone');
    this.changed();
  }

  /**
   * The signature as SVG (trimmed to the ink, transparent). A typed name is outlines: call it after
   * `await updateComplete` (which waits for them); throws `GLYPH_MISSING` for characters the bundled
   * font lacks.
   */
  toSVG(): string {
    if (this.mode === 'type') {
      const run = this.loadedRun();
      const { width, height, glyphs } = this.typedLayout(run);
      const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      return (
        `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">` +
        `<g fill="${esc(this.penColor)}">${glyphs.map((g) => `<path transform="${g.transform}" d="${g.path}"/>`).join('')}</g></svg>`
      );
    }
    return inkToSvg(this.inkStrokes, this.inkStyle());
  }

  /** The signature as a transparent PNG trimmed to the ink, at `scale` pixels per CSS pixel. */
  async toPNG(options: PngOptions = {}): Promise<Blob> {
    if (this.mode === 'type') await this.typedGlyphs();
    const canvas = this.renderPng(options);
    return new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'));
  }

  /**
   * Puts the handwriting into `field` (or at `placement`) of the document from `src` / `.document`
   * and signs it with `.signer`. Rejects with a coded error and shows why.
   */
  async sign(): Promise<Uint8Array> {
    if (this.busy) throw this.fail(new SidianElementError('BUSY', 'signing is in progress'));
    try {
      if (this.isDisabled) throw new SidianElementError('DISABLED', 'the element is disabled');
      if (this.signedDone)
        throw new SidianElementError('ALREADY_SIGNED', 'the document is signed; call reset() to sign again');
      if (!this.documentBytes && !this.src)
        throw new SidianElementError('NO_DOCUMENT', 'no document: set src or .document');
      const signer = this.signer;
      if (!signer || typeof signer.sign !== 'function' || !signer.certificate) {
        throw new SidianElementError('NO_SIGNER', 'no signer: set .signer (signerFromCryptoKey)');
      }
      this.checkSignature();
      this.busy = true;
      this.setMessage(this.t.term('signing'), 'info');
      const pdf = this.documentBytes ?? (this.documentBytes = await fetchBytes(this.src!));
      const aspect = this.targetAspect(pdf);
      const png = new Uint8Array(await (await this.toPNG({ aspect })).arrayBuffer());
      const p = this.placement;
      const signed = await signPdf(pdf, {
        signer,
        image: png,
        field: this.field || newFieldName(pdf, 'applicant-signature'),
        page: !this.field && p ? p.page : undefined,
        rect: !this.field && p ? { x: p.x, y: p.y, width: p.width, height: p.height } : undefined,
        reason: this.reason || undefined,
        location: this.location || undefined,
        tsa: this.tsa || undefined,
      });
      const sha256 = await sha256Hex(signed);
      this.signedFile = toFile(signed, signedName(this.src, 'signed'), 'application/pdf');
      this.signedDone = true;
      this.updateForm();
      this.setMessage(this.t.term('signed'), 'success');
      this.emit('signed', { pdf: signed, sha256 });
      return signed;
    } catch (e) {
      throw this.fail(e);
    } finally {
      this.busy = false;
    }
  }

  // ---- form association ----------------------------------------------------------------------

  protected formValue(): FormValue {
    return this.src || this.documentBytes ? (this.signedFile ?? null) : (this.pngFile ?? null);
  }
  protected formValidity(): FormValidity {
    if (!this.required) return { flags: {}, message: '' };
    const anchor = this.renderRoot?.querySelector<HTMLElement>('input, .pad') ?? undefined;
    if (this.isEmpty()) return { flags: { valueMissing: true }, message: this.t.term('required'), anchor };
    if (this.mode === 'draw' && isTrivial(this.inkStrokes)) {
      return { flags: { customError: true }, message: this.t.table.errors.SIGNATURE_TOO_SIMPLE!, anchor };
    }
    const typedError = this.mode === 'type' && this.typed?.text === this.typedName.trim() ? this.typed.error : undefined;
    if (typedError) return { flags: { customError: true }, message: this.errorText(typedError), anchor };
    if ((this.src || this.documentBytes) && !this.signedFile) return { flags: { valueMissing: true }, message: this.t.term('needsSigning'), anchor };
    return { flags: {}, message: '' };
  }
  protected formReset(): void {
    this.inkStrokes = [];
    this.typedName = '';
    this.box = { width: 0, height: 0 };
    this.pngFile = undefined;
    this.signedFile = undefined;
    this.signedDone = false;
    this.message = '';
  }
  protected formRestore(state: FormValue): void {
    if (state instanceof File) {
      if (state.type === 'application/pdf') this.signedFile = state;
      else this.pngFile = state;
    }
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  override connectedCallback(): void {
    super.connectedCallback();
    void this.updateComplete.then(() => this.observeSize());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver?.disconnect();
    this.resizeObserver = undefined;
    cancelAnimationFrame(this.frame);
  }

  override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    if ((changed.has('typedName') || changed.has('mode')) && this.mode === 'type')
      void this.typedGlyphs().catch(() => undefined);
    if (changed.has('src')) {
      this.documentBytes = undefined;
      this.signedFile = undefined;
      this.signedDone = false;
      this.updateForm();
    }
    if (changed.has('mode')) {
      this.observeSize();
      this.changed(false);
    }
    if (changed.has('penColor') || changed.has('minWidth') || changed.has('maxWidth')) this.redraw();
  }

  private observeSize(): void {
    this.resizeObserver?.disconnect();
    const pad = this.pad;
    if (!pad) return;
    this.resizeObserver = new ResizeObserver(() => this.redraw());
    this.resizeObserver.observe(pad);
  }

  // ---- drawing -------------------------------------------------------------------------------

  private inkStyle(): InkStyle {
    return { color: this.penColor, minWidth: this.minWidth, maxWidth: Math.max(this.minWidth, this.maxWidth) };
  }

  private viewBox(): Box {
    const r = this.pad?.getBoundingClientRect();
    return { width: r?.width ?? 0, height: r?.height ?? 0 };
  }

  /** Resizes the canvas to its box at devicePixelRatio and draws every stroke (on the next frame). */
  private redraw(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.paint());
  }

  private paint(): void {
    const canvas = this.canvas;
    if (!canvas) return;
    const view = this.viewBox();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(view.width * dpr);
    const h = Math.round(view.height * dpr);
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const f = fitTransform(this.box.width ? this.box : view, view);
    ctx.setTransform(dpr * f.scale, 0, 0, dpr * f.scale, dpr * f.dx, dpr * f.dy);
    const strokes = this.active ? [...this.inkStrokes, this.active.stroke] : this.inkStrokes;
    drawInk(ctx, strokes, this.inkStyle());
  }

  /** A pointer position in reference units. */
  private toRef(e: PointerEvent): { x: number; y: number } {
    const r = this.pad!.getBoundingClientRect();
    const f = fitTransform(this.box, { width: r.width, height: r.height });
    return { x: (e.clientX - r.left - f.dx) / f.scale, y: (e.clientY - r.top - f.dy) / f.scale };
  }

  private addPoints(e: PointerEvent): void {
    const stroke = this.active!.stroke;
    const events = e.getCoalescedEvents?.() ?? [];
    for (const ev of events.length ? events : [e]) {
      const { x, y } = this.toRef(ev);
      const last = stroke.points[stroke.points.length - 1];
      if (last && last.x === x && last.y === y) continue;
      stroke.points.push({
        x: Math.round(x * 100) / 100,
        y: Math.round(y * 100) / 100,
        t: Math.round((performance.timeOrigin + ev.timeStamp) * 10) / 10,
        pressure: Math.round(ev.pressure * 1000) / 1000,
      });
    }
  }

  private onPointerDown = (e: PointerEvent) => {
    if (
      this.isDisabled ||
      this.busy ||
      this.signedDone ||
      this.mode !== 'draw' ||
      (e.pointerType === 'mouse' && e.button !== 0)
    )
      return;
    if (this.active) return; // one pen at a time (a palm or a second finger is ignored)
    e.preventDefault();
    capture(e);
    if (!this.box.width) this.box = this.viewBox();
    this.active = { id: e.pointerId, stroke: { pointerType: e.pointerType || 'mouse', points: [] } };
    this.addPoints(e);
    this.redraw();
  };

  private onPointerMove = (e: PointerEvent) => {
    if (!this.active || e.pointerId !== this.active.id) return;
    this.addPoints(e);
    this.redraw();
  };

  private onPointerUp = (e: PointerEvent) => {
    if (!this.active || e.pointerId !== this.active.id) return;
    if (e.type === 'pointerup') this.addPoints(e);
    const stroke = this.active.stroke;
    this.active = undefined;
    if (stroke.points.length) this.inkStrokes = [...this.inkStrokes, stroke];
    this.changed();
  };

  private onTyped = (e: Event) => {
    this.typedName = (e.target as HTMLInputElement).value;
    this.changed();
  };

  /** After any change of the signature: new form value (PNG made off the event), `change` event. */
  private changed(notify = true): void {
    this.redraw();
    this.signedFile = undefined;
    if (this.messageKind === 'error') this.message = '';
    const token = ++this.valueToken;
    this.pngFile = undefined;
    this.updateForm();
    if (!this.isEmpty()) {
      this.toPNG().then(
        (blob) => {
          if (token !== this.valueToken) return;
          this.pngFile = new File([blob], 'signature.png', { type: 'image/png' });
          this.updateForm();
        },
        () => undefined, // a name the bundled font cannot draw: shown by typedGlyphs(), invalid in formValidity()
      );
    }
    if (notify) this.dispatchEvent(new Event('change', { bubbles: true, composed: true }));
  }

  /** Waits for the typed name's outlines too, so that `toSVG()` can draw them. */
  protected override async getUpdateComplete(): Promise<boolean> {
    const done = await super.getUpdateComplete();
    if (this.mode === 'type') await this.typedGlyphs().catch(() => undefined);
    return done;
  }

  /** The outlines of the typed name, fetched once per name; a missing character is shown at once. */
  private typedGlyphs(): Promise<GlyphRun> {
    const text = this.typedName.trim();
    if (this.typed?.text === text) return this.typed.pending;
    const typed: NonNullable<typeof this.typed> = {
      text,
      pending: glyphRun(text).then(
        (run) => {
          typed.run = run;
          // a new name that the font can draw replaces the complaint about the old one
          if (this.typed === typed && this.messageKind === 'error') this.message = '';
          this.requestUpdate();
          this.updateForm();
          return run;
        },
        (e: unknown) => {
          typed.error = e;
          if (this.typed === typed) {
            this.fail(e);
            this.updateForm();
          }
          throw e;
        },
      ),
    };
    this.typed = typed;
    return typed.pending;
  }

  /** The typed name's outlines if loaded; throws the load's error, or BUSY while they are loading. */
  private loadedRun(): GlyphRun {
    const typed = this.typed?.text === this.typedName.trim() ? this.typed : undefined;
    if (typed?.error) throw typed.error;
    if (!typed?.run)
      throw new SidianElementError(
        'BUSY',
        'the outlines of the typed name are still loading: await updateComplete first',
      );
    return typed.run;
  }

  /** Where each glyph of the typed name goes: 64 px em, centred in a box with a quarter em of margin. */
  private typedLayout(run: GlyphRun): {
    width: number;
    height: number;
    glyphs: { path: string; x: number; y: number; k: number; mid: number; transform: string }[];
  } {
    const size = 64;
    const k = size / run.upm;
    const width = Math.ceil(runAdvance(run) * k + size * 0.5);
    const height = Math.ceil(size * 1.5);
    let x = size * 0.25;
    const glyphs = run.glyphs.map((g) => {
      const at = Math.round(x * 100) / 100;
      const transform = `translate(${at} ${height / 2}) scale(${k.toFixed(5)} ${(-k).toFixed(5)}) translate(0 ${-run.mid})`;
      x += g.advance * k;
      return { path: g.path, x: at, y: height / 2, k, mid: run.mid, transform };
    });
    return { width, height, glyphs: glyphs.filter((g) => g.path) };
  }

  private checkSignature(): void {
    if (this.isEmpty()) throw new SidianElementError('SIGNATURE_EMPTY', 'nothing drawn or typed');
    if (this.mode === 'draw' && isTrivial(this.inkStrokes)) throw new SidianElementError('SIGNATURE_TOO_SIMPLE', 'the drawing is too small to be a signature');
  }

  /** The width/height ratio of the target field or placement, so the handwriting is not stretched. */
  private targetAspect(pdf: Uint8Array): number | undefined {
    const p = this.placement;
    if (!this.field) return p ? p.width / p.height : undefined;
    const view = PdfDocument.load(pdf).latest;
    const field = listFields(view).find((f) => f.fullName === this.field);
    if (!field || field.type !== 'Sig') throw new SidianError('SIGN_FIELD_NOT_FOUND', `the document has no signature field "${this.field}"`);
    const rect = (view.array(field.widgets[0]?.dict.get('Rect')) ?? []).map((x) => view.number(x) ?? 0);
    if (rect.length !== 4) return undefined;
    const w = Math.abs(rect[2]! - rect[0]!);
    const h = Math.abs(rect[3]! - rect[1]!);
    const pageRef = field.widgets[0]?.dict.get('P') as { num?: number } | undefined;
    const page = view.pages().find((pg) => pg.ref.num === pageRef?.num);
    const swap = page && (page.rotate === 90 || page.rotate === 270);
    return w > 0 && h > 0 ? (swap ? h / w : w / h) : undefined;
  }

  private renderPng(o: PngOptions): HTMLCanvasElement {
    const scale = o.scale ?? 3;
    const pad = o.padding ?? 4;
    let bw: number;
    let bh: number;
    let draw: (ctx: CanvasRenderingContext2D) => void;
    if (this.mode === 'type') {
      const m = this.typedLayout(this.loadedRun());
      bw = m.width;
      bh = m.height;
      draw = (ctx) => {
        ctx.fillStyle = this.penColor;
        for (const g of m.glyphs) {
          ctx.save();
          ctx.translate(g.x, g.y);
          ctx.scale(g.k, -g.k);
          ctx.translate(0, -g.mid);
          ctx.fill(new Path2D(g.path));
          ctx.restore();
        }
      };
    } else {
      const style = this.inkStyle();
      const b = inkBounds(this.inkStrokes, style) ?? { x: 0, y: 0, width: 1, height: 1 };
      bw = b.width + 2 * pad;
      bh = b.height + 2 * pad;
      draw = (ctx) => {
        ctx.translate(pad - b.x, pad - b.y);
        drawInk(ctx, this.inkStrokes, style);
      };
    }
    // letterbox to the target's shape: the ink centred, transparent around it
    let ox = 0;
    let oy = 0;
    let cw = bw;
    let ch = bh;
    if (o.aspect && o.aspect > 0) {
      if (bw / bh < o.aspect) cw = bh * o.aspect;
      else ch = bw / o.aspect;
      ox = (cw - bw) / 2;
      oy = (ch - bh) / 2;
    }
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(cw * scale));
    canvas.height = Math.max(1, Math.round(ch * scale));
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(scale, 0, 0, scale, ox * scale, oy * scale);
    draw(ctx);
    return canvas;
  }

  // ---- status --------------------------------------------------------------------------------

  private setMessage(text: string, kind: 'info' | 'error' | 'success'): void {
    this.message = text;
    this.detail = '';
    this.messageKind = kind;
  }

  private fail(e: unknown): unknown {
    this.setMessage(this.errorText(e), 'error');
    this.detail = errorDetail(e, errorCode(e));
    return e;
  }

  private errorText(e: unknown): string {
    const errors = this.t.table.errors;
    const code = errorCode(e);
    if (e instanceof GlyphMissingError)
      return `${errors.GLYPH_MISSING} ${e.characters.map((c) => `“${c}” U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`).join(', ')}`;
    // the engine's own words stay behind the details disclosure, never in the message
    return errors[code] ?? errors.UNKNOWN!;
  }

  /** The typed name as the signature will look (the same outlines), or nothing while they load. */
  private renderPreview() {
    const typed = this.typed?.text === this.typedName.trim() ? this.typed : undefined;
    if (!typed?.run || !typed.text) return nothing;
    const m = this.typedLayout(typed.run);
    return html`<svg viewBox="0 0 ${m.width} ${m.height}" aria-hidden="true" fill="currentColor">
      ${m.glyphs.map((g) => svg`<path transform=${g.transform} d=${g.path}></path>`)}
    </svg>`;
  }

  // ---- rendering -----------------------------------------------------------------------------

  override render() {
    const t = this.t;
    const done = this.signedDone;
    const off = this.isDisabled || this.busy || done;
    const draw = this.mode === 'draw';
    const withDoc = !!(this.src || this.documentBytes);
    return html`
      <div class="toolbar" part="toolbar" role="toolbar" aria-label=${t.term('toolbar')}>
        <button type="button" part="button" aria-pressed=${draw ? 'true' : 'false'} ?disabled=${off} @click=${() => (this.mode = 'draw')}>${t.term('draw')}</button>
        <button type="button" part="button" aria-pressed=${draw ? 'false' : 'true'} ?disabled=${off} @click=${() => (this.mode = 'type')}>${t.term('type')}</button>
        <span class="spacer"></span>
        ${draw ? html`<button type="button" part="button" class="undo" ?disabled=${off || !this.inkStrokes.length} @click=${() => this.undo()}>${t.term('undo')}</button>` : nothing}
        <button
          type="button"
          part="button"
          class="clear"
          ?disabled=${off || this.isEmpty()}
          @click=${() => this.clear()}
        >
          ${t.term('clear')}
        </button>
        ${
          withDoc
            ? html`<button
                type="button"
                class="primary sign-button"
                part="button sign-button"
                ?disabled=${off}
                aria-busy=${this.busy ? 'true' : 'false'}
                @click=${() => this.sign().catch(() => undefined)}
              >
                ${this.busy ? t.term('signing') : done ? t.term('done') : t.term('sign')}
              </button>`
            : nothing
        }
      </div>
      <div class="pad" part="pad">
        ${draw
          ? html`<canvas
                part="canvas"
                role="img"
                aria-label=${this.inkStrokes.length ? `${t.term('canvasWithInk', this.inkStrokes.length)} ${t.term('canvas')}` : t.term('canvas')}
                @pointerdown=${this.onPointerDown}
                @pointermove=${this.onPointerMove}
                @pointerup=${this.onPointerUp}
                @pointercancel=${this.onPointerUp}
              ></canvas>
              <div class="baseline" part="baseline"></div>`
          : html`<div class="typed">
              <label
                >${t.term('nameLabel')}
                <input part="input" type="text" autocomplete="name" placeholder=${t.term('placeholder')} .value=${this.typedName} ?disabled=${off} @input=${this.onTyped}
              /></label>
              <div class="preview" part="preview" role="img" aria-label=${`${t.term('preview')}: ${this.typedName}`} .style=${`--_ink:${this.penColor}`}>${this.renderPreview()}</div>
            </div>`}
      </div>
      <div class="status ${this.messageKind}" part="status" role=${this.messageKind === 'error' ? 'alert' : 'status'}>${this.message}</div>
      ${this.messageKind === 'error' && this.message ? technicalDetails(t.locale, [this.detail]) : nothing}
      <div class="visually-hidden announce" aria-live="polite">${this.announcement}</div>
    `;
  }
}

/** Keeps the pointer's events coming to us when it leaves the pad (ignored for synthetic pointers). */
export function capture(e: PointerEvent): void {
  try {
    (e.currentTarget as Element).setPointerCapture(e.pointerId);
  } catch {
    // not an active pointer (a synthetic event): nothing to capture
  }
}

declare global {
  interface HTMLElementEventMap {
    signed: CustomEvent<SignedDetail>;
  }
}
