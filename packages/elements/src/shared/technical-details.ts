/**
 * Technical details (error codes, the engine's own English message, DocMDP, PAdES levels, field
 * names) stay available to a clerk or a developer, folded away behind a native disclosure so that
 * a citizen reads only the plain sentence above it.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { Locale } from './localize';

export const technicalDetailsLabel: Record<Locale, string> = { 'zh-CN': '技术详情', en: 'Technical details' };

/** `<details part="technical">` with `lines`, or nothing when there are none. */
export function technicalDetails(
  locale: Locale,
  lines: (string | null | undefined)[],
): TemplateResult | typeof nothing {
  const shown = lines.filter((l): l is string => !!l);
  if (!shown.length) return nothing;
  return html`<details class="technical" part="technical">
    <summary>${technicalDetailsLabel[locale]}</summary>
    ${shown.map((l) => html`<code>${l}</code><br />`)}
  </details>`;
}

/** "CODE: the thrown message", the line a technical disclosure shows for an error. */
export function errorDetail(e: unknown, code: string): string {
  const message = (e as Error | null)?.message;
  return message && message !== code ? `${code}: ${message}` : code;
}
