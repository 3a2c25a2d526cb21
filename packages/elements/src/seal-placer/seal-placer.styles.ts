import { css } from 'lit';

export const sealPlacerStyles = css`
  .overlay {
    position: absolute;
    inset: 0;
    cursor: crosshair;
  }
  :host([disabled]) .overlay,
  :host([state='sealing']) .overlay {
    cursor: default;
  }
  .seal {
    position: absolute;
    padding: 0;
    min-width: 0;
    min-height: 0;
    border: none;
    border-radius: 0;
    background: transparent;
    outline: var(--sidian-seal-outline, 1px dashed var(--_primary));
    cursor: grab;
    touch-action: none;
  }
  .seal:active {
    cursor: grabbing;
  }
  .seal img {
    display: block;
    width: 100%;
    height: 100%;
    pointer-events: none;
    user-select: none;
    opacity: 0.9;
  }
  .strip {
    overflow: hidden;
  }
  .strip img {
    position: absolute;
    top: 0;
    max-width: none;
  }
  .coordinates fieldset {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: var(--_gap);
    margin: 0 var(--_gap) var(--_gap);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
  }
  .coordinates legend {
    color: var(--_muted);
    padding: 0 4px;
  }
  .coordinates input {
    width: 6.5em;
  }
`;
