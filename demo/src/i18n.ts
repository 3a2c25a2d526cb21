/** The demo portal's own strings (the elements bring theirs); zh-CN first, English by the switch. */
export type Lang = 'zh-CN' | 'en';

const strings = {
  title: { 'zh-CN': '四电 · 政务服务演示门户', en: 'Sidian · government services demo portal' },
  service: { 'zh-CN': '食品经营许可证 · 新办', en: 'Food business licence · new application' },
  switchLang: { 'zh-CN': 'English', en: '中文' },
  switchLangLabel: { 'zh-CN': 'Switch to English', en: '切换为中文' },
  reset: { 'zh-CN': '重置演示', en: 'Reset demo' },
  gmSwitch: {
    'zh-CN': (on: boolean) => `国密 SM2：${on ? '开' : '关'}`,
    en: (on: boolean) => `SM2 (国密): ${on ? 'on' : 'off'}`,
  },
  gmHint: {
    'zh-CN':
      '开启后，部门用国密 SM2 印章密钥和服务器制章者签发的 GB/T 38540 电子印章盖章，申请人用国密 SM2 密钥签收（密钥加密保存在本浏览器的 IndexedDB 中，证书由服务器的 SM2 CA 签发）。',
    en: "When on, the department seals with an SM2 key and a GB/T 38540 electronic seal made by the server's seal authority, and the applicant signs for receipt with an SM2 key (keys kept encrypted in this browser's IndexedDB, certified by the server's SM2 CA).",
  },
  gmSeal: {
    'zh-CN': (name: string, esID: string) =>
      `国密：以 GB/T 38540 电子印章“${name}”（印章编码 ${esID}）盖章，印章数据随签名一起保存。`,
    en: (name: string, esID: string) =>
      `SM2: sealing with the GB/T 38540 electronic seal "${name}" (seal code ${esID}); the seal data travels with the signature.`,
  },
  gmEnrolled: {
    'zh-CN': '（国密 SM2 密钥，证书由服务器的 SM2 CA 签发）',
    en: "(SM2 key, certified by the server's SM2 CA)",
  },
  stepsLabel: { 'zh-CN': '办理步骤', en: 'Steps' },
  step1: { 'zh-CN': '1 申请人提交材料', en: '1 Applicant hands in materials' },
  step2: { 'zh-CN': '2 部门审批发证', en: '2 Department issues the licence' },
  step3: { 'zh-CN': '3 申请人签收', en: '3 Applicant signs for receipt' },
  step4: { 'zh-CN': '4 核验与吊销', en: '4 Verification and revocation' },
  devNote: {
    'zh-CN':
      '开发模式：登录使用开发令牌，部门印章密钥由本机服务交给演示页面（仅开发模式），导入浏览器后不可导出。',
    en: 'Development mode: sign-in uses development tokens; the local server hands the department seal key to this page (development mode only), imported into the browser as non-extractable.',
  },

  applyTitle: { 'zh-CN': '申请人：在线提交申请材料', en: 'Applicant: hand in the application materials' },
  loginLegend: { 'zh-CN': '登录（开发令牌）', en: 'Sign in (development token)' },
  name: { 'zh-CN': '姓名', en: 'Name' },
  idNumber: { 'zh-CN': '身份证号', en: 'ID number' },
  login: { 'zh-CN': '登录', en: 'Sign in' },
  loggedIn: { 'zh-CN': (n: string) => `已登录：${n}`, en: (n: string) => `Signed in as ${n}` },
  seeding: {
    'zh-CN': '正在准备演示数据：为申请人签发一份营业执照…',
    en: 'Preparing demo data: issuing a business licence to the applicant…',
  },
  seeded: {
    'zh-CN': (n: string) =>
      `证照库中已有申请人的营业执照（${n}），“营业执照”一项可直接复用，免于上传（免证可办）。`,
    en: (n: string) =>
      `The registry already holds the applicant's business licence (${n}): the "business licence" item can reuse it instead of an upload.`,
  },
  formLegend: { 'zh-CN': '申请表', en: 'Application form' },
  formHint: {
    'zh-CN': '证照库已有的信息已自动填写，并注明来源；如有变化可直接修改。',
    en: 'What the licence registry already holds is filled in, with its source; change anything that is out of date.',
  },
  formApplicant: { 'zh-CN': '申请人', en: 'Applicant' },
  formShop: { 'zh-CN': '经营者名称', en: 'Business name' },
  formCreditCode: { 'zh-CN': '统一社会信用代码', en: 'Unified social credit code' },
  formPremises: { 'zh-CN': '经营场所', en: 'Business premises' },
  needForm: { 'zh-CN': '请完整填写申请表。', en: 'Please complete the application form.' },
  samples: { 'zh-CN': '填入示例材料', en: 'Add sample files' },
  submit: { 'zh-CN': '提交申请', en: 'Submit the application' },
  submitted: {
    'zh-CN': '申请已提交，等待部门审批。',
    en: 'Application submitted; waiting for the department.',
  },
  needMaterials: { 'zh-CN': '请先上传全部必需材料。', en: 'Upload every required material first.' },

  reqBusinessLicence: { 'zh-CN': '营业执照', en: 'Business licence' },
  reqPremises: {
    'zh-CN': '经营场所使用证明（租赁合同或产权证明）',
    en: 'Proof of use of the premises (lease or title)',
  },
  reqRules: { 'zh-CN': '食品安全管理制度', en: 'Food safety management rules' },
  reqHealth: { 'zh-CN': '从业人员健康证明', en: 'Staff health certificates' },

  issueTitle: {
    'zh-CN': '审批部门：生成证照、加盖电子印章、登记',
    en: 'Department: generate the licence, seal it, register it',
  },
  department: { 'zh-CN': (n: string) => `审批部门：${n}`, en: (n: string) => `Department: ${n}` },
  noApplication: {
    'zh-CN': '尚无待审批的申请（请先完成第 1 步）。',
    en: 'No application waiting (complete step 1 first).',
  },
  materialsOf: { 'zh-CN': (n: string) => `${n} 提交的材料`, en: (n: string) => `Materials from ${n}` },
  colRequirement: { 'zh-CN': '材料', en: 'Item' },
  colFile: { 'zh-CN': '文件', en: 'File' },
  colHash: { 'zh-CN': 'SHA-256', en: 'SHA-256' },
  reused: { 'zh-CN': '复用证照', en: 'reused licence' },
  generate: { 'zh-CN': '审批通过，生成证照', en: 'Approve and generate the licence' },
  generating: {
    'zh-CN': '正在按模板生成证照（嵌入中文字体子集、licence.json 与二维码）…',
    en: 'Generating the licence from the template (CJK font subset, licence.json, QR code)…',
  },
  placeHint: {
    'zh-CN':
      '印章已放在发证机关处，可拖动、点击或用方向键调整；点击“盖章”以认证签名（DocMDP P=2）加盖电子印章。',
    en: 'The seal sits over the issuing authority; drag, click or use the arrow keys to move it, then press the seal button to certify the document (DocMDP P=2).',
  },
  register: { 'zh-CN': '登记到证照库', en: 'Register in the licence registry' },
  registered: {
    'zh-CN': (id: string) => `已登记，证照标识 ${id}`,
    en: (id: string) => `Registered; licence identifier ${id}`,
  },
  openQr: { 'zh-CN': '打开证照二维码链接', en: 'Open the licence QR link' },

  receiveTitle: {
    'zh-CN': '申请人：领取证照并签名签收',
    en: 'Applicant: receive the licence and sign for it',
  },
  noLicence: {
    'zh-CN': '证照尚未颁发（请先完成第 2 步）。',
    en: 'No licence issued yet (complete step 2 first).',
  },
  enrol: { 'zh-CN': '生成签名密钥并申领证书', en: 'Make a signing key and get a certificate' },
  enrolling: {
    'zh-CN': '正在浏览器中生成密钥并提交证书申请（CSR）…',
    en: 'Making a key in the browser and sending the certificate request (CSR)…',
  },
  enrolled: {
    'zh-CN': (s: string) => `已申领证书（序列号 ${s}），私钥保存在本浏览器中，不可导出。`,
    en: (s: string) =>
      `Certificate issued (serial ${s}); the private key stays in this browser, non-extractable.`,
  },
  signHint: {
    'zh-CN': '请在下方手写签名（或切换为键入姓名），然后签名签收。',
    en: 'Draw your signature below (or type your name), then sign for receipt.',
  },
  signReceipt: { 'zh-CN': '签名并签收', en: 'Sign for receipt' },
  received: {
    'zh-CN': '已签收：签名已写入证照上部门预留的签收栏。',
    en: 'Received: the signature is in the receipt field the department prepared.',
  },
  download: { 'zh-CN': '下载已签收的证照', en: 'Download the signed licence' },

  verifyTitle: { 'zh-CN': '核验方：查验证照真伪与状态', en: 'Verifier: check the licence' },
  verifyHint: {
    'zh-CN': '在浏览器中用与服务器相同的引擎核验印章与签名，并向证照库查询状态；也可扫描证照上的二维码。',
    en: 'The seal and signature are verified in the browser with the same engine as the server, and the registry is asked for the status; or scan the QR code on the licence.',
  },
  revoke: { 'zh-CN': '吊销证照（部门操作）', en: 'Revoke the licence (department)' },
  revoked: {
    'zh-CN': (reason: string) => `证照已吊销（原因：${reason}），核验结果随之更新。`,
    en: (reason: string) => `Licence revoked (reason: ${reason}); the verification result follows.`,
  },
  error: { 'zh-CN': (m: string) => `出错了：${m}`, en: (m: string) => `Something went wrong: ${m}` },
} as const;

type Key = keyof typeof strings;
type Args<K extends Key> = (typeof strings)[K]['zh-CN'] extends (...a: infer A) => string ? A : [];

let lang: Lang = 'zh-CN';

export function currentLang(): Lang {
  return lang;
}

export function t<K extends Key>(key: K, ...args: Args<K>): string {
  const entry = strings[key][lang] as string | ((...a: unknown[]) => string);
  return typeof entry === 'function' ? entry(...args) : entry;
}

/** Sets the language of the page (the elements follow `<html lang>`) and fills every `data-i18n` node. */
export function setLang(next: Lang): void {
  lang = next;
  document.documentElement.lang = next;
  document.title = t('title');
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    const key = el.dataset.i18n as Key;
    if (key in strings) el.textContent = t(key as never);
  }
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n-label]')) {
    const key = el.dataset.i18nLabel as Key;
    if (key in strings) el.setAttribute('aria-label', t(key as never));
  }
}
