import { css } from 'lit';

export const materialUploaderStyles = css`
  .checklist,
  .items,
  .licences ul {
    list-style: none;
    margin: 0;
    padding: 0;
  }
  .requirement {
    border: 1px dashed var(--_border);
    border-radius: var(--_radius);
    padding: var(--_gap);
    margin-bottom: var(--_gap);
    background: var(--_surface);
  }
  .requirement.done {
    border-style: solid;
    border-color: var(--_success);
  }
  .requirement.drag {
    border-style: solid;
    border-color: var(--_primary);
    box-shadow: var(--_focus);
  }
  .req-head,
  .item-line,
  .licences li {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: var(--_gap);
  }
  .req-name {
    font-weight: 600;
  }
  .req-mark {
    min-width: 1em;
    color: var(--_danger);
  }
  .done .req-mark {
    color: var(--_success);
  }
  .spacer {
    flex: 1;
  }
  .badge {
    font-size: 0.85em;
    padding: 0 6px;
    border: 1px solid var(--_border);
    border-radius: 999px;
    color: var(--_muted);
  }
  .badge.required {
    color: var(--_danger);
    border-color: var(--_danger);
  }
  .hint {
    margin: 4px 0 0;
    color: var(--_muted);
    font-size: 0.9em;
  }
  .rejection {
    margin: 4px 0 0;
    color: var(--_danger);
  }
  .licences {
    margin-top: var(--_gap);
    padding: var(--_gap);
    background: var(--_backdrop);
    border-radius: var(--_radius);
  }
  .licences-title {
    margin: 0 0 4px;
    font-weight: 600;
  }
  .item {
    margin-top: var(--_gap);
    padding-top: var(--_gap);
    border-top: 1px solid var(--_backdrop);
  }
  .item-size,
  .item-status {
    color: var(--_muted);
  }
  .item-uploaded .item-status {
    color: var(--_success);
  }
  .item-status.error {
    color: var(--_danger);
  }
  progress {
    width: 100%;
    height: 8px;
    accent-color: var(--_primary);
  }
`;
