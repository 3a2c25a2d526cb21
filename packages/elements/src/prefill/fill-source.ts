import { css, html } from 'lit';
import { property } from 'lit/decorators.js';
import { SidianElement } from '../shared/base';
import { LocalizeController } from '../shared/localize';
import { fillSourceStrings } from './fill-source.strings';
import type { PrefillSource } from './prefill';

/**
 * The marker `prefill()` puts after each input it filled: where the value came from (a licence of
 * the registry, or the applicant's verified identity), in full in its tooltip and accessible
 * description, and whether the applicant has since changed it.
 *
 * @summary 自动填充来源: "来自营业执照" beside a filled input; "已修改" once the applicant edits it.
 *
 * @csspart marker - The visible label.
 *
 * @cssprop --sidian-color-success - The label of a value as filled.
 * @cssprop --sidian-color-warning - The label of an edited value.
 */
export class SidianFillSource extends SidianElement {
  static override styles = css`
    :host {
      display: inline-block;
      font-size: 0.8em;
      margin-inline-start: 0.4em;
      vertical-align: middle;
    }
    [part~='marker'] {
      color: var(--sidian-color-success, #1a7f37);
      border: 1px solid currentColor;
      border-radius: 0.8em;
      padding: 0 0.5em;
      white-space: nowrap;
    }
    :host([edited]) [part~='marker'] {
      color: var(--sidian-color-warning, #9a6700);
      border-style: dashed;
    }
    .detail {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip-path: inset(50%);
      white-space: nowrap;
    }
  `;

  /** Where the value came from. */
  @property({ attribute: false }) source?: PrefillSource;
  /** The applicant changed the filled value. */
  @property({ type: Boolean, reflect: true }) edited = false;

  private readonly t = new LocalizeController(this, fillSourceStrings);

  /** The visible label, in the current language. */
  get label(): string {
    const from = this.fromText();
    return this.edited ? this.t.term('editedFrom', from) : from;
  }

  /** The full description: licence type, number, issuer and status, or the identity. */
  get detail(): string {
    const s = this.source;
    const base =
      s?.kind === 'licence'
        ? this.t.term(
            'licenceDetail',
            s.typeName ?? '',
            s.number ?? '',
            s.issuer?.name ?? '',
            this.t.table.status[s.status ?? ''] ?? s.status ?? '',
          )
        : this.t.term('identityDetail');
    return this.edited ? `${this.t.term('editedHint')}。${base}` : base;
  }

  private fromText(): string {
    const s = this.source;
    return s?.kind === 'licence' ? this.t.term('fromLicence', s.typeName ?? '') : this.t.term('fromIdentity');
  }

  override render() {
    return html`<span part="marker" title=${this.detail}>${this.edited ? '✎' : '✓'} ${this.label}</span
      ><span class="detail">${this.detail}</span>`;
  }
}

if (!customElements.get('sidian-fill-source')) customElements.define('sidian-fill-source', SidianFillSource);

declare global {
  interface HTMLElementTagNameMap {
    'sidian-fill-source': SidianFillSource;
  }
}
