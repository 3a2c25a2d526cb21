/**
 * Shared styles: every colour, radius and font comes from a `--sidian-*` custom property with a
 * default here, so a department themes all elements from one stylesheet:
 *
 *   seal-placer, signature-pad { --sidian-color-primary: #0b5cad; --sidian-radius: 2px; }
 */
import { css } from 'lit';

export const baseStyles = css`
  :host {
    --_primary: var(--sidian-color-primary, #1d5fbf);
    --_on-primary: var(--sidian-color-on-primary, #ffffff);
    --_text: var(--sidian-color-text, #1f2329);
    --_muted: var(--sidian-color-muted, #575d66);
    --_surface: var(--sidian-color-surface, #ffffff);
    --_backdrop: var(--sidian-color-backdrop, #eef0f3);
    --_border: var(--sidian-color-border, #8a9099);
    --_danger: var(--sidian-color-danger, #b42318);
    --_success: var(--sidian-color-success, #136c2e);
    --_seal: var(--sidian-color-seal, #d40000);
    --_focus: var(--sidian-focus-ring, 0 0 0 3px rgba(29, 95, 191, 0.45));
    --_radius: var(--sidian-radius, 6px);
    --_gap: var(--sidian-spacing, 8px);
    display: block;
    box-sizing: border-box;
    color: var(--_text);
    font-family: var(--sidian-font-family, system-ui, -apple-system, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif);
    font-size: var(--sidian-font-size, 14px);
    line-height: 1.5;
  }
  :host([hidden]) {
    display: none;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  button {
    font: inherit;
    color: var(--_text);
    background: var(--_surface);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 4px 10px;
    min-height: 32px;
    min-width: 32px;
    cursor: pointer;
  }
  button.primary {
    background: var(--_primary);
    border-color: var(--_primary);
    color: var(--_on-primary);
  }
  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  button:focus-visible,
  input:focus-visible,
  select:focus-visible,
  [tabindex]:focus-visible {
    outline: none;
    box-shadow: var(--_focus);
  }
  input,
  select {
    font: inherit;
    color: var(--_text);
    background: var(--_surface);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 3px 6px;
    min-height: 32px;
  }
  .toolbar {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: var(--_gap);
    padding: var(--_gap);
  }
  .toolbar .spacer {
    flex: 1;
  }
  .status {
    min-height: 1.5em;
    padding: 0 var(--_gap);
    color: var(--_muted);
  }
  .status.error {
    color: var(--_danger);
  }
  .status.success {
    color: var(--_success);
  }
  .visually-hidden {
    position: absolute !important;
    width: 1px;
    height: 1px;
    padding: 0;
    margin: -1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
`;
