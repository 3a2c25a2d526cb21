import { css } from 'lit';

export const licenceViewerStyles = css`
  :host {
    --_warning: var(--sidian-color-warning, #8a5300);
    --_watermark: var(--sidian-watermark-color, rgba(180, 35, 24, 0.16));
  }
  .banner {
    display: flex;
    gap: var(--_gap);
    align-items: flex-start;
    padding: calc(var(--_gap) * 1.5);
    border: 2px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
    margin-bottom: var(--_gap);
  }
  .banner-title {
    font-size: 1.15em;
  }
  .banner-text {
    margin: 4px 0 0;
  }
  .banner-icon {
    flex: none;
    display: inline-grid;
    place-items: center;
    width: 1.8em;
    height: 1.8em;
    border-radius: 50%;
    font-weight: bold;
    color: var(--_on-primary);
    background: var(--_muted);
  }
  .banner-valid {
    border-color: var(--_success);
  }
  .banner-valid .banner-icon {
    background: var(--_success);
  }
  .banner-invalid,
  .banner-revoked,
  .banner-cancelled,
  .banner-error {
    border-color: var(--_danger);
  }
  .banner-invalid .banner-icon,
  .banner-revoked .banner-icon,
  .banner-cancelled .banner-icon,
  .banner-error .banner-icon {
    background: var(--_danger);
  }
  .banner-indeterminate,
  .banner-unsigned,
  .banner-expired,
  .banner-suspended,
  .banner-not-yet-valid {
    border-color: var(--_warning);
  }
  .banner-indeterminate .banner-icon,
  .banner-unsigned .banner-icon,
  .banner-expired .banner-icon,
  .banner-suspended .banner-icon,
  .banner-not-yet-valid .banner-icon {
    background: var(--_warning);
  }
  .toolbar {
    padding-left: 0;
    padding-right: 0;
  }
  .body {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_gap);
    align-items: flex-start;
  }
  .pages {
    flex: 3 1 420px;
    min-width: 0;
  }
  .details {
    flex: 1 1 260px;
    min-width: 0;
    max-height: var(--sidian-viewer-height, 70vh);
    overflow: auto;
  }
  .details h2 {
    font-size: 1.05em;
    margin: 0 0 var(--_gap);
  }
  .details h3 {
    font-size: 1em;
    margin: 0 0 4px;
  }
  .licence,
  .signature {
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: var(--_gap);
    margin-bottom: var(--_gap);
    background: var(--_surface);
  }
  .signature {
    border-left-width: 4px;
  }
  .signature-valid {
    border-left-color: var(--_success);
  }
  .signature-invalid {
    border-left-color: var(--_danger);
  }
  .signature-indeterminate {
    border-left-color: var(--_warning);
  }
  .signature:focus-visible {
    outline: none;
    box-shadow: var(--_focus);
  }
  dl {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 2px var(--_gap);
    margin: 0;
  }
  dt {
    color: var(--_muted);
  }
  dd {
    margin: 0;
    overflow-wrap: anywhere;
  }
  .check.ok {
    color: var(--_success);
  }
  .check.bad,
  .warning {
    color: var(--_danger);
  }
  .mark {
    position: absolute;
    padding: 0;
    min-width: 0;
    min-height: 0;
    background: transparent;
    border: 2px solid var(--_muted);
    border-radius: 2px;
  }
  .mark-valid {
    border-color: var(--_success);
  }
  .mark-invalid {
    border-color: var(--_danger);
  }
  .mark-indeterminate {
    border-color: var(--_warning);
  }
  .mark-badge {
    position: absolute;
    top: -0.9em;
    right: -0.9em;
    display: inline-grid;
    place-items: center;
    width: 1.6em;
    height: 1.6em;
    border-radius: 50%;
    font-size: 12px;
    font-weight: bold;
    color: var(--_on-primary);
    background: var(--_muted);
  }
  .mark-valid .mark-badge {
    background: var(--_success);
  }
  .mark-invalid .mark-badge {
    background: var(--_danger);
  }
  .mark-indeterminate .mark-badge {
    background: var(--_warning);
  }
  .watermark {
    position: absolute;
    inset: 0;
    overflow: hidden;
    pointer-events: none;
    display: flex;
    flex-wrap: wrap;
    align-content: space-around;
    justify-content: space-around;
    color: var(--_watermark);
    font-size: clamp(12px, 4cqw, 28px);
    font-weight: bold;
    container-type: inline-size;
    user-select: none;
    print-color-adjust: exact;
    -webkit-print-color-adjust: exact;
  }
  .watermark span {
    transform: rotate(-30deg);
    white-space: nowrap;
    padding: 2em 1em;
  }
  @media print {
    .toolbar,
    .details details {
      display: none;
    }
    .pdf-scroller {
      height: auto;
      overflow: visible;
    }
    .pdf-page {
      break-inside: avoid;
    }
  }
`;
