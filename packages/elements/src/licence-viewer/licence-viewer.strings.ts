/** <licence-viewer>'s UI text: zh-CN (default) and English. */
import { errorStrings } from '../shared/error-strings';
import {
  LICENCE_STATUSES,
  SEAL_TYPES,
  licenceStatusTerms,
  type LicenceStatusLocale,
  type LicenceWithdrawal,
} from '@sidian/core';
import type { LicenceVerdict } from './licence-viewer';

/** The registry's statuses in words, from the one table in @sidian/core (licence/status.ts). */
const statusWords = (locale: LicenceStatusLocale, part: 'term' | 'title' | 'note') =>
  Object.fromEntries(LICENCE_STATUSES.map((s) => [s, licenceStatusTerms[locale][s][part]])) as Record<
    string,
    string
  >;

/**
 * Beijing time (UTC+8, no daylight saving since 1991) by arithmetic, not Intl: the first Intl date
 * format in a page loads ICU's locale and time-zone data, 40-100 ms on the main thread, and the
 * signature panel is rendered while pdf.js draws page 1.
 */
function beijingTime(
  iso: string,
): { y: number; mo: number; d: number; h: number; mi: number; s: number } | undefined {
  const ms = new Date(iso).getTime();
  if (Number.isNaN(ms)) return undefined;
  const t = new Date(ms + 8 * 3_600_000);
  return {
    y: t.getUTCFullYear(),
    mo: t.getUTCMonth() + 1,
    d: t.getUTCDate(),
    h: t.getUTCHours(),
    mi: t.getUTCMinutes(),
    s: t.getUTCSeconds(),
  };
}
const two = (n: number) => String(n).padStart(2, '0');
/** "2026/1/2 11:04:05", as `toLocaleString('zh-CN', {hour12: false, timeZone: 'Asia/Shanghai'})` writes it. */
const zhDate = (iso: string) => {
  const t = beijingTime(iso);
  return t ? `${t.y}/${t.mo}/${t.d} ${two(t.h)}:${two(t.mi)}:${two(t.s)}` : iso;
};
/** "02/01/2026, 11:04:05 GMT+8" (day/month/year, as en-GB writes it). */
const enDate = (iso: string) => {
  const t = beijingTime(iso);
  return t ? `${two(t.d)}/${two(t.mo)}/${t.y}, ${two(t.h)}:${two(t.mi)}:${two(t.s)} GMT+8` : iso;
};

export const licenceViewerStrings = {
  'zh-CN': {
    region: '电子证照',
    pages: '证照页面',
    noDocument: '尚未载入证照',
    loading: '正在载入证照…',
    verifying: '正在验证印章…',
    verdictTitle: {
      invalid: '证照无效',
      indeterminate: '无法确认证照',
      unsigned: '证照未盖章',
      ...statusWords('zh-CN', 'title'),
      valid: '证照有效',
    } as Record<LicenceVerdict, string>,
    verdictText: {
      invalid: '文件在盖章后被篡改，或印章已损坏。请勿采信此证照。',
      indeterminate:
        '印章完整，但无法确认签章证书可信（颁发机构不在信任列表中，或无法确定签署时间）。请向发证机关核实。',
      unsigned: '文件没有电子印章，无法证明其来源和完整性。',
      ...statusWords('zh-CN', 'note'),
      valid: '电子印章验证通过：文件自盖章以来未被修改，签章证书由可信机构签发。',
    } as Record<LicenceVerdict, string>,
    withdrawnAt: (status: LicenceWithdrawal, date: string, reason: string | null) =>
      `${licenceStatusTerms['zh-CN'][status].dateLabel}：${zhDate(date)}${reason ? `；原因：${reason}` : ''}`,
    registryUnavailable: '无法查询证照库，未能确认证照是否已被注销、吊销或中止。',
    registryUnknown: '证照库中没有此证照。',
    // the seal registry (seal-status-url) on a GB/T 38540 seal
    sealRevoked: (name: string, date: string | null, reason: string | null) =>
      `印章已注销：${name}${date ? `；注销时间：${zhDate(date)}` : ''}${reason ? `；原因：${reason}` : ''}。`,
    sealUnknown: (name: string) => `印章登记库中没有此印章（${name}），无法确认印章有效。`,
    sealRegistryUnavailable: (name: string) => `无法查询印章登记库，未能确认印章（${name}）是否已注销。`,
    loadFailed: '无法打开文件',
    watermarkNote: (text: string) => `水印：${text}`,
    licenceHeading: '证照信息',
    signaturesHeading: '印章与签名',
    noLicence: '文件中没有证照元数据。',
    licenceChanged: '注意：证照元数据在盖章后被修改，以下显示盖章时的内容。',
    fields: {
      typeName: '证照类型',
      typeCode: '证照类型代码',
      number: '证照编号',
      identifier: '证照标识',
      holder: '持证主体',
      holderId: '持证主体代码',
      issuer: '发证机关',
      issuerCode: '发证机关统一社会信用代码',
      issueDate: '颁发日期',
      validity: '有效期',
      registry: '证照库状态',
    } as Record<string, string>,
    longTerm: '长期',
    validityRange: (from: string, until: string | null) => `${from} 至 ${until ?? '长期'}`,
    identifierOk: '校验位正确',
    identifierBad: '校验位错误：此标识不是有效的证照标识',
    registryStatus: statusWords('zh-CN', 'term'),
    colon: '：',
    separator: '；',
    technical: '技术详情',
    fieldName: '签名域名称',
    standard: '技术标准',
    levelText: {
      'B-B': '基本签名（无可信时间）',
      'B-T': '带可信时间戳',
      'B-LT': '带可信时间戳和长期验证数据',
      'B-LTA': '长期存档（带存档时间戳）',
    } as Record<string, string>,
    docMdpText: {
      1: '发证后不允许任何修改',
      2: '发证后只允许填写表单和签名',
      3: '发证后只允许填写表单、签名和批注',
    } as Record<number, string>,
    signature: (n: number, who: string) => `签名 ${n}（${who}）`,
    kind: {
      approval: '印章/签名',
      certification: '发证印章（认证签名）',
      'document-timestamp': '文档时间戳',
    } as Record<string, string>,
    status: { valid: '有效', invalid: '无效', indeterminate: '无法确认' } as Record<string, string>,
    signer: '签章人',
    organization: '单位',
    claimedTime: '签署时间（声明）',
    timestampTime: '可信时间戳',
    noTimestamp: '无',
    level: '签名类型',
    integrity: '完整性',
    coverage: '覆盖范围',
    modificationsAfter: '签署后的修改',
    chain: '证书链',
    algorithm: '签名算法',
    algorithmText: { 'SM2-SM3': 'SM2/SM3（国密）' } as Record<string, string>,
    reasons: '说明',
    // GB/T 38540 electronic seal (电子印章) carried by a signature
    gbSealHeading: '电子印章',
    sealName: '印章名称',
    sealType: '印章类型',
    sealTypeText: (type: number) => SEAL_TYPES[type]?.zh ?? `类型 ${type}`,
    sealValidity: '有效期',
    sealValidityRange: (from: string, to: string) => `${zhDate(from)} 至 ${zhDate(to)}`,
    sealCode: '印章编码',
    sealVerdict: '印章状态',
    sealVerdictText: {
      valid: '有效',
      invalid: '无效',
      indeterminate: '无法确认',
      revoked: '已注销',
      expired: '已过期',
      'not-yet-valid': '尚未生效',
    } as Record<string, string>,
    sealProblem: (p: { message?: string; messageZh?: string } | undefined) => p?.messageZh ?? '',
    integrityText: {
      ok: '印章数据完整',
      'digest-mismatch': '文件内容与印章不符（已被修改）',
      'bad-signature': '签名值错误',
      malformed: '签名数据格式错误',
    } as Record<string, string>,
    coverageText: {
      'whole-document': '整个文件',
      revision: '盖章时的文件版本（之后有追加内容）',
      partial: '仅部分文件',
    } as Record<string, string>,
    modificationsText: {
      none: '无',
      allowed: '有，均为允许的修改（如追加签名、填写表单）',
      disallowed: '有不允许的修改',
    } as Record<string, string>,
    trustText: {
      trusted: '可信',
      untrusted: '颁发机构不可信',
      expired: '证书已过期',
      revoked: '证书已吊销',
      unknown: '无法确认',
    } as Record<string, string>,
    chainText: (issuer: string | null, n: number) => `签发者：${issuer ?? '未知'}；证书 ${n} 张`,
    mark: (n: number, who: string, status: string) => `签名 ${n}（${who}）：${status}。按回车查看详情。`,
    time: zhDate,
    reverify: '重新验证',
    print: '打印',
    errors: {
      ...errorStrings['zh-CN'],
      NO_DOCUMENT: '没有可显示的证照。',
      FETCH_FAILED: '无法下载文件。',
      TRUST_FETCH_FAILED: '无法获取信任锚（根证书）。',
      PDF_NOT_PDF: '文件不是 PDF 文档。',
      PDF_ENCRYPTED: '文件已加密，无法验证。',
      PDF_TRUNCATED: '文件不完整（已截断）。',
      UNKNOWN: '无法验证此文件。',
    } as Record<string, string>,
  },
  en: {
    region: 'E-licence',
    pages: 'Licence pages',
    noDocument: 'No licence loaded',
    loading: 'Loading the licence…',
    verifying: 'Verifying the seal…',
    verdictTitle: {
      invalid: 'Licence invalid',
      indeterminate: 'Licence cannot be confirmed',
      unsigned: 'Licence not sealed',
      ...statusWords('en', 'title'),
      valid: 'Licence valid',
    } as Record<LicenceVerdict, string>,
    verdictText: {
      invalid:
        'The file was changed after it was sealed, or the seal is damaged. Do not rely on this licence.',
      indeterminate:
        'The seal is intact, but its certificate cannot be confirmed as trusted (an authority not in the trust list, or no reliable signing time). Check with the issuing authority.',
      unsigned: 'The file carries no e-seal: its origin and integrity cannot be shown.',
      ...statusWords('en', 'note'),
      valid:
        'The e-seal verifies: the file is unchanged since it was sealed and the certificate comes from a trusted authority.',
    } as Record<LicenceVerdict, string>,
    withdrawnAt: (status: LicenceWithdrawal, date: string, reason: string | null) =>
      `${licenceStatusTerms.en[status].dateLabel} ${enDate(date)}${reason ? `; reason: ${reason}` : ''}`,
    registryUnavailable:
      'The licence registry could not be reached: whether the licence was cancelled, revoked or suspended is not confirmed.',
    registryUnknown: 'The licence registry does not know this licence.',
    sealRevoked: (name: string, date: string | null, reason: string | null) =>
      `The seal was revoked: ${name}${date ? `, on ${enDate(date)}` : ''}${reason ? `; reason: ${reason}` : ''}.`,
    sealUnknown: (name: string) =>
      `The seal registry does not know this seal (${name}): the seal cannot be confirmed.`,
    sealRegistryUnavailable: (name: string) =>
      `The seal registry could not be reached: whether the seal (${name}) was revoked is not confirmed.`,
    loadFailed: 'The file cannot be opened',
    watermarkNote: (text: string) => `Watermark: ${text}`,
    licenceHeading: 'Licence details',
    signaturesHeading: 'Seals and signatures',
    noLicence: 'The file carries no licence metadata (licence.json).',
    licenceChanged: 'Note: the licence metadata was changed after sealing; shown as it was when sealed.',
    fields: {
      typeName: 'Licence type',
      typeCode: 'Type code',
      number: 'Licence number',
      identifier: 'Licence identifier',
      holder: 'Holder',
      holderId: 'Holder id',
      issuer: 'Issuing authority',
      issuerCode: 'Issuer credit code',
      issueDate: 'Issue date',
      validity: 'Valid',
      registry: 'Registry status',
    } as Record<string, string>,
    longTerm: 'no expiry',
    validityRange: (from: string, until: string | null) => `${from} to ${until ?? 'no expiry'}`,
    identifierOk: 'check character correct',
    identifierBad: 'check character wrong: not a valid licence identifier',
    registryStatus: statusWords('en', 'term'),
    colon: ': ',
    separator: '; ',
    technical: 'Technical details',
    fieldName: 'Signature field',
    standard: 'Standard',
    levelText: {
      'B-B': 'basic signature (no trusted time)',
      'B-T': 'with a trusted timestamp',
      'B-LT': 'with a trusted timestamp and long-term validation data',
      'B-LTA': 'long-term archive (with an archive timestamp)',
    } as Record<string, string>,
    docMdpText: {
      1: 'no changes allowed after issue',
      2: 'only form filling and signing allowed after issue',
      3: 'only form filling, signing and comments allowed after issue',
    } as Record<number, string>,
    signature: (n: number, who: string) => `Signature ${n} (${who})`,
    kind: {
      approval: 'Seal / signature',
      certification: 'Issuing seal (certification)',
      'document-timestamp': 'Document timestamp',
    } as Record<string, string>,
    status: { valid: 'valid', invalid: 'invalid', indeterminate: 'cannot be confirmed' } as Record<
      string,
      string
    >,
    signer: 'Signed by',
    organization: 'Organisation',
    claimedTime: 'Signing time (claimed)',
    timestampTime: 'Trusted timestamp',
    noTimestamp: 'none',
    level: 'Type',
    integrity: 'Integrity',
    coverage: 'Coverage',
    modificationsAfter: 'Changes after signing',
    chain: 'Certificate chain',
    algorithm: 'Algorithm',
    algorithmText: { 'SM2-SM3': 'SM2/SM3 (Chinese national standard)' } as Record<string, string>,
    reasons: 'Notes',
    gbSealHeading: 'Electronic seal (GB/T 38540)',
    sealName: 'Seal name',
    sealType: 'Seal type',
    sealTypeText: (type: number) => SEAL_TYPES[type]?.en ?? `type ${type}`,
    sealValidity: 'Valid',
    sealValidityRange: (from: string, to: string) => `${enDate(from)} to ${enDate(to)}`,
    sealCode: 'Seal code (esID)',
    sealVerdict: 'Seal status',
    sealVerdictText: {
      valid: 'valid',
      invalid: 'invalid',
      indeterminate: 'cannot be established',
      revoked: 'revoked',
      expired: 'expired',
      'not-yet-valid': 'not yet valid',
    } as Record<string, string>,
    sealProblem: (p: { message?: string; messageZh?: string } | undefined) => p?.message ?? '',
    integrityText: {
      ok: 'intact',
      'digest-mismatch': 'the content differs from what was sealed (changed)',
      'bad-signature': 'bad signature value',
      malformed: 'malformed signature data',
    } as Record<string, string>,
    coverageText: {
      'whole-document': 'the whole file',
      revision: 'the file as it was when signed (more was appended later)',
      partial: 'only part of the file',
    } as Record<string, string>,
    modificationsText: {
      none: 'none',
      allowed: 'only allowed ones (further signatures, form filling)',
      disallowed: 'disallowed changes',
    } as Record<string, string>,
    trustText: {
      trusted: 'trusted',
      untrusted: 'issuer not trusted',
      expired: 'certificate expired',
      revoked: 'certificate revoked',
      unknown: 'cannot be established',
    } as Record<string, string>,
    chainText: (issuer: string | null, n: number) => `Issued by ${issuer ?? 'unknown'}; ${n} certificate(s)`,
    mark: (n: number, who: string, status: string) =>
      `Signature ${n} (${who}): ${status}. Press Enter for details.`,
    time: enDate,
    reverify: 'Verify again',
    print: 'Print',
    errors: {
      ...errorStrings.en,
      NO_DOCUMENT: 'There is no licence to show.',
      FETCH_FAILED: 'The file could not be downloaded.',
      TRUST_FETCH_FAILED: 'The trust anchors (root certificates) could not be fetched.',
      PDF_NOT_PDF: 'The file is not a PDF document.',
      PDF_ENCRYPTED: 'The file is encrypted and cannot be verified.',
      PDF_TRUNCATED: 'The file is incomplete (truncated).',
      UNKNOWN: 'This file cannot be verified.',
    } as Record<string, string>,
  },
};
