/** <material-uploader>'s UI text: zh-CN (default) and English. */
import { errorStrings } from '../shared/error-strings';
import { LICENCE_STATUSES, licenceStatusTerms, type LicenceStatusLocale } from '@sidian/core';

/** The registry's statuses in words, from the one table in @sidian/core (licence/status.ts). */
const statusTerms = (locale: LicenceStatusLocale) =>
  Object.fromEntries(LICENCE_STATUSES.map((s) => [s, licenceStatusTerms[locale][s].term])) as Record<
    string,
    string
  >;

/**
 * A file size for people: bytes, KB, MB or GB (powers of 1024, as file managers on Windows show
 * them), the number written the locale's way. A 20 KB photo is "20 KB", never "0 MB".
 */
export function fileSize(n: number, locale: 'zh-CN' | 'en'): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = Math.max(0, n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = u === 0 || v >= 100 ? 0 : 1;
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(v)} ${units[u]}`;
}

export const materialUploaderStrings = {
  'zh-CN': {
    region: '申请材料',
    required: '必需',
    optional: '可选',
    choose: '选择文件',
    chooseFor: (name: string) => `选择文件：${name}`,
    dropHint: '可拖放文件到此处，或粘贴（Ctrl+V）',
    accepts: (types: string, max: string | null) => `格式：${types}${max ? `；不超过 ${max}` : ''}`,
    size: (n: number) => fileSize(n, 'zh-CN'),
    list: (items: string[]) => items.join('、'),
    missing: (names: string) => `请提供以下必需材料：${names}`,
    noEndpoint: '未配置上传地址。',
    states: {
      checking: '正在检查文件…',
      converting: '正在将照片转换为 PDF…',
      hashing: (p: number) => `正在计算校验值 ${p}%`,
      signing: '正在签名…',
      ready: '等待上传',
      uploading: (done: string, total: string) => `正在上传 ${done} / ${total}`,
      paused: '已暂停',
      uploaded: '已上传',
      instant: '秒传：服务器已有相同文件，未重复传输',
      reused: '已使用证照库中的证照',
      error: '上传失败',
      needFile: '页面重新载入后请重新选择此文件以继续上传',
    },
    signed: '已签名',
    pause: '暂停',
    resume: '继续',
    cancel: '取消',
    retry: '重试',
    remove: '移除',
    uploadAll: '全部上传',
    progressLabel: (name: string) => `${name} 的进度`,
    reuseHeading: '使用已有证照（免提交）',
    reuse: '使用此证照',
    reuseLabel: (t: string, n: string) => `使用此证照：${t} ${n}`,
    licenceState: statusTerms('zh-CN'),
    licenceReason: (reason: string) => `（原因：${reason}）`,
    announceAdded: (name: string) => `已添加 ${name}`,
    announceUploaded: (name: string) => `${name} 已上传`,
    announceRejected: (name: string, reason: string) => `${name} 未被接受：${reason}`,
    kinds: { pdf: 'PDF', png: 'PNG', jpeg: 'JPEG', ofd: 'OFD' } as Record<string, string>,
    rejections: {
      EMPTY: '文件是空的。',
      TOO_LARGE: (size: string, max: string) => `文件大小为 ${size}，超过此项材料的上限 ${max}。`,
      EXECUTABLE: (ext: string, what: string) => `文件${ext ? `扩展名为 ${ext}，但` : ''}内容是${what}，不是可接受的材料，已拒绝。`,
      TYPE_NOT_ALLOWED: (kind: string, allowed: string) => `文件内容是 ${kind}，此项材料只接受 ${allowed}。`,
      TYPE_UNKNOWN: (allowed: string) => `无法识别文件内容，此项材料只接受 ${allowed}。`,
      PDF_ENCRYPTED: 'PDF 文件已加密（设有密码），请上传未加密的文件。',
      PDF_UNREADABLE: 'PDF 文件已损坏或不完整，无法读取。',
      PDF_NO_PAGES: 'PDF 文件没有页面。',
      NO_REQUIREMENT: '没有与此文件对应的材料项。',
    },
    whatExe: { 'windows-executable': 'Windows 可执行程序', 'elf-executable': 'Linux 可执行程序', 'macho-executable': 'macOS 可执行程序', script: '脚本程序' } as Record<string, string>,
    errors: {
      ...errorStrings['zh-CN'],
      NO_ENDPOINT: '未配置上传地址。',
      UPLOAD_FAILED: '上传失败，请检查网络后重试。',
      HASH_MISMATCH: '服务器收到的文件与本地文件不一致，请重试。',
      NO_SIGNER: '没有签名密钥，无法签名。',
      SIGNATURE_REFUSED: '服务器验证签名未通过，签名未保存，请重新签名。',
      UNAUTHORIZED: '登录已失效，请重新登录。',
      UNKNOWN: '处理失败。',
    } as Record<string, string>,
  },
  en: {
    region: 'Application materials',
    required: 'required',
    optional: 'optional',
    choose: 'Choose file',
    chooseFor: (name: string) => `Choose file: ${name}`,
    dropHint: 'Drop files here, or paste (Ctrl+V)',
    accepts: (types: string, max: string | null) => `Formats: ${types}${max ? `; up to ${max}` : ''}`,
    size: (n: number) => fileSize(n, 'en'),
    list: (items: string[]) => items.join(', '),
    missing: (names: string) => `Please provide the required materials: ${names}`,
    noEndpoint: 'No upload endpoint is configured.',
    states: {
      checking: 'Checking the file…',
      converting: 'Turning the photos into a PDF…',
      hashing: (p: number) => `Computing the checksum ${p}%`,
      signing: 'Signing…',
      ready: 'Waiting to upload',
      uploading: (done: string, total: string) => `Uploading ${done} of ${total}`,
      paused: 'Paused',
      uploaded: 'Uploaded',
      instant: 'Instant: the server already has this file, nothing was sent again',
      reused: 'Using a licence from the registry',
      error: 'Upload failed',
      needFile: 'After the page reload, choose this file again to continue',
    },
    signed: 'signed',
    pause: 'Pause',
    resume: 'Resume',
    cancel: 'Cancel',
    retry: 'Retry',
    remove: 'Remove',
    uploadAll: 'Upload all',
    progressLabel: (name: string) => `Progress of ${name}`,
    reuseHeading: 'Use a licence you already hold',
    reuse: 'Use this licence',
    reuseLabel: (t: string, n: string) => `Use this licence: ${t} ${n}`,
    licenceState: statusTerms('en'),
    licenceReason: (reason: string) => ` (reason: ${reason})`,
    announceAdded: (name: string) => `${name} added`,
    announceUploaded: (name: string) => `${name} uploaded`,
    announceRejected: (name: string, reason: string) => `${name} was not accepted: ${reason}`,
    kinds: { pdf: 'PDF', png: 'PNG', jpeg: 'JPEG', ofd: 'OFD' } as Record<string, string>,
    rejections: {
      EMPTY: 'The file is empty.',
      TOO_LARGE: (size: string, max: string) => `The file is ${size}, over this item's limit of ${max}.`,
      EXECUTABLE: (ext: string, what: string) => `${ext ? `The file is named ${ext} but` : 'The file'} contains ${what}; it is not an acceptable material and was rejected.`,
      TYPE_NOT_ALLOWED: (kind: string, allowed: string) => `The file contains ${kind}; this item accepts only ${allowed}.`,
      TYPE_UNKNOWN: (allowed: string) => `The file's content is not recognised; this item accepts only ${allowed}.`,
      PDF_ENCRYPTED: 'The PDF is encrypted (password protected); upload an unencrypted file.',
      PDF_UNREADABLE: 'The PDF is damaged or incomplete and cannot be read.',
      PDF_NO_PAGES: 'The PDF has no pages.',
      NO_REQUIREMENT: 'No item of the checklist takes this file.',
    },
    whatExe: { 'windows-executable': 'a Windows program', 'elf-executable': 'a Linux program', 'macho-executable': 'a macOS program', script: 'a script' } as Record<string, string>,
    errors: {
      ...errorStrings.en,
      NO_ENDPOINT: 'No upload endpoint is configured.',
      UPLOAD_FAILED: 'The upload failed; check the network and retry.',
      HASH_MISMATCH: 'The server received a file different from yours; retry.',
      NO_SIGNER: 'No signing key is set.',
      SIGNATURE_REFUSED: 'The server could not verify your signature over this file; it was not kept. Sign again.',
      UNAUTHORIZED: 'Your sign-in has expired; sign in again.',
      UNKNOWN: 'Processing failed.',
    } as Record<string, string>,
  },
};
