/**
 * The pages a licence's QR code leads to, for people on a phone: GET /v/:id (the registry entry) and
 * GET /api/licences/:id/verification when a browser asks for HTML (the verdict on the seal and the
 * signatures in words). zh-CN or English by Accept-Language (or ?lang=); no script; styles from
 * /v/style.css and an icon from /v/favicon.svg. Machines get the verification as JSON
 * (Accept: application/json, any fetch() without an HTML preference, or ?format=json).
 */
import { SEAL_TYPES, type SealedSignatureReport, type VerificationReport } from '@sidian/core';
import { licenceStatusTerm } from '../../../packages/core/src/licence/status';
import type { publicLicence } from './licences';

type PublicLicence = ReturnType<typeof publicLicence>;
export type PageLang = 'zh-CN' | 'en';

const esc = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/**
 * The page language: `?lang=` if given, else the first of zh / en in Accept-Language by q-value
 * (RFC 9110 §12.5.4; the browser sends navigator.languages there), else zh-CN.
 */
export function pageLang(acceptLanguage: string | undefined, query?: unknown): PageLang {
  if (typeof query === 'string') return /^en\b/i.test(query) ? 'en' : 'zh-CN';
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag: (tag ?? '').toLowerCase(), q: q ? Number(q.slice(2)) || 0 : 1, i };
    })
    .filter((x) => x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    if (tag.startsWith('zh')) return 'zh-CN';
    if (tag.startsWith('en')) return 'en';
  }
  return 'zh-CN';
}

/** The colour of a verdict (a report's, a signature's, a seal's): valid, invalid, else indeterminate. */
const verdictClass = (status: string) => (status === 'valid' ? 'ok' : status === 'invalid' ? 'bad' : 'warn');

/** The status words come from the one table (packages/core/src/licence/status.ts); only the colour is the page's. */
const STATUS_CLASS: Record<string, string> = { valid: 'ok', 'not-yet-valid': 'warn', suspended: 'warn' };
function statusWords(
  status: string,
  lang: PageLang,
): { cls: string; word: string; note: string; dateLabel: string | null } {
  const t = licenceStatusTerm(status, lang);
  const word = lang === 'en' ? t.term.charAt(0).toUpperCase() + t.term.slice(1) : t.term;
  return { cls: STATUS_CLASS[status] ?? 'bad', word, note: t.note, dateLabel: t.dateLabel };
}

const T = {
  'zh-CN': {
    status: '状态',
    notFoundTitle: '未找到电子证照',
    notRegistered: '未登记',
    notFound: '证照库中没有该标识的电子证照。请核对二维码或证照标识，或联系颁发机构。',
    reason: '原因',
    number: '证照编号',
    identifier: '证照标识',
    holder: '持证主体',
    issuer: '颁发机构',
    issuerCode: '颁发机构代码',
    issueDate: '颁发日期',
    validity: '有效期',
    to: '至',
    permanent: '长期',
    sha256: '文件摘要 (SHA-256)',
    viewFile: '查看证照文件',
    verify: '核验签章',
    footer: '四电 Sidian 电子证照核验',
    verificationTitle: '签章核验结果',
    back: '返回证照信息',
    json: '机器可读结果 (JSON)',
    registry: '证照库状态',
    signatures: '签章',
    signer: '签署者',
    organization: '单位',
    time: '时间',
    timestamped: '（可信时间戳）',
    claimed: '（签署者声明）',
    kinds: {
      certification: '发证印章（认证签名）',
      approval: '签名',
      'document-timestamp': '文档时间戳',
    } as Record<string, string>,
    sigStatus: { valid: '有效', invalid: '无效', indeterminate: '无法确定' } as Record<string, string>,
    gbSeal: '电子印章',
    sealCode: '印章编码',
    verdict: {
      valid: ['签章有效', '文件自盖章、签名以来未被篡改，印章和签名来自可信的颁发机构。'],
      invalid: ['签章无效', '文件在盖章或签名后被改动过，或签章本身不完整：不能作为有效证照使用。'],
      indeterminate: ['无法确定', '签章完好，但无法确认签署者的证书是否可信或当时是否有效。'],
      unsigned: ['未签章', '文件中没有电子印章或签名。'],
    } as Record<string, [string, string]>,
  },
  en: {
    status: 'Status',
    notFoundTitle: 'E-licence not found',
    notRegistered: 'Not registered',
    notFound:
      'The registry holds no e-licence with this identifier. Check the QR code or the identifier, or ask the issuing authority.',
    reason: 'Reason',
    number: 'Licence number',
    identifier: 'Identifier',
    holder: 'Holder',
    issuer: 'Issued by',
    issuerCode: 'Issuer code',
    issueDate: 'Issued on',
    validity: 'Valid',
    to: 'to',
    permanent: 'no end date',
    sha256: 'File digest (SHA-256)',
    viewFile: 'View the licence file',
    verify: 'Verify the seal',
    footer: 'Sidian e-licence verification',
    verificationTitle: 'Seal and signature check',
    back: 'Back to the licence',
    json: 'Machine-readable result (JSON)',
    registry: 'Registry status',
    signatures: 'Seals and signatures',
    signer: 'Signer',
    organization: 'Organisation',
    time: 'Time',
    timestamped: ' (trusted time-stamp)',
    claimed: ' (claimed by the signer)',
    kinds: {
      certification: 'Issuing seal (certification)',
      approval: 'Signature',
      'document-timestamp': 'Document time-stamp',
    } as Record<string, string>,
    sigStatus: { valid: 'valid', invalid: 'invalid', indeterminate: 'indeterminate' } as Record<
      string,
      string
    >,
    gbSeal: 'Electronic seal (GB/T 38540)',
    sealCode: 'Seal code (esID)',
    verdict: {
      valid: [
        'Seal valid',
        'The file has not changed since it was sealed and signed, and the seal comes from a trusted issuing authority.',
      ],
      invalid: [
        'Seal invalid',
        'The file was changed after it was sealed or signed, or a seal is broken: do not accept it as a valid licence.',
      ],
      indeterminate: [
        'Cannot be confirmed',
        "The seal is intact, but whether the signer's certificate is trusted or was valid then cannot be established.",
      ],
      unsigned: ['Not sealed', 'The file carries no electronic seal or signature.'],
    } as Record<string, [string, string]>,
  },
};

export const licencePageCss = `
:root { color-scheme: light; font-family: system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; }
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; background: #f5f6f8; color: #1f2329; }
main { max-width: 44rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.4rem; margin: 0 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.status { display: inline-block; padding: .35rem .9rem; border-radius: 1rem; font-weight: 600; font-size: 1.1rem; }
.ok { background: #e3f5e9; color: #106b32; } .bad { background: #fde8e8; color: #a11a1a; } .warn { background: #fff4e0; color: #8a5300; }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .5rem 1rem; background: #fff; padding: 1rem; border-radius: .5rem; margin: .5rem 0; }
dt { color: #5c6370; } dd { margin: 0; overflow-wrap: anywhere; min-width: 0; }
.actions a { display: inline-block; margin: 1rem 1rem 0 0; padding: .6rem 1rem; border-radius: .4rem; background: #1456d9; color: #fff; text-decoration: none; }
.actions a.secondary { background: #fff; color: #1456d9; border: 1px solid #1456d9; }
a:focus-visible { outline: 3px solid #f0a000; outline-offset: 2px; }
footer { margin-top: 2rem; color: #5c6370; font-size: .85rem; overflow-wrap: anywhere; }
@media (max-width: 30rem) {
  dl { grid-template-columns: minmax(0, 1fr); gap: .15rem; }
  dd + dt { margin-top: .5rem; }
}
`;

/** 四电's mark for the browser tab: a red seal ring with 证. */
export const faviconSvg =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
  '<circle cx="16" cy="16" r="14" fill="#fff" stroke="#c8161d" stroke-width="3"/>' +
  '<path d="M16 8l2.4 5.2 5.6.6-4.2 3.8 1.2 5.6L16 20.4 11 23.2l1.2-5.6L8 13.8l5.6-.6z" fill="#c8161d"/></svg>\n';

function head(lang: PageLang, title: string): string {
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${esc(title)}</title>
<link rel="icon" href="/v/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/v/style.css">
</head>
<body><main>`;
}

const foot = (lang: PageLang, id: string) =>
  `<footer>${T[lang].footer} · ${esc(id)}</footer></main></body></html>\n`;

function statusLine(lang: PageLang, l: PublicLicence): string {
  const t = T[lang];
  const st = statusWords(l.status, lang);
  const [colon, semi] = lang === 'en' ? [': ', '; '] : ['：', '；'];
  const withdrawal =
    st.dateLabel && l.revokedAt
      ? ` <span class="revocation">${st.dateLabel}${colon}${esc(l.revokedAt.slice(0, 10))}${l.revocationReason ? `${semi}${t.reason}${colon}${esc(l.revocationReason)}` : ''}</span>`
      : '';
  return `<p><span class="status ${st.cls}" role="status">${t.status}${colon}${st.word}</span></p>
<p class="note">${esc(st.note)}${withdrawal}</p>`;
}

export function licencePage(id: string, l: PublicLicence | undefined, lang: PageLang = 'zh-CN'): string {
  const t = T[lang];
  if (!l) {
    return `${head(lang, t.notFoundTitle)}<h1>${t.notFoundTitle}</h1><p class="status bad" role="status">${t.notRegistered}</p><p>${t.notFound}</p>${foot(lang, id)}`;
  }
  const { word } = statusWords(l.status, lang);
  const data = Object.entries(l.data ?? {})
    .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join('');
  return `${head(lang, `${l.typeName} · ${word}`)}
<h1>${esc(l.typeName)}</h1>
${statusLine(lang, l)}
<dl>
<dt>${t.number}</dt><dd>${esc(l.number)}</dd>
<dt>${t.identifier}</dt><dd>${esc(l.id)}</dd>
<dt>${t.holder}</dt><dd>${esc(l.holder.name)}</dd>
<dt>${t.issuer}</dt><dd>${esc(l.issuer.name)}</dd>
<dt>${t.issuerCode}</dt><dd>${esc(l.issuer.creditCode)}</dd>
<dt>${t.issueDate}</dt><dd>${esc(l.issueDate)}</dd>
<dt>${t.validity}</dt><dd>${esc(l.validFrom)} ${t.to} ${l.validUntil ? esc(l.validUntil) : t.permanent}</dd>
${data}
<dt>${t.sha256}</dt><dd>${esc(l.sha256)}</dd>
</dl>
<p class="actions">
<a href="${esc(l.file)}">${t.viewFile}</a>
<a class="secondary verify" href="/api/licences/${encodeURIComponent(l.id)}/verification">${t.verify}</a>
</p>
${foot(lang, l.id)}`;
}

/** The verification of a registered licence in words: the verdict, each seal and signature, the registry status. */
export function verificationPage(
  l: PublicLicence,
  report: VerificationReport,
  lang: PageLang = 'zh-CN',
): string {
  const t = T[lang];
  const [verdict, explanation] = t.verdict[report.status] ?? t.verdict.indeterminate!;
  const cls = verdictClass(report.status);
  const sigs = report.signatures
    .map((s) => {
      const time = s.timestampTime ?? s.claimedTime;
      const when = time
        ? `${esc(time.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC'))}${s.timestampTime ? t.timestamped : t.claimed}`
        : '—';
      const who = s.signer?.commonName ?? '—';
      return `<dl class="signature">
<dt>${esc(t.kinds[s.kind] ?? s.kind)}</dt><dd><span class="status ${verdictClass(s.status)}">${esc(t.sigStatus[s.status] ?? s.status)}</span></dd>
<dt>${t.signer}</dt><dd class="signer">${esc(who)}</dd>
${s.signer?.organization ? `<dt>${t.organization}</dt><dd>${esc(s.signer.organization)}</dd>` : ''}
<dt>${t.time}</dt><dd class="time">${when}</dd>
${gbSealRows(lang, s)}
</dl>`;
    })
    .join('\n');
  const id = encodeURIComponent(l.id);
  return `${head(lang, `${t.verificationTitle} · ${verdict}`)}
<h1>${t.verificationTitle}</h1>
<p><span class="status ${cls} verdict" role="status">${esc(verdict)}</span></p>
<p>${esc(explanation)}</p>
<h2>${t.registry}</h2>
<p>${esc(l.typeName)} · ${esc(l.number)} · ${esc(l.holder.name)}</p>
${statusLine(lang, l)}
<h2>${t.signatures}</h2>
${sigs}
<p class="actions">
<a href="/v/${id}">${t.back}</a>
<a class="secondary" href="/api/licences/${id}/verification?format=json">${t.json}</a>
</p>
${foot(lang, l.id)}`;
}

/** The GB/T 38540 seal a signature carries (verifyPdf's `gbSeal`): its registered name, type, validity, esID, verdict. */
function gbSealRows(lang: PageLang, s: VerificationReport['signatures'][number]): string {
  const seal = (s as SealedSignatureReport).gbSeal;
  if (!seal) return '';
  const t = T[lang];
  const type = SEAL_TYPES[seal.type]?.[lang === 'en' ? 'en' : 'zh'] ?? String(seal.type);
  // the day in Beijing time (UTC+8), as <licence-viewer> writes a seal's dates: a seal valid from
  // midnight in China starts at 16:00 UTC the day before
  const day = (iso: string) => new Date(Date.parse(iso) + 8 * 3600_000).toISOString().slice(0, 10);
  return `<dt>${t.gbSeal}</dt><dd class="gb-seal">${esc(seal.name)} · ${esc(type)} · ${esc(day(seal.validStart))} ${t.to} ${esc(day(seal.validEnd))} <span class="status ${verdictClass(seal.status)}">${esc(t.sigStatus[seal.status] ?? seal.status)}</span></dd>
<dt>${t.sealCode}</dt><dd class="seal-code">${esc(seal.esID)}</dd>`;
}

/**
 * Whether a request for the verification wants the human page: an explicit ?format=html, or a
 * browser navigation (Accept lists text/html before any JSON); ?format=json always gets JSON.
 */
export function wantsHtml(accept: string | undefined, format: unknown): boolean {
  if (format === 'json') return false;
  if (format === 'html') return true;
  const a = (accept ?? '').toLowerCase();
  const html = a.indexOf('text/html');
  const json = a.indexOf('application/json');
  return html >= 0 && (json < 0 || html < json);
}
