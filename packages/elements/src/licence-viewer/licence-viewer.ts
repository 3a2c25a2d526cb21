import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { property, state } from 'lit/decorators.js';
import {
  isLicenceStatus,
  isLicenceWithdrawal,
  licenceValidity,
  type LicenceStatus,
  type PdfSealReport,
  type SealedSignatureReport,
  type SignatureReport,
  type VerificationReport,
} from '@sidian/core';
import { SidianElement } from '../shared/base';
import { fetchBytes } from '../shared/bytes';
import { SidianElementError, errorCode } from '../shared/errors';
import { LocalizeController } from '../shared/localize';
import { pdfViewLabels } from '../shared/pdf-strings';
import { PdfViewController, preloadPdfjs, type PageSize } from '../shared/pdf-view';
import { pdfViewStyles } from '../shared/pdf-view.styles';
import { baseStyles } from '../shared/styles';
import { errorDetail, technicalDetails } from '../shared/technical-details';
import { licenceViewerStyles } from './licence-viewer.styles';
import { licenceViewerStrings } from './licence-viewer.strings';
import {
  checkLicenceOffThread,
  type LicenceInfo,
  type PageGeometry,
  type SealRegistryStatus,
} from './verifier';

export { readLicenceInfo, type LicenceInfo, type SealRegistryStatus } from './verifier';

/**
 * What the banner says: the document's verification status, overridden by the registry (cancelled
 * 注销, revoked 吊销, suspended 中止) and the licence's validity dates (expired, not yet valid) when
 * the seals themselves are not invalid.
 */
export type LicenceVerdict =
  | 'valid'
  | 'invalid'
  | 'indeterminate'
  | 'unsigned'
  | 'cancelled'
  | 'revoked'
  | 'suspended'
  | 'expired'
  | 'not-yet-valid';

export type LicenceViewerState = 'empty' | 'loading' | 'verifying' | 'verified' | 'error';

/** What the registry (`status-url`) said about the licence. */
export interface RegistryStatus {
  /**
   * The registry's status (`valid`, `cancelled` 注销, `revoked` 吊销, `suspended` 中止, `expired`,
   * `not-yet-valid`); `unknown` when the registry has no such licence; `unavailable` when it could not be asked.
   */
  status: LicenceStatus | 'unknown' | 'unavailable';
  /** When the licence was cancelled, revoked or suspended. */
  revokedAt?: string | null;
  /** Why, as the department gave it. */
  revocationReason?: string | null;
  /** SHA-256 of the registered file, when the registry gives it. */
  sha256?: string;
}

export interface VerifiedDetail {
  /** The report of DESIGN.md, as `verifyPdf` (and `POST /api/verify`) give it. */
  report: VerificationReport;
  /** What the banner shows. */
  verdict: LicenceVerdict;
  licence: LicenceInfo | null;
  registry: RegistryStatus | null;
  /** The seal registry's answer (`seal-status-url`) for each GB/T 38540 seal, by esID; empty without it. */
  seals: Record<string, SealRegistryStatus>;
}

/** 1-based page and the rectangle of one seal widget in percent of the displayed page. */
interface SealMark {
  signature: number;
  page: number;
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Shows an e-licence (电子证照) and whether it is genuine, current and unchanged: verification in the
 * browser with the same engine as the server, the licence's fields from its embedded licence.json,
 * the registry's word on revocation, a mark on each seal.
 *
 * @summary 电子证照查验: banner, licence fields, a panel per signature and seal marks on the pages.
 *
 * @event verified - Verification finished: `{report, verdict, licence, registry, seals}` (`report` is the report of DESIGN.md).
 *
 * @csspart banner - The status banner (also `banner-valid`, `banner-invalid`, … by verdict).
 * @csspart toolbar - Page navigation, zoom, verify again, print.
 * @csspart viewport - The scrolling column of pages.
 * @csspart page - One page.
 * @csspart canvas - A page's rendering.
 * @csspart mark - The mark over a seal's rectangle (also `mark-valid`, `mark-invalid`, `mark-indeterminate`).
 * @csspart watermark - The purpose-of-use watermark over each page.
 * @csspart details - The side panel with licence fields and signatures.
 * @csspart licence - The licence fields.
 * @csspart signature - One signature's panel.
 * @csspart button - Every button.
 *
 * @cssprop --sidian-color-success - Valid banner and marks.
 * @cssprop --sidian-color-danger - Invalid and revoked banner and marks.
 * @cssprop --sidian-color-warning - Indeterminate, expired and unsigned banner and marks.
 * @cssprop --sidian-viewer-height - Height of the page column (default 70vh).
 * @cssprop --sidian-watermark-color - Colour of the watermark text.
 */
export class LicenceViewer extends SidianElement {
  static override styles = [baseStyles, pdfViewStyles, licenceViewerStyles];

  /** URL of the licence PDF (fetched with same-origin credentials). */
  @property() src?: string;
  /**
   * Trust anchors: a URL answering PEM certificates (e.g. the server's `/api/trust`), or PEM text
   * itself. `.trustAnchors` (DER or PEM) takes precedence and needs no network (offline verification).
   */
  @property() trust?: string;
  /**
   * The licence registry: `{id}` in the URL is replaced by the licence identifier, otherwise the
   * identifier is appended (`https://…/api/licences/`). Revoked and expired licences show as such.
   */
  @property({ attribute: 'status-url' }) statusUrl?: string;
  /**
   * The seal registry for GB/T 38540 seals (e.g. the server's `/api/seals/{esID}`): `{esID}` in the
   * URL is replaced by each seal's code, otherwise the code is appended; fetched with same-origin
   * credentials. A revoked seal (注销) makes its signature invalid; a seal the registry does not
   * know, or a registry that cannot be reached, leaves it unconfirmed. Without it nothing is asked.
   */
  @property({ attribute: 'seal-status-url' }) sealStatusUrl?: string;
  /**
   * Anchors for the makers (制章者) of GB/T 38540 seals: a URL answering PEM (the server's
   * `/api/seals/trust`) or PEM text; `.sealTrustAnchors` takes precedence. Default: the `trust` anchors.
   * When the URL cannot be fetched, no maker is trusted (a seal is then at best indeterminate).
   */
  @property({ attribute: 'seal-trust' }) sealTrust?: string;
  /** Seal makers' anchors as DER bytes or PEM text; when set, `seal-trust` is not fetched. */
  @property({ attribute: false }) sealTrustAnchors?: (Uint8Array | string)[];
  /** Purpose of use shown across every page, on screen and in print (仅供办理…使用); the file is not touched. */
  @property() watermark?: string;
  /** Trust anchors as DER bytes or PEM text; when set, `trust` is not fetched. */
  @property({ attribute: false }) trustAnchors?: (Uint8Array | string)[];

  /** Where the element is: empty, loading, verifying, verified or error. */
  @property({ reflect: true }) state: LicenceViewerState = 'empty';
  /** The verdict shown in the banner (after verification). */
  @property({ reflect: true }) verdict?: LicenceVerdict;

  @state() private documentBytes?: Uint8Array;
  @state() private verification?: VerifiedDetail;
  @state() private errorMessage = '';
  /** The code and the engine's own message of the error, behind 技术详情. */
  @state() private errorDetail = '';
  private pageGeometry: Record<number, PageGeometry> = {};
  private marks: SealMark[] = [];
  private loadToken = 0;
  private verifyToken = 0;
  private verifying?: Promise<VerificationReport>;
  private opening?: Promise<void>;
  /** The trust anchors, fetched while the document downloads (dropped when `trust` changes meanwhile). */
  private trustPrefetch?: Promise<(Uint8Array | string)[]>;

  private readonly t = new LocalizeController(this, licenceViewerStrings);
  private readonly view = new PdfViewController(this, { onPageChange: () => this.requestUpdate() });

  /** The PDF bytes (set directly, or fetched from `src`). */
  get document(): Uint8Array | undefined {
    return this.documentBytes;
  }
  set document(bytes: Uint8Array | undefined) {
    this.src = undefined;
    void this.load(bytes);
  }

  /** The last verification report (DESIGN.md), undefined before the first. */
  get report(): VerificationReport | undefined {
    return this.verification?.report;
  }
  /** The licence metadata read from the sealed revision, with its identifier check. */
  get licence(): LicenceInfo | null {
    return this.verification?.licence ?? null;
  }
  /** The registry's answer (with `status-url`). */
  get registry(): RegistryStatus | null {
    return this.verification?.registry ?? null;
  }
  /** The seal registry's answers (with `seal-status-url`), by esID. */
  get sealRegistry(): Record<string, SealRegistryStatus> {
    return this.verification?.seals ?? {};
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('src') && this.src) void this.load(this.src);
    const reverify =
      changed.has('trust') ||
      changed.has('statusUrl') ||
      changed.has('sealStatusUrl') ||
      changed.has('sealTrust') ||
      changed.has('sealTrustAnchors') ||
      changed.has('trustAnchors');
    if (changed.has('trust') || changed.has('trustAnchors')) this.trustPrefetch = undefined;
    // set before `.document` in the same task, they are already what the running verification uses:
    // verifying again would do the work (and ask the registries) twice
    const inputs = this.verificationInputs();
    const stale = !this.verifiedWith || inputs.some((x, i) => !Object.is(x, this.verifiedWith![i]));
    if (reverify && stale && this.documentBytes && this.state !== 'loading' && this.state !== 'empty')
      void this.verify().catch(() => {});
  }

  /**
   * Verifies the document (seals against the trust anchors, licence.json, registry) and returns the
   * report; the banner, panels and marks follow, and `verified` is dispatched. Rejects with a coded
   * error (NO_DOCUMENT, FETCH_FAILED, TRUST_FETCH_FAILED, or the engine's SidianError).
   */
  async verify(): Promise<VerificationReport> {
    return this.startVerification(this.resolveTrustAnchors());
  }

  /** What a verification depends on besides the document, as it started (compared by identity). */
  private verifiedWith?: readonly unknown[];
  private verificationInputs(): readonly unknown[] {
    return [
      this.trust,
      this.trustAnchors,
      this.statusUrl,
      this.sealStatusUrl,
      this.sealTrust,
      this.sealTrustAnchors,
    ];
  }

  private startVerification(trust: Promise<(Uint8Array | string)[]>): Promise<VerificationReport> {
    this.verifiedWith = this.verificationInputs();
    const token = ++this.verifyToken;
    const run = this.runVerification(token, trust);
    this.verifying = run;
    return run;
  }

  /** Resolves when the current load, verification and first rendering have finished (tests, screenshots). */
  async verified(): Promise<VerificationReport | undefined> {
    await this.updateComplete;
    while (this.state === 'loading' || this.state === 'verifying') {
      await (this.verifying?.catch(() => undefined) ?? new Promise((r) => setTimeout(r, 20)));
      await new Promise((r) => setTimeout(r, 0));
    }
    await this.opening?.catch(() => undefined);
    await this.view.rendered();
    await this.updateComplete;
    return this.report;
  }

  private async runVerification(
    token: number,
    trust: Promise<(Uint8Array | string)[]>,
  ): Promise<VerificationReport> {
    try {
      const pdf = this.documentBytes;
      if (!pdf) throw new SidianElementError('NO_DOCUMENT', 'no document: set src or .document');
      this.state = 'verifying';
      this.verdict = undefined;
      // the seals' options as this verification starts (verifiedWith), their anchors fetched meanwhile
      const sealUrl = this.sealStatusUrl?.trim();
      const sealRegistry = sealUrl ? { url: sealUrl, base: document.baseURI } : undefined;
      const sealTrust = this.resolveSealTrustAnchors();
      const trustAnchors = await trust;
      const sealTrustAnchors = await sealTrust;
      // in a worker: the main thread stays free to draw the pages meanwhile
      const { report, licence, pages, seals } = await checkLicenceOffThread(pdf, trustAnchors, {
        sealRegistry,
        sealTrustAnchors,
      });
      if (token !== this.verifyToken) return report;
      this.pageGeometry = pages;
      const registry = licence && this.statusUrl ? await this.askRegistry(licence.metadata.identifier) : null;
      if (token !== this.verifyToken) return report;
      const verdict = decideVerdict(report, licence, registry);
      this.marks = this.sealMarks(report);
      this.verification = { report, verdict, licence, registry, seals };
      this.verdict = verdict;
      this.state = 'verified';
      this.errorMessage = '';
      this.emit('verified', { report, verdict, licence, registry, seals });
      return report;
    } catch (e) {
      if (token === this.verifyToken) this.fail(e);
      throw e;
    }
  }

  private async resolveTrustAnchors(): Promise<(Uint8Array | string)[]> {
    if (this.trustAnchors) return this.trustAnchors;
    const trust = this.trust?.trim();
    if (!trust) return [];
    if (trust.startsWith('-----BEGIN')) return [trust];
    try {
      return [new TextDecoder().decode(await fetchBytes(trust))];
    } catch (e) {
      throw new SidianElementError(
        'TRUST_FETCH_FAILED',
        `could not fetch the trust anchors: ${(e as Error).message}`,
      );
    }
  }

  /**
   * The seal makers' anchors. A failed fetch is not the document's error (most carry no GB/T 38540
   * seal, and a server without a seal authority answers 503): the makers are then checked against
   * no anchor, so a seal cannot show valid (SES_MAKER_TRUST_UNKNOWN: indeterminate).
   */
  private async resolveSealTrustAnchors(): Promise<(Uint8Array | string)[] | undefined> {
    if (this.sealTrustAnchors) return this.sealTrustAnchors;
    const trust = this.sealTrust?.trim();
    if (!trust) return undefined;
    if (trust.startsWith('-----BEGIN')) return [trust];
    try {
      return [new TextDecoder().decode(await fetchBytes(trust))];
    } catch {
      return [];
    }
  }

  private async askRegistry(identifier: string): Promise<RegistryStatus> {
    const base = this.statusUrl!;
    const url = base.includes('{id}')
      ? base.replace('{id}', encodeURIComponent(identifier))
      : `${base.replace(/\/+$/, '')}/${encodeURIComponent(identifier)}`;
    try {
      const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (res.status === 404) return { status: 'unknown' };
      if (!res.ok) return { status: 'unavailable' };
      const body = (await res.json()) as {
        status?: string;
        revokedAt?: string | null;
        revocationReason?: string | null;
        sha256?: string;
      };
      const status = isLicenceStatus(body.status) ? body.status : 'unavailable';
      return {
        status,
        revokedAt: body.revokedAt ?? null,
        revocationReason: body.revocationReason ?? null,
        sha256: body.sha256,
      };
    } catch {
      return { status: 'unavailable' };
    }
  }

  /** Opens a document from a URL (`src`) or bytes (`.document`), renders it and verifies it. */
  private async load(source: string | Uint8Array | undefined): Promise<void> {
    const token = ++this.loadToken;
    this.verifyToken++;
    this.verification = undefined;
    this.verdict = undefined;
    this.marks = [];
    if (!source) {
      this.documentBytes = undefined;
      this.view.close();
      this.state = 'empty';
      return;
    }
    this.state = 'loading';
    // pdf.js (its main-thread part and its worker) and the trust anchors download while the document does
    void preloadPdfjs().catch(() => {});
    const trust = this.resolveTrustAnchors();
    trust.catch(() => {}); // a failure is reported by the verification that awaits it
    this.trustPrefetch = trust;
    try {
      const bytes = typeof source === 'string' ? await fetchBytes(source) : source;
      if (token !== this.loadToken) return;
      this.documentBytes = bytes;
      // Rendering and verification run side by side: pdf.js parses and draws in its worker, and the
      // first page shows while the seals are checked in the verification worker. Our own parse
      // (the pages' geometry for the seal marks) is part of that check, not a step before pdf.js.
      // The verification worker starts only now, with the bytes it needs: started with pdf.js's, its
      // start-up took CPU from pdf.js's worker start-up, which page 1 waits for (bench/viewer, 2 cores).
      const opening = this.view.open(bytes);
      this.opening = opening;
      const prefetched = this.trustPrefetch;
      this.trustPrefetch = undefined;
      const verifying = this.startVerification(prefetched ?? this.resolveTrustAnchors());
      await Promise.allSettled([opening, verifying]);
      await opening;
    } catch (e) {
      if (token !== this.loadToken) return;
      // the engine's reason (not a PDF, no xref…) is clearer than pdf.js's: it stays when both failed
      if ((this.state as LicenceViewerState) !== 'error') this.fail(e);
    }
  }

  private fail(e: unknown): void {
    const code = errorCode(e);
    const table = this.t.table.errors;
    this.errorMessage = table[code] ?? table.UNKNOWN!;
    this.errorDetail = errorDetail(e, code);
    this.state = 'error';
  }

  /** Each seal widget's rectangle, from user space to percent of the page as displayed (crop box, /Rotate). */
  private sealMarks(report: VerificationReport): SealMark[] {
    const marks: SealMark[] = [];
    report.signatures.forEach((s, i) => {
      for (const w of s.widgets ?? []) {
        const g = this.pageGeometry[w.page];
        if (!g) continue;
        const [x1, y1, x2, y2] = w.rect;
        if (Math.abs(x2 - x1) < 1 || Math.abs(y2 - y1) < 1) continue; // invisible signature
        const [cx0, cy0, cx1, cy1] = g.cropBox;
        const pw = cx1 - cx0;
        const ph = cy1 - cy0;
        const map = (x: number, y: number): [number, number] => {
          switch (g.rotate) {
            case 90:
              return [(y - cy0) / ph, (x - cx0) / pw];
            case 180:
              return [(cx1 - x) / pw, (y - cy0) / ph];
            case 270:
              return [(cy1 - y) / ph, (cx1 - x) / pw];
            default:
              return [(x - cx0) / pw, (cy1 - y) / ph];
          }
        };
        const [ua, va] = map(x1, y1);
        const [ub, vb] = map(x2, y2);
        marks.push({
          signature: i,
          page: w.page,
          left: Math.min(ua, ub) * 100,
          top: Math.min(va, vb) * 100,
          width: Math.abs(ub - ua) * 100,
          height: Math.abs(vb - va) * 100,
        });
      }
    });
    return marks;
  }

  private focusSignature(i: number): void {
    const panel = this.renderRoot.querySelector<HTMLElement>(`#signature-${i}`);
    panel?.scrollIntoView({ block: 'nearest' });
    panel?.focus();
  }

  // ---- rendering -----------------------------------------------------------------------------

  override render(): TemplateResult {
    const pdfLabels = pdfViewLabels[this.t.locale];
    return html`<section class="viewer" aria-label=${this.t.term('region')}>
      ${this.renderBanner()}
      <div class="toolbar" part="toolbar">
        ${this.view.renderControls(pdfLabels)}
        <span class="spacer"></span>
        <button
          type="button"
          part="button"
          ?disabled=${!this.documentBytes || this.state === 'verifying'}
          @click=${() => void this.verify().catch(() => {})}
        >
          ${this.t.term('reverify')}
        </button>
        <button type="button" part="button" ?disabled=${!this.documentBytes} @click=${() => window.print()}>
          ${this.t.term('print')}
        </button>
      </div>
      <div class="body">
        <div class="pages">
          ${this.documentBytes || this.state === 'loading' ? this.view.renderPages(this.t.term('pages'), (i, size) => this.renderOverlay(i, size)) : nothing}
        </div>
        ${this.renderDetails()}
      </div>
    </section>`;
  }

  private renderBanner(): TemplateResult {
    const t = this.t;
    let kind: string;
    let title: string;
    let text: string | TemplateResult = '';
    if (this.state === 'error') {
      kind = 'error';
      title = t.term('loadFailed');
      text = this.errorMessage;
    } else if (this.state === 'empty') {
      kind = 'empty';
      title = t.term('noDocument');
    } else if (this.state === 'loading' || this.state === 'verifying' || !this.verification) {
      kind = 'busy';
      title = t.term(this.state === 'loading' ? 'loading' : 'verifying');
    } else {
      const v = this.verification;
      kind = v.verdict;
      title = t.table.verdictTitle[v.verdict];
      const extra: string[] = [];
      if (isLicenceWithdrawal(v.verdict) && v.registry?.revokedAt)
        extra.push(
          t.term('withdrawnAt', v.verdict, v.registry.revokedAt, v.registry.revocationReason ?? null),
        );
      if (v.registry?.status === 'unavailable') extra.push(t.term('registryUnavailable'));
      if (v.registry?.status === 'unknown') extra.push(t.term('registryUnknown'));
      const seals = this.sealRegistryLines(v);
      // a revoked seal alone: its words replace the generic "changed or damaged" text
      const generic = v.verdict === 'invalid' && seals.revokedOnly ? [] : [t.table.verdictText[v.verdict]];
      text = html`${[...generic, ...seals.lines, ...extra].map((e, i) => (i ? html`<br />${e}` : e))}`;
    }
    const icon =
      {
        valid: '✓',
        invalid: '✕',
        revoked: '✕',
        cancelled: '✕',
        suspended: '!',
        error: '!',
        indeterminate: '?',
        unsigned: '?',
        expired: '!',
        'not-yet-valid': '!',
      }[kind] ?? '…';
    return html`<div
      class="banner banner-${kind}"
      part="banner banner-${kind}"
      role="status"
      aria-live="polite"
      aria-atomic="true"
    >
      <span class="banner-icon" aria-hidden="true">${icon}</span>
      <div>
        <strong class="banner-title">${title}</strong>
        ${text ? html`<p class="banner-text">${text}</p>` : nothing}
        ${kind === 'error' ? technicalDetails(t.locale, [this.errorDetail]) : nothing}
        ${this.watermark ? html`<p class="banner-text watermark-note">${t.term('watermarkNote', this.watermark)}</p>` : nothing}
      </div>
    </div>`;
  }

  /**
   * The seal registry's word on each GB/T 38540 seal, once per seal: revoked (when, why), unknown to
   * it, or not reachable. `revokedOnly`: the revocation is the only reason any signature is invalid.
   */
  private sealRegistryLines(v: VerifiedDetail): { lines: string[]; revokedOnly: boolean } {
    const t = this.t;
    const lines: string[] = [];
    const seen = new Set<string>();
    let revoked = false;
    for (const s of v.report.signatures as SealedSignatureReport[]) {
      const seal = s.gbSeal;
      const r = seal ? v.seals[seal.esID] : undefined;
      if (!seal || !r || seen.has(seal.esID)) continue;
      seen.add(seal.esID);
      if (r.status === 'revoked') {
        revoked = true;
        lines.push(t.term('sealRevoked', seal.name, r.revokedAt ?? null, r.revocationReason ?? null));
      } else if (r.status === 'unknown') lines.push(t.term('sealUnknown', seal.name));
      else if (r.status === 'unavailable') lines.push(t.term('sealRegistryUnavailable', seal.name));
    }
    const revokedOnly =
      revoked &&
      (v.report.signatures as SealedSignatureReport[])
        .filter((s) => s.status === 'invalid')
        .every(
          (s) =>
            s.integrity === 'ok' &&
            s.coverage !== 'partial' &&
            s.modificationsAfter !== 'disallowed' &&
            s.trust !== 'revoked' &&
            !!s.gbSeal?.problems.some((p) => p.code === 'SES_SEAL_REVOKED') &&
            s.gbSeal.problems.every((p) => p.severity !== 'invalid' || p.code === 'SES_SEAL_REVOKED'),
        );
    return { lines, revokedOnly };
  }

  private renderOverlay(index: number, _size: PageSize): TemplateResult {
    const v = this.verification;
    const marks = this.marks.filter((m) => m.page === index + 1);
    return html`${
      this.watermark
        ? html`<div class="watermark" part="watermark" aria-hidden="true">
            ${Array.from({ length: 12 }, () => html`<span>${this.watermark}</span>`)}
          </div>`
        : nothing
    }
    ${
      v
        ? marks.map((m) => {
            const s = v.report.signatures[m.signature]!;
            const status = this.t.table.status[s.status] ?? s.status;
            return html`<button
              type="button"
              class="mark mark-${s.status}"
              part="mark mark-${s.status}"
              .style=${`left:${m.left}%;top:${m.top}%;width:${m.width}%;height:${m.height}%`}
              aria-label=${this.t.term('mark', m.signature + 1, signatureLabel(s, this.t.table.kind), status)}
              title=${`${this.t.term('signature', m.signature + 1, signatureLabel(s, this.t.table.kind))}${this.t.term('colon')}${status}`}
              @click=${() => this.focusSignature(m.signature)}
            >
              <span class="mark-badge" aria-hidden="true"
                >${s.status === 'valid' ? '✓' : s.status === 'invalid' ? '✕' : '?'}</span
              >
            </button>`;
          })
        : nothing
    }`;
  }

  private renderDetails(): TemplateResult | typeof nothing {
    const v = this.verification;
    // A verdict that comes while pdf.js draws page 1 fills the panel once the page is on screen (the
    // banner says it at once): the panel's text and its layout took 40-100 ms of the main thread,
    // which pdf.js's drawing needs then (bench/viewer).
    const drawingFirstPage = this.view.state === 'ready' && !this.view.showsAllPages;
    if (v && drawingFirstPage) return html`<aside class="details" part="details" aria-busy="true"></aside>`;
    if (!v) {
      // The panel's place is kept while the seals are checked: the page column keeps its width when
      // the verdict comes, so the first page is not drawn twice (and nothing on screen jumps).
      if (this.state !== 'loading' && this.state !== 'verifying') return nothing;
      return html`<aside class="details" part="details" aria-busy="true">
        <p>${this.t.term(this.state === 'loading' ? 'loading' : 'verifying')}</p>
      </aside>`;
    }
    return html`<aside class="details" part="details">
      ${this.renderLicence(v)}
      <h2>${this.t.term('signaturesHeading')}</h2>
      ${v.report.signatures.map((s, i) => this.renderSignature(s, i))}
    </aside>`;
  }

  private renderLicence(v: VerifiedDetail): TemplateResult {
    const t = this.t;
    const f = t.table.fields;
    const l = v.licence;
    if (!l)
      return html`<section class="licence" part="licence">
        <h2>${t.term('licenceHeading')}</h2>
        <p>${t.term('noLicence')}</p>
      </section>`;
    const m = l.metadata;
    const row = (label: string, value: unknown, extra?: TemplateResult) =>
      html`<dt>${label}</dt>
        <dd>${String(value ?? '')}${extra ?? nothing}</dd>`;
    const data = m.data && typeof m.data === 'object' ? Object.entries(m.data) : [];
    return html`<section class="licence" part="licence">
      <h2>${t.term('licenceHeading')}</h2>
      ${l.changedAfterSealing ? html`<p class="warning">${t.term('licenceChanged')}</p>` : nothing}
      <dl>
        ${row(f.typeName!, m.typeName)} ${row(f.number!, m.number)}
        ${row(
          f.identifier!,
          m.identifier,
          html`<span class=${l.identifierValid ? 'check ok' : 'check bad'}>
            (${l.identifierValid ? t.term('identifierOk') : t.term('identifierBad')})</span
          >`,
        )}
        ${row(f.holder!, m.holder?.name)}
        ${row(f.holderId!, `${m.holder?.idType ?? ''} ${maskId(m.holder?.idNumber)}`)}
        ${row(f.issuer!, m.issuer?.name)} ${row(f.issuerCode!, m.issuer?.creditCode)}
        ${row(f.issueDate!, m.issueDate)}
        ${row(f.validity!, t.term('validityRange', m.validFrom, m.validUntil))}
        ${v.registry ? row(f.registry!, t.table.registryStatus[v.registry.status] ?? (v.registry.status === 'unknown' ? t.term('registryUnknown') : t.term('registryUnavailable'))) : nothing}
        ${data.map(([k, val]) => row(k, typeof val === 'object' ? JSON.stringify(val) : val))}
      </dl>
    </section>`;
  }

  /** 电子印章: the GB/T 38540 seal a signature carries (verifyPdf's `gbSeal`), with why it fails. */
  private renderGbSeal(s: SignatureReport): TemplateResult | typeof nothing {
    const seal = (s as SealedSignatureReport).gbSeal;
    if (!seal) return nothing;
    const t = this.t;
    const verdict = gbSealVerdict(seal);
    return html`<section class="gb-seal gb-seal-${seal.status}" part="gb-seal" data-verdict=${verdict}>
      <h4>${t.term('gbSealHeading')}</h4>
      <dl>
        <dt>${t.term('sealName')}</dt>
        <dd part="gb-seal-name">${seal.name}</dd>
        <dt>${t.term('sealType')}</dt>
        <dd>${t.term('sealTypeText', seal.type)}</dd>
        <dt>${t.term('sealValidity')}</dt>
        <dd>${t.term('sealValidityRange', seal.validStart, seal.validEnd)}</dd>
        <dt>${t.term('sealCode')}</dt>
        <dd>${seal.esID}</dd>
        <dt>${t.term('sealVerdict')}</dt>
        <dd part="gb-seal-verdict">${t.table.sealVerdictText[verdict] ?? verdict}</dd>
      </dl>
      ${
        seal.problems.length
          ? html`<ul part="gb-seal-problems">
              ${seal.problems.map((p) => html`<li>${t.term('sealProblem', p)}</li>`)}
            </ul>`
          : nothing
      }
    </section>`;
  }

  private renderSignature(s: SignatureReport, i: number): TemplateResult {
    const t = this.t;
    const row = (label: string, value: string | null | undefined) =>
      html`<dt>${label}</dt>
        <dd>${value ?? '—'}</dd>`;
    return html`<section
      class="signature signature-${s.status}"
      part="signature"
      id="signature-${i}"
      tabindex="-1"
      aria-labelledby="signature-${i}-title"
    >
      <h3 id="signature-${i}-title">
        ${t.term('signature', i + 1, signatureLabel(s, t.table.kind))}${t.term('colon')}<span
          class="sig-status"
          >${t.table.status[s.status] ?? s.status}</span
        >
      </h3>
      <dl>
        <dt>${t.term('level')}</dt>
        <dd>
          ${[t.table.kind[s.kind] ?? s.kind, s.level ? t.table.levelText[s.level] : null, s.docMdp ? t.table.docMdpText[s.docMdp] : null].filter(Boolean).join(t.term('separator'))}
        </dd>
        ${row(t.term('signer'), s.signer?.commonName)} ${row(t.term('organization'), s.signer?.organization)}
        ${
          s.algorithm
            ? html`<dt>${t.term('algorithm')}</dt>
                <dd part="algorithm">${t.table.algorithmText[s.algorithm] ?? s.algorithm}</dd>`
            : nothing
        }
        ${row(t.term('claimedTime'), s.claimedTime ? t.term('time', s.claimedTime) : null)}
        ${row(t.term('timestampTime'), s.timestampTime ? t.term('time', s.timestampTime) : t.term('noTimestamp'))}
        ${row(t.term('integrity'), t.table.integrityText[s.integrity] ?? s.integrity)}
        ${row(t.term('coverage'), t.table.coverageText[s.coverage] ?? s.coverage)}
        ${row(t.term('modificationsAfter'), t.table.modificationsText[s.modificationsAfter] ?? s.modificationsAfter)}
        ${row(t.term('chain'), `${t.table.trustText[s.trust] ?? s.trust}; ${t.term('chainText', s.signer?.issuer ?? null, s.chain?.length ?? 0)}`)}
      </dl>
      ${this.renderGbSeal(s)}
      <details class="technical" part="technical">
        <summary>${t.term('technical')}</summary>
        <dl>
          ${row(t.term('fieldName'), s.field)}
          ${row(t.term('standard'), [s.subFilter, s.level ? `PAdES ${s.level}` : null, s.docMdp ? `DocMDP P=${s.docMdp}` : null].filter(Boolean).join(' · '))}
        </dl>
        ${
          s.reasons.length
            ? html`<p>${t.term('reasons')}</p>
                <ul>
                  ${s.reasons.map((r) => html`<li>${r}</li>`)}
                </ul>`
            : nothing
        }
      </details>
    </section>`;
  }
}

/** The seal's verdict in one word: revoked or expired (GB/T 38540 §7) before the overall status. */
function gbSealVerdict(seal: PdfSealReport): string {
  const codes = seal.problems.map((p) => p.code);
  if (codes.includes('SES_SEAL_REVOKED')) return 'revoked';
  if (codes.includes('SES_SEAL_EXPIRED')) return 'expired';
  if (codes.includes('SES_SEAL_NOT_YET_VALID')) return 'not-yet-valid';
  return seal.status;
}

/** A signature as a person reads it: who signed (organisation, else name), else its kind; never the field name. */
function signatureLabel(s: SignatureReport, kinds: Record<string, string>): string {
  return s.signer?.organization || s.signer?.commonName || kinds[s.kind] || s.kind;
}

/** 居民身份证 numbers are shown masked (first 6 and last 4); organisation codes in full. */
function maskId(id: string | undefined): string {
  if (!id) return '';
  return /^\d{17}[\dXx]$/.test(id) ? `${id.slice(0, 6)}********${id.slice(-4)}` : id;
}

/** The banner's verdict: an invalid or unsigned document stays so; then revocation, then validity dates. */
export function decideVerdict(
  report: VerificationReport,
  licence: LicenceInfo | null,
  registry: RegistryStatus | null,
  at = new Date(),
): LicenceVerdict {
  if (report.status === 'invalid' || report.status === 'unsigned') return report.status;
  if (registry && isLicenceWithdrawal(registry.status)) return registry.status;
  if (registry?.status === 'expired' || registry?.status === 'not-yet-valid') return registry.status;
  if (licence?.metadata.validFrom) {
    const dates = licenceValidity(
      { validFrom: licence.metadata.validFrom, validUntil: licence.metadata.validUntil ?? null },
      at,
    );
    if (dates !== 'valid') return dates;
  }
  return report.status;
}

declare global {
  interface HTMLElementEventMap {
    verified: CustomEvent<VerifiedDetail>;
  }
}
