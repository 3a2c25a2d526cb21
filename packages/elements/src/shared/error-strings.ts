/**
 * The one table of error messages, zh-CN and English, for every code a user of the elements can meet:
 * the engine's `SidianError` codes (packages/core/src/errors.ts), the elements' own codes (errors.ts)
 * and the server's answers the elements translate (UNAUTHORIZED, NOT_SIGNED_IN). Each element's
 * strings start from this table and may say a code more precisely for its own act (盖章 vs 签名).
 * errors.test.ts walks every code and fails on a missing translation or English words in zh-CN.
 */
import type { SidianErrorCode } from '@sidian/core';
import type { ElementErrorCode } from './errors';

/** Codes the elements make from server answers, beside the engine's and their own. */
export type ServerAnswerCode = 'UNAUTHORIZED' | 'NOT_SIGNED_IN' | 'UNKNOWN';
export type MessageCode = SidianErrorCode | ElementErrorCode | ServerAnswerCode;

const zh: Record<MessageCode, string> = {
  // input PDFs
  PDF_NOT_PDF: '文件不是 PDF 文档。',
  PDF_TRUNCATED: '文档不完整（已截断）。',
  PDF_NO_XREF: '文档结构已损坏（缺少交叉引用表），无法读取。',
  PDF_MALFORMED: '文档格式错误，无法读取。',
  PDF_ENCRYPTED: '文档已加密（设有密码），请使用未加密的文件。',
  PDF_TOO_COMPLEX: '文档结构过于复杂，无法处理。',
  // signing options
  SIGN_PAGE_OUT_OF_RANGE: '页码超出文档范围。',
  SIGN_RECT_OUTSIDE_PAGE: '印章或签名的位置超出页面范围。',
  SIGN_BAD_IMAGE: '印章或签名图像无法读取（仅支持 PNG 和 JPEG）。',
  SIGN_FIELD_EXISTS: '该签名域已经签过。',
  SIGN_FIELD_NOT_FOUND: '文档中没有指定的签名域。',
  SIGN_CONTENTS_TOO_SMALL: '签名数据超出预留空间，请联系技术支持。',
  SIGN_CERTIFY_NOT_FIRST: '只有文档的第一个签名可以作为认证签名；此文档已有签名，不能再加认证签名。',
  SIGN_LOCKED: '文档的认证签名不允许再添加新的印章或签名。',
  SIGN_BAD_OPTIONS: '签章参数有误。',
  // keys and certificates
  P12_BAD_PASSWORD: '证书文件的密码不正确。',
  P12_MALFORMED: '证书文件已损坏或格式不正确。',
  P12_UNSUPPORTED: '不支持此证书文件的加密方式。',
  CERT_EXPIRED: '证书已过期。',
  CERT_NOT_YET_VALID: '证书尚未生效。',
  CERT_MALFORMED: '证书格式不正确。',
  KEY_UNSUPPORTED: '不支持此类密钥。',
  SIGNER_FAILED: '签名密钥未能完成签名（如智能密码钥匙已拔出或已取消）。',
  // CMS structures
  CMS_MALFORMED: '签名数据格式不正确。',
  // timestamps
  TSA_UNREACHABLE: '无法连接时间戳服务。',
  TSA_REJECTED: '时间戳服务拒绝了请求。',
  TSA_BAD_RESPONSE: '时间戳服务的应答无效。',
  // licences
  LICENCE_MISSING: '文件中没有证照信息。',
  LICENCE_INVALID: '证照信息不完整或有误。',
  // verification
  VERIFY_UNREADABLE: '无法读取文件，不能验证。',
  // long-term validation
  LTV_NOTHING_TO_EXTEND: '文档中没有可做长期验证的签名。',
  REVOCATION_UNREACHABLE: '无法获取证书吊销信息。',
  LIMIT_EXCEEDED: '文件超出处理上限。',
  // the elements' own
  NO_DOCUMENT: '没有文档。',
  FETCH_FAILED: '无法下载文件。',
  NO_SIGNER: '没有签名密钥，无法签署。',
  NO_SEAL_IMAGE: '没有印章图像。',
  NO_PLACEMENT: '请先放置印章。',
  PLACEMENT_OFF_PAGE: '位置超出页面范围，请调整。',
  SIGNATURE_EMPTY: '请先签名。',
  SIGNATURE_TOO_SIMPLE: '签名过于简单，请完整书写。',
  BUSY: '正在处理，请稍候。',
  DISABLED: '组件已禁用。',
  TRUST_FETCH_FAILED: '无法获取信任锚（根证书）。',
  NO_ENDPOINT: '未配置上传地址。',
  UPLOAD_FAILED: '上传失败，请检查网络后重试。',
  HASH_MISMATCH: '服务器收到的文件与本地文件不一致，请重试。',
  SIGNATURE_REFUSED: '服务器验证签名未通过，签名未保存，请重新签名。',
  MATERIALS_MISSING: '缺少必需的材料。',
  ALREADY_SEALED: '文件已盖章。如需在此文件上再加盖印章，请先重置。',
  ALREADY_SIGNED: '文件已签名。如需重新签名，请先重置。',
  // server answers
  NOT_SIGNED_IN: '您尚未登录，或页面未提供登录凭据，请先登录。',
  UNAUTHORIZED: '登录已失效，请重新登录。',
  // form filling (自动数据填充)
  FORM_FIELD_NOT_FOUND: '表单中没有指定的字段。',
  FORM_BAD_VALUE: '字段的值类型不正确。',
  FORM_BAD_OPTION: '所填的值不在该字段的选项之内。',
  FORM_READ_ONLY: '该字段为只读，不能填写。',
  FORM_LOCKED: '该字段已被签名锁定，填写会使签名失效。',
  FORM_MISSING_GLYPHS: '字体中缺少所填文字的字形。',
  FORM_BAD_FONT: '字体文件无法读取或格式不受支持。',
  // keys kept in this browser (国密 SM2)
  KEY_NOT_FOUND: '本浏览器中没有找到该密钥。',
  KEY_EXISTS: '本浏览器中已有同名密钥。',
  KEY_STORE_UNAVAILABLE: '本浏览器无法安全保存密钥（浏览器本地数据库不可用）。',
  // GB/T 38540 electronic seals (电子印章数据)
  SES_MALFORMED: '电子印章数据格式错误，无法读取。',
  SES_BAD_OPTIONS: '制作电子印章的参数不正确。',
  GLYPH_MISSING: '内置字体中没有这些字，无法绘制：',
  BATCH_DECLINED: '已取消批量签署，没有文件被盖章。',
  SEAL_SIGNER_NOT_LISTED: '签名密钥的证书不在该电子印章的签章者证书列表中（须为 SM2 证书），不能使用此印章。',
  UNKNOWN: '处理失败。',
};

const en: Record<MessageCode, string> = {
  PDF_NOT_PDF: 'The file is not a PDF document.',
  PDF_TRUNCATED: 'The document is incomplete (truncated).',
  PDF_NO_XREF: 'The document structure is damaged (no cross-reference table) and cannot be read.',
  PDF_MALFORMED: 'The document is malformed and cannot be read.',
  PDF_ENCRYPTED: 'The document is encrypted (password protected); use an unencrypted file.',
  PDF_TOO_COMPLEX: 'The document structure is too complex to process.',
  SIGN_PAGE_OUT_OF_RANGE: 'The page is not in the document.',
  SIGN_RECT_OUTSIDE_PAGE: 'The seal or signature lies outside the page.',
  SIGN_BAD_IMAGE: 'The seal or signature image cannot be read (PNG and JPEG only).',
  SIGN_FIELD_EXISTS: 'That signature field is already signed.',
  SIGN_FIELD_NOT_FOUND: 'The document has no such signature field.',
  SIGN_CONTENTS_TOO_SMALL: 'The signature does not fit the space reserved for it; contact support.',
  SIGN_CERTIFY_NOT_FIRST:
    'Only the first signature of a document can certify it; this document is already signed.',
  SIGN_LOCKED: 'The certification signature of this document does not permit a new seal or signature.',
  SIGN_BAD_OPTIONS: 'The signing options are not valid.',
  P12_BAD_PASSWORD: 'The password of the certificate file is wrong.',
  P12_MALFORMED: 'The certificate file is damaged or not in a known format.',
  P12_UNSUPPORTED: 'The encryption of this certificate file is not supported.',
  CERT_EXPIRED: 'The certificate has expired.',
  CERT_NOT_YET_VALID: 'The certificate is not yet valid.',
  CERT_MALFORMED: 'The certificate is malformed.',
  KEY_UNSUPPORTED: 'This kind of key is not supported.',
  SIGNER_FAILED: 'The signing key did not sign (a security key removed, or the request cancelled).',
  CMS_MALFORMED: 'The signature data is malformed.',
  TSA_UNREACHABLE: 'The timestamp service cannot be reached.',
  TSA_REJECTED: 'The timestamp service refused the request.',
  TSA_BAD_RESPONSE: 'The timestamp service gave an invalid answer.',
  LICENCE_MISSING: 'The file carries no licence data.',
  LICENCE_INVALID: 'The licence data is incomplete or wrong.',
  VERIFY_UNREADABLE: 'The file cannot be read, so it cannot be verified.',
  LTV_NOTHING_TO_EXTEND: 'The document has no signature to extend for long-term validation.',
  REVOCATION_UNREACHABLE: 'The certificate revocation information cannot be fetched.',
  LIMIT_EXCEEDED: 'The file is over the processing limit.',
  NO_DOCUMENT: 'There is no document.',
  FETCH_FAILED: 'The file could not be downloaded.',
  NO_SIGNER: 'No signing key is set.',
  NO_SEAL_IMAGE: 'There is no seal image.',
  NO_PLACEMENT: 'Place the seal first.',
  PLACEMENT_OFF_PAGE: 'The position lies outside the page; move it.',
  SIGNATURE_EMPTY: 'Please sign first.',
  SIGNATURE_TOO_SIMPLE: 'The signature is too simple; please write it out.',
  BUSY: 'Work is in progress; please wait.',
  DISABLED: 'The element is disabled.',
  TRUST_FETCH_FAILED: 'The trust anchors (root certificates) could not be fetched.',
  NO_ENDPOINT: 'No upload endpoint is configured.',
  UPLOAD_FAILED: 'The upload failed; check the network and retry.',
  HASH_MISMATCH: 'The server received a file different from yours; retry.',
  SIGNATURE_REFUSED:
    'The server could not verify your signature over this file; it was not kept. Sign again.',
  MATERIALS_MISSING: 'Required materials are missing.',
  ALREADY_SEALED: 'The document is already sealed. Reset first to add another seal to it.',
  ALREADY_SIGNED: 'The document is already signed. Reset first to sign again.',
  NOT_SIGNED_IN: 'You are not signed in, or the page gave no credentials; sign in first.',
  UNAUTHORIZED: 'Your sign-in has expired; sign in again.',
  // form filling
  FORM_FIELD_NOT_FOUND: 'The form has no field of that name.',
  FORM_BAD_VALUE: 'The value is of the wrong type for the field.',
  FORM_BAD_OPTION: 'The value is not one of the field\'s options.',
  FORM_READ_ONLY: 'The field is read-only.',
  FORM_LOCKED: 'A signature locks the field: filling it would invalidate the signature.',
  FORM_MISSING_GLYPHS: 'The font has no glyphs for some of the characters.',
  FORM_BAD_FONT: 'The font file cannot be read or its format is not supported.',
  // keys kept in this browser
  KEY_NOT_FOUND: 'No key of that name is kept in this browser.',
  KEY_EXISTS: 'A key of that name is already kept in this browser.',
  KEY_STORE_UNAVAILABLE: 'This browser cannot keep the key safely (IndexedDB is unavailable).',
  // GB/T 38540 electronic seals
  SES_MALFORMED: 'The electronic seal data is malformed and cannot be read.',
  SES_BAD_OPTIONS: 'The options for making the electronic seal are not valid.',
  GLYPH_MISSING: 'The built-in font cannot draw these characters:',
  BATCH_DECLINED: 'The batch was declined; no document was sealed.',
  SEAL_SIGNER_NOT_LISTED:
    "The signing key's certificate is not in this electronic seal's list of holders (an SM2 certificate is needed); the seal cannot be used with it.",
  UNKNOWN: 'Processing failed.',
};

export const errorStrings: { 'zh-CN': Record<MessageCode, string>; en: Record<MessageCode, string> } = {
  'zh-CN': zh,
  en,
};
