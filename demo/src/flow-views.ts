/**
 * What each party sees before acting (issue 16, "no rough edges in the flow"):
 *   - the applicant reads the licence in a <licence-viewer> beside the <signature-pad> before signing
 *     for receipt;
 *   - the clerk opens each material (PDF in a <licence-viewer>, a photo as an image) before approving;
 *   - revoking asks for confirmation and a reason (a <dialog>, reason required), which the registry
 *     stores and the viewer, the QR page and the verification page show.
 * Kept apart from main.ts, which calls these at the right moments.
 */
import type { LicenceViewer } from '../../packages/elements/src/sidian';
import { currentLang } from './i18n';

const strings = {
  receiptDocLabel: { 'zh-CN': '待签收的证照', en: 'The licence to sign for' },
  open: { 'zh-CN': '查看', en: 'Open' },
  openMaterial: { 'zh-CN': (n: string) => `查看材料：${n}`, en: (n: string) => `Open the material: ${n}` },
  colView: { 'zh-CN': '查看', en: 'View' },
  close: { 'zh-CN': '关闭', en: 'Close' },
  loading: { 'zh-CN': '正在载入材料…', en: 'Loading the material…' },
  cannotOpen: {
    'zh-CN': (m: string) => `无法打开该材料：${m}`,
    en: (m: string) => `The material cannot be opened: ${m}`,
  },
  revokeTitle: { 'zh-CN': '吊销电子证照', en: 'Revoke the e-licence' },
  revokeWarning: {
    'zh-CN': '吊销后证照立即失效，核验方和二维码页面都会显示“已吊销”及原因。此操作不能撤回。',
    en: 'Once revoked the licence is void at once; verifiers and the QR page show it revoked, with the reason. This cannot be undone.',
  },
  revokeReason: { 'zh-CN': '吊销原因（必填）', en: 'Reason for revoking (required)' },
  revokePlaceholder: {
    'zh-CN': '例如：以欺骗手段取得许可',
    en: 'e.g. the licence was obtained by deception',
  },
  cancel: { 'zh-CN': '取消', en: 'Cancel' },
  confirmRevoke: { 'zh-CN': '确认吊销', en: 'Revoke' },
} as const;

type Key = keyof typeof strings;
function lt(key: Key, ...args: string[]): string {
  const e = strings[key][currentLang()] as string | ((...a: string[]) => string);
  return typeof e === 'function' ? e(...args) : e;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** Fills the `data-flow-i18n` texts (and labels/placeholders) of the views in the current language. */
export function localiseFlowViews(): void {
  for (const el of document.querySelectorAll<HTMLElement>('[data-flow-i18n]'))
    el.textContent = lt(el.dataset.flowI18n as Key);
  for (const el of document.querySelectorAll<HTMLElement>('[data-flow-i18n-label]'))
    el.setAttribute('aria-label', lt(el.dataset.flowI18nLabel as Key));
  for (const el of document.querySelectorAll<HTMLTextAreaElement>('[data-flow-i18n-placeholder]'))
    el.placeholder = lt(el.dataset.flowI18nPlaceholder as Key);
}

/**
 * What every <licence-viewer> of the page checks against, set here once for all of them: the
 * server's trust anchors and CRLs, its seal authority's root (GB/T 38540 seal makers) and its seal
 * registry. A viewer's own attributes (`status-url`) stay in index.html.
 */
const VIEWER_SOURCES = {
  trust: '/api/trust',
  'seal-trust': '/api/seals/trust',
  'seal-status-url': '/api/seals/{esID}',
};

/** Gives each <licence-viewer> of the page VIEWER_SOURCES; called before any of them gets a document. */
export function setViewerSources(): void {
  for (const viewer of document.querySelectorAll('licence-viewer'))
    for (const [name, value] of Object.entries(VIEWER_SOURCES)) viewer.setAttribute(name, value);
}

// ---- the licence beside the pad -----------------------------------------------------------------

/** Shows the registered licence (as the registry serves it) next to the signature pad. */
export function showReceiptDocument(licenceFileUrl: string): void {
  const v = $<LicenceViewer>('receipt-doc');
  if (v.getAttribute('src') !== licenceFileUrl) v.setAttribute('src', licenceFileUrl);
}

// ---- materials, opened for the clerk ------------------------------------------------------------

export interface MaterialRef {
  requirementId: string;
  name: string;
  materialId: string | null;
  licenceId?: string;
}

/** A 查看 button for one row of the materials table. */
export function openButton(
  m: MaterialRef,
  load: (m: MaterialRef) => Promise<{ bytes: Uint8Array; type: string }>,
) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'open-material';
  b.textContent = lt('open');
  b.setAttribute('aria-label', lt('openMaterial', m.name));
  b.dataset.requirement = m.requirementId;
  b.addEventListener('click', () => void openMaterial(m, load));
  return b;
}

/** The column header of the 查看 buttons. */
export function openColumnHeader(): HTMLTableCellElement {
  const th = document.createElement('th');
  th.scope = 'col';
  th.textContent = lt('colView');
  return th;
}

let imageUrl: string | undefined;

async function openMaterial(
  m: MaterialRef,
  load: (m: MaterialRef) => Promise<{ bytes: Uint8Array; type: string }>,
) {
  const dialog = $<HTMLDialogElement>('material-dialog');
  const viewer = $<LicenceViewer>('material-viewer');
  const img = $<HTMLImageElement>('material-image');
  const note = $('material-status');
  $('material-title').textContent = m.name;
  viewer.hidden = true;
  img.hidden = true;
  note.textContent = lt('loading');
  note.dataset.kind = 'info';
  if (!dialog.open) dialog.showModal();
  try {
    const { bytes, type } = await load(m);
    if (imageUrl) URL.revokeObjectURL(imageUrl);
    imageUrl = undefined;
    if (type.startsWith('image/')) {
      imageUrl = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
      img.src = imageUrl;
      img.alt = m.name;
      img.hidden = false;
    } else {
      viewer.document = bytes;
      viewer.hidden = false;
    }
    note.textContent = '';
  } catch (e) {
    note.textContent = lt('cannotOpen', (e as Error).message ?? String(e));
    note.dataset.kind = 'error';
  }
}

// ---- revoking: confirmation with a reason -------------------------------------------------------

/** Asks the clerk to confirm revoking and give a reason; resolves with the reason, or undefined if cancelled. */
export function askRevokeReason(): Promise<string | undefined> {
  const dialog = $<HTMLDialogElement>('revoke-dialog');
  const reason = $<HTMLTextAreaElement>('revoke-reason');
  reason.value = '';
  dialog.returnValue = '';
  dialog.showModal();
  reason.focus();
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () =>
        resolve(dialog.returnValue === 'confirm' && reason.value.trim() ? reason.value.trim() : undefined),
      { once: true },
    );
  });
}

export function wireFlowViews(): void {
  // a reason of spaces is no reason
  const reason = $<HTMLTextAreaElement>('revoke-reason');
  reason.addEventListener('input', () =>
    reason.setCustomValidity(reason.value.trim() || !reason.value ? '' : lt('revokeReason')),
  );
  const material = $<HTMLDialogElement>('material-dialog');
  $('material-close').addEventListener('click', () => material.close());
  material.addEventListener('close', () => {
    if (imageUrl) URL.revokeObjectURL(imageUrl);
    imageUrl = undefined;
    $<HTMLImageElement>('material-image').removeAttribute('src');
  });
}
