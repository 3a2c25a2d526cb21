import { css } from 'lit';

export const signaturePadStyles = css`
  .pad {
    position: relative;
    height: var(--sidian-pad-height, 200px);
    margin: 0 var(--_gap);
    background: var(--sidian-pad-background, var(--_surface));
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    overflow: hidden;
  }
  canvas {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
    touch-action: none;
    cursor: crosshair;
  }
  :host([disabled]) canvas {
    cursor: not-allowed;
  }
  .baseline {
    position: absolute;
    left: 8%;
    right: 8%;
    bottom: 28%;
    border-bottom: 1px dashed var(--_border);
    pointer-events: none;
  }
  .typed {
    display: flex;
    flex-direction: column;
    gap: var(--_gap);
    padding: var(--_gap);
    height: 100%;
  }
  .typed input {
    max-width: 20em;
  }
  .preview {
    flex: 1;
    display: flex;
    align-items: center;
    justify-content: center;
    color: var(--_ink);
    overflow: hidden;
    white-space: nowrap;
  }
  .preview svg {
    height: var(--sidian-signature-size, 48px);
    max-width: 100%;
  }
  [aria-pressed='true'] {
    background: var(--_backdrop);
    border-color: var(--_primary);
  }
`;
