/**
 * Localisation controller (after Shoelace's LocalizeController): zh-CN by default, English when the
 * element or an ancestor (or the document) carries `lang="en…"`. Each element brings its own
 * strings; changing `lang` anywhere above re-renders every connected element.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export type Locale = 'zh-CN' | 'en';

/** A string table: plain text, functions of arguments (counts, page numbers), or nested tables (error codes). */
export type Strings = Record<string, unknown>;
export type Translations<S extends Strings> = { 'zh-CN': S; en: { [K in keyof S]: S[K] } };

const connected = new Set<ReactiveControllerHost>();
let observer: MutationObserver | undefined;

function watchDocumentLang(): void {
  if (observer || typeof MutationObserver === 'undefined') return;
  observer = new MutationObserver(() => connected.forEach((h) => h.requestUpdate()));
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
}

/** The locale for a `lang` value: anything starting with "en" is English, everything else zh-CN. */
export function resolveLocale(lang: string | null | undefined): Locale {
  return lang && /^en\b/i.test(lang) ? 'en' : 'zh-CN';
}

export class LocalizeController<S extends Strings> implements ReactiveController {
  private readonly host: ReactiveControllerHost & HTMLElement;
  private readonly translations: Translations<S>;

  constructor(host: ReactiveControllerHost & HTMLElement, translations: Translations<S>) {
    this.host = host;
    this.translations = translations;
    host.addController(this);
  }

  hostConnected(): void {
    connected.add(this.host);
    watchDocumentLang();
  }

  hostDisconnected(): void {
    connected.delete(this.host);
  }

  /** The effective `lang`: the element's own, else the closest ancestor's, else the document's. */
  get lang(): string {
    // the property first: during a render Lit has not yet reflected a new value to the attribute
    const own = this.host.lang || this.host.getAttribute('lang');
    if (own) return own;
    const ancestor = this.host.parentElement?.closest('[lang]')?.getAttribute('lang');
    return ancestor || document.documentElement.lang || 'zh-CN';
  }

  get locale(): Locale {
    return resolveLocale(this.lang);
  }

  /** The whole table of the current locale (for nested tables such as error messages by code). */
  get table(): S {
    return this.translations[this.locale] as S;
  }

  /** The translated string for `key` (falling back to zh-CN), called with `args` when it is a function. */
  term<K extends keyof S>(key: K, ...args: S[K] extends (...a: infer A) => string ? A : []): string {
    const table = this.translations[this.locale] as S;
    const entry = (table[key] ?? this.translations['zh-CN'][key]) as string | ((...a: unknown[]) => string);
    return typeof entry === 'function' ? entry(...args) : entry;
  }

  /** A number formatted for the locale (coordinates, sizes). */
  number(n: number, options?: Intl.NumberFormatOptions): string {
    return new Intl.NumberFormat(this.locale, options).format(n);
  }
}
