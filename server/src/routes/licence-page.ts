/** The page a licence's QR code opens (GET /v/:id): zh-CN, no script, styles from /v/style.css. */
import { licenceStatusTerm } from '../../../packages/core/src/licence/status';
import type { publicLicence } from './licences';

type PublicLicence = ReturnType<typeof publicLicence>;

const esc = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** The status words come from the one table (packages/core/src/licence/status.ts); only the colour is the page's. */
const STATUS_CLASS: Record<string, string> = { valid: 'ok', 'not-yet-valid': 'warn', suspended: 'warn' };
function statusText(status: string): { zh: string; cls: string; note: string; dateLabel: string | null } {
  const t = licenceStatusTerm(status, 'zh-CN');
  return { zh: t.term, cls: STATUS_CLASS[status] ?? 'bad', note: t.note, dateLabel: t.dateLabel };
}

export const licencePageCss = `
:root { color-scheme: light; font-family: system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; }
body { margin: 0; background: #f5f6f8; color: #1f2329; }
main { max-width: 44rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.4rem; margin: 0 0 1rem; }
.status { display: inline-block; padding: .35rem .9rem; border-radius: 1rem; font-weight: 600; font-size: 1.1rem; }
.ok { background: #e3f5e9; color: #106b32; } .bad { background: #fde8e8; color: #a11a1a; } .warn { background: #fff4e0; color: #8a5300; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .5rem 1rem; background: #fff; padding: 1rem; border-radius: .5rem; }
dt { color: #5c6370; } dd { margin: 0; word-break: break-all; }
.actions a { display: inline-block; margin: 1rem 1rem 0 0; padding: .6rem 1rem; border-radius: .4rem; background: #1456d9; color: #fff; text-decoration: none; }
.actions a.secondary { background: #fff; color: #1456d9; border: 1px solid #1456d9; }
a:focus-visible { outline: 3px solid #f0a000; outline-offset: 2px; }
footer { margin-top: 2rem; color: #5c6370; font-size: .85rem; }
`;

export function licencePage(id: string, l: PublicLicence | undefined): string {
  const head = (title: string) => `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${esc(title)}</title>
<link rel="stylesheet" href="/v/style.css">
</head>
<body><main>`;
  const foot = `<footer>四电 Sidian 电子证照核验 · 证照标识 ${esc(id)}</footer></main></body></html>\n`;
  if (!l) {
    return `${head('未找到电子证照')}<h1>未找到电子证照</h1><p class="status bad" role="status">未登记</p><p>证照库中没有该标识的电子证照。请核对二维码或证照标识，或联系颁发机构。</p>${foot}`;
  }
  const st = statusText(l.status);
  const data = Object.entries(l.data ?? {})
    .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join('');
  return `${head(`${l.typeName} · ${st.zh}`)}
<h1>${esc(l.typeName)}</h1>
<p><span class="status ${st.cls}" role="status">状态：${st.zh}</span></p>
<p>${esc(st.note)}${l.revokedAt && st.dateLabel ? ` ${st.dateLabel}：${esc(l.revokedAt.slice(0, 10))}。` : ''}${l.revokedAt && l.revocationReason ? ` 原因：${esc(l.revocationReason)}。` : ''}</p>
<dl>
<dt>证照编号</dt><dd>${esc(l.number)}</dd>
<dt>证照标识</dt><dd>${esc(l.id)}</dd>
<dt>持证主体</dt><dd>${esc(l.holder.name)}</dd>
<dt>颁发机构</dt><dd>${esc(l.issuer.name)}</dd>
<dt>颁发机构代码</dt><dd>${esc(l.issuer.creditCode)}</dd>
<dt>颁发日期</dt><dd>${esc(l.issueDate)}</dd>
<dt>有效期</dt><dd>${esc(l.validFrom)} 至 ${l.validUntil ? esc(l.validUntil) : '长期'}</dd>
${data}
<dt>文件摘要 (SHA-256)</dt><dd>${esc(l.sha256)}</dd>
</dl>
<p class="actions">
<a href="${esc(l.file)}">查看证照文件</a>
<a class="secondary" href="/api/licences/${encodeURIComponent(l.id)}/verification">核验签章</a>
</p>
${foot}`;
}
