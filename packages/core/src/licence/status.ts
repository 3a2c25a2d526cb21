/**
 * A licence's status in the registry (证照库) and the one table of words every surface uses for it:
 * <licence-viewer>, <material-uploader>'s licence reuse, the server's JSON answers and the QR page.
 *
 * The administrative terms differ in what they say about the holder, so they are never merged:
 * - 注销 (cancelled): the licence ended without fault — the holder gave it up, the business closed,
 *   the activity ended (《行政许可法》第七十条).
 * - 吊销 (revoked): a penalty withdrawing the licence (《行政处罚法》第九条 "吊销许可证件").
 * - 中止 (suspended): the licence may not be used for now (e.g. 暂扣许可证件 pending a decision); it
 *   can be reinstated.
 * - 过期 (expired, 已失效): past its validity period; no one acted.
 */

/** The statuses a department sets on a registered licence (POST /api/licences/:id/revoke `{status}`). */
export const LICENCE_WITHDRAWALS = ['cancelled', 'revoked', 'suspended'] as const;
export type LicenceWithdrawal = (typeof LICENCE_WITHDRAWALS)[number];

/** Every status the registry answers with. */
export const LICENCE_STATUSES = ['valid', ...LICENCE_WITHDRAWALS, 'expired', 'not-yet-valid'] as const;
export type LicenceStatus = (typeof LICENCE_STATUSES)[number];

export function isLicenceStatus(s: unknown): s is LicenceStatus {
  return typeof s === 'string' && (LICENCE_STATUSES as readonly string[]).includes(s);
}
export function isLicenceWithdrawal(s: unknown): s is LicenceWithdrawal {
  return typeof s === 'string' && (LICENCE_WITHDRAWALS as readonly string[]).includes(s);
}

/** The words for one status in one language. */
export interface LicenceStatusTerm {
  /** The status alone: 已注销 / cancelled. */
  term: string;
  /** A banner title: 证照已注销 / Licence cancelled. */
  title: string;
  /** One sentence for the holder or a verifier. */
  note: string;
  /** The label of the date the status was set (注销时间), null where no one set it. */
  dateLabel: string | null;
}

export type LicenceStatusLocale = 'zh-CN' | 'en';

export const licenceStatusTerms: Record<LicenceStatusLocale, Record<LicenceStatus, LicenceStatusTerm>> = {
  'zh-CN': {
    valid: { term: '有效', title: '证照有效', note: '该电子证照已在证照库登记，当前有效。', dateLabel: null },
    cancelled: {
      term: '已注销',
      title: '证照已注销',
      note: '证照库显示此证照已注销（如持证主体申请注销或已终止经营），不再有效。',
      dateLabel: '注销时间',
    },
    revoked: {
      term: '已吊销',
      title: '证照已吊销',
      note: '证照库显示此证照已被发证机关依法吊销，不再有效。',
      dateLabel: '吊销时间',
    },
    suspended: {
      term: '已中止',
      title: '证照已中止',
      note: '证照库显示此证照目前被中止使用（暂停效力），在恢复前不能作为有效证照使用。',
      dateLabel: '中止时间',
    },
    expired: { term: '已过期', title: '证照已过期', note: '此证照已超过有效期，已失效。', dateLabel: null },
    'not-yet-valid': {
      term: '尚未生效',
      title: '证照尚未生效',
      note: '此证照的有效期尚未开始。',
      dateLabel: null,
    },
  },
  en: {
    valid: {
      term: 'valid',
      title: 'Licence valid',
      note: 'The licence is registered and currently valid.',
      dateLabel: null,
    },
    cancelled: {
      term: 'cancelled',
      title: 'Licence cancelled',
      note: 'The licence registry shows that this licence was cancelled (for instance at the holder’s request, or because the business closed); it is no longer valid.',
      dateLabel: 'Cancelled',
    },
    revoked: {
      term: 'revoked',
      title: 'Licence revoked',
      note: 'The licence registry shows that the issuing authority revoked this licence as a penalty; it is no longer valid.',
      dateLabel: 'Revoked',
    },
    suspended: {
      term: 'suspended',
      title: 'Licence suspended',
      note: 'The licence registry shows that this licence is suspended; it cannot be relied on until it is reinstated.',
      dateLabel: 'Suspended',
    },
    expired: {
      term: 'expired',
      title: 'Licence expired',
      note: 'This licence is past its validity period.',
      dateLabel: null,
    },
    'not-yet-valid': {
      term: 'not yet valid',
      title: 'Licence not yet valid',
      note: 'The validity period of this licence has not started yet.',
      dateLabel: null,
    },
  },
};

/** The words for `status` in `locale` (an unknown status is never shown as valid). */
export function licenceStatusTerm(status: string, locale: LicenceStatusLocale = 'zh-CN'): LicenceStatusTerm {
  return isLicenceStatus(status)
    ? licenceStatusTerms[locale][status]
    : { term: status, title: status, note: '', dateLabel: null };
}
