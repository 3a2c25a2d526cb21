/**
 * The base of every Sidian element: a LitElement whose `lang` attribute is observed (so strings
 * switch language at once) and a typed, bubbling, composed `emit`.
 */
import { LitElement } from 'lit';
import { property } from 'lit/decorators.js';

export class SidianElement extends LitElement {
  /** UI language: zh-CN (default) or en. Inherited from ancestors and the document when unset. */
  @property({ reflect: true }) override lang = '';

  /** Dispatches a bubbling, composed CustomEvent whose detail is plain data. */
  protected emit<K extends keyof HTMLElementEventMap>(
    type: K,
    detail: HTMLElementEventMap[K] extends CustomEvent<infer D> ? D : never,
  ): boolean {
    return this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true, cancelable: false }));
  }
}
