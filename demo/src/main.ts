/**
 * The demo portal: one service (食品经营许可证 新办) walked through by its three parties in one page.
 *   1. the applicant signs in (development token) and hands in materials with <material-uploader>,
 *      reusing the business licence the registry already holds for one requirement (免证可办);
 *   2. the department generates the licence from its template, seals it with <seal-placer>
 *      (certification signature, DocMDP P=2, RFC 3161 timestamp) and registers it;
 *   3. the applicant makes a WebCrypto key, gets a certificate (CSR to /api/enrol) and signs for
 *      receipt with <signature-pad> in the field the department prepared;
 *   4. a verifier checks the licence with <licence-viewer> and through its QR link; the department
 *      revokes it and both show it revoked.
 * Everything the elements and the engine do comes from /elements/sidian.js, as on any site.
 */
import {
  createCertificationRequest,
  certificationRequestPem,
  creditCodeCheckChar,
  fetchPrefill,
  parseSeal,
  prefill,
  sealPdf,
  sealPng,
  signPdf,
  signerFromCryptoKey,
  signerFromPkcs12,
  type LicenceViewer,
  type MaterialRequirement,
  type MaterialUploader,
  type SealPlacer,
  type SignaturePad,
  type Signer,
} from '../../packages/elements/src/sidian';
import { api, base64ToBytes, pemToDer, type DevDepartment } from './api';
import { currentLang, setLang, t, type Lang } from './i18n';
import {
  askRevokeReason,
  localiseFlowViews,
  openButton,
  setViewerSources,
  showReceiptDocument,
  wireFlowViews,
  type MaterialRef,
} from './flow-views';
// the template (pdf-lib, fontkit, qrcode: most of the demo's code) is loaded when first needed
const template = () => import('./template-entry');
import { idbGet, idbSet, loadState, resetAll, saveState, type DemoState } from './store';
import { citizenSm2Signer, departmentGbSeal, departmentSm2Signer, gmMode, resetGm, setGmMode } from './gm';

/** 营业执照's type code (BUSINESS_LICENCE_TYPE in the template). */
const BUSINESS_LICENCE_CODE = 'YYZZ';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

let state: DemoState = loadState();
const update = (patch: Partial<DemoState>) => {
  state = { ...state, ...patch };
  saveState(state);
};

// ---- shared ----------------------------------------------------------------------------------

let fontPromise: Promise<Uint8Array> | undefined;
/** The CJK font the template embeds (a subset per licence), fetched once. */
function font(): Promise<Uint8Array> {
  fontPromise ??= fetch('/fonts/sidian-demo-cjk.ttf').then(async (r) => {
    if (!r.ok) throw new Error(`font: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  });
  return fontPromise;
}

let departmentPromise:
  Promise<{ info: DevDepartment; signer: Signer; sealImage: Uint8Array; gbSeal?: Uint8Array }> | undefined;
/**
 * The demo department: its seal key imported into WebCrypto (non-extractable) and its seal image;
 * in 国密 mode an SM2 key and its GB/T 38540 seal (SESeal) from the server's seal authority, whose
 * picture is the seal image.
 */
function department() {
  departmentPromise ??= (async () => {
    const info = await api.devDepartment();
    const purpose = '行政审批专用章';
    const sealImage = await sealPng({ name: info.name, purpose, code: info.creditCode.slice(0, 13) });
    if (!gmMode()) {
      const signer = await signerFromPkcs12(base64ToBytes(info.seal.p12), info.seal.password);
      return { info, signer, sealImage };
    }
    // 国密: the seal is an SM2 key certified by the server's SM2 CA, and a GB/T 38540 seal
    // registered for it (demo/src/gm.ts); 业务专用章 is type 3 of GB/T 38540
    const sm2 = await departmentSm2Signer(info.name, info.apiKey);
    const gbSeal = await departmentGbSeal(sm2, {
      apiKey: info.apiKey,
      name: `${info.name}${purpose}`,
      type: 3,
      picture: sealImage,
      size: 42,
    });
    return { info, signer: sm2.signer, sealImage, gbSeal };
  })();
  departmentPromise.catch(() => (departmentPromise = undefined));
  return departmentPromise;
}

/** The status lines, kept as functions of the language so the 「English」 switch re-renders them. */
const statusLines = new Map<string, { message: () => string; kind: 'info' | 'ok' | 'error' }>();

function status(id: string, message: () => string, kind: 'info' | 'ok' | 'error' = 'info') {
  statusLines.set(id, { message, kind });
  const el = $(id);
  el.textContent = message();
  el.dataset.kind = kind;
}

function fail(where: string) {
  return (e: unknown) => {
    console.warn(e);
    status(where, () => t('error', (e as Error).message ?? String(e)), 'error');
  };
}

const today = () => new Date().toISOString().slice(0, 10);
const digits = (n: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => String(b % 10)).join('');
function plusYears(iso: string, years: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

/** A 统一社会信用代码 for the applicant's shop (个体工商户: 92), check character computed. */
const SHOP_CODE = '92411681MA9K8XWP1' + creditCodeCheckChar('92411681MA9K8XWP1');

function show(step: number) {
  for (let i = 1; i <= 4; i++) {
    $(`step-${i}`).hidden = i !== step;
    const tab = $(`tab-${i}`);
    if (i === step) tab.setAttribute('aria-current', 'step');
    else tab.removeAttribute('aria-current');
  }
  if (location.hash !== `#step-${step}`) history.replaceState(null, '', `#step-${step}`);
  void enter[step]?.().catch(fail(`status-${step}`));
}

// ---- 1. applicant: materials -------------------------------------------------------------------

const uploader = () => $<MaterialUploader>('uploader');

function requirements(): MaterialRequirement[] {
  return [
    {
      id: 'business-licence',
      name: t('reqBusinessLicence'),
      required: true,
      accept: ['pdf'],
      licenceTypes: [BUSINESS_LICENCE_CODE],
    },
    {
      id: 'premises',
      name: t('reqPremises'),
      required: true,
      accept: ['pdf', 'jpeg', 'png'],
      photosToPdf: true,
    },
    { id: 'rules', name: t('reqRules'), required: true, accept: ['pdf'] },
    { id: 'health', name: t('reqHealth'), required: false, accept: ['pdf', 'jpeg', 'png'], multiple: true },
  ];
}

/** Demo data: the applicant's business licence, issued and registered as the department would. */
async function ensureEarlierLicence(token: string, person: { name: string; idNumber: string }) {
  const { licences } = await api.holderLicences(token, BUSINESS_LICENCE_CODE);
  const usable = licences.find((l) => l.status === 'valid');
  if (usable) {
    update({ earlierLicence: { id: usable.id, number: usable.number } });
    return;
  }
  status('status-1', () => t('seeding'));
  const dept = await department();
  const issueDate = new Date(Date.now() - 400 * 86400_000).toISOString().slice(0, 10);
  const { draftLicence, BUSINESS_LICENCE_TYPE, SEAL_BOX } = await template();
  const draft = await draftLicence({
    type: BUSINESS_LICENCE_TYPE,
    holder: { name: person.name, idType: '居民身份证', idNumber: person.idNumber },
    issuer: { name: dept.info.name, creditCode: dept.info.creditCode },
    number: SHOP_CODE,
    serial: `YY${digits(12)}`,
    issueDate,
    validUntil: null,
    data: {
      统一社会信用代码: SHOP_CODE,
      名称: `项城市${person.name}小吃店`,
      类型: '个体工商户',
      组成形式: '个人经营',
      经营范围: '餐饮服务；食品销售（依法须经批准的项目，经相关部门批准后方可开展经营活动）',
      经营场所: '河南省周口市项城市莲花大道88号一楼',
    },
    baseUrl: location.origin,
    font: await font(),
  });
  const options = {
    signer: dept.signer,
    certify: 2 as const,
    page: 1,
    rect: SEAL_BOX,
    reason: '颁发电子证照',
  };
  // 国密: sealed with the department's GB/T 38540 seal (its picture), as in step 2
  const sealed = dept.gbSeal
    ? await sealPdf(draft.pdf, { ...options, seal: dept.gbSeal })
    : await signPdf(draft.pdf, { ...options, image: dept.sealImage });
  const reg = await api.register(dept.info.apiKey, sealed);
  update({ earlierLicence: { id: reg.id, number: reg.number } });
}

async function login(ev: Event) {
  ev.preventDefault();
  const name = ($<HTMLInputElement>('person-name').value || '').trim();
  const idNumber = ($<HTMLInputElement>('person-id').value || '').trim();
  const { token } = await api.devToken(name, idNumber);
  update({ person: { name, idNumber }, token, tokenExpires: Date.now() + 3500_000 });
  await ensureEarlierLicence(token, { name, idNumber });
  await enter[1]!();
}

async function addSamples() {
  const { samplePdf } = await template();
  const f = await font();
  const up = uploader();
  const premises = await samplePdf(
    '房屋租赁合同（示例）',
    [
      '出租方：项城市莲花置业有限公司',
      '承租方：' + (state.person?.name ?? '张三'),
      '房屋坐落：河南省周口市项城市莲花大道88号一楼',
      '租赁期限：2025年1月1日至2030年12月31日',
      '用途：餐饮经营',
    ],
    f,
  );
  const rules = await samplePdf(
    '食品安全管理制度（示例）',
    [
      '一、从业人员健康管理制度',
      '二、食品安全自查制度',
      '三、进货查验记录制度',
      '四、食品加工过程控制制度',
      '五、餐饮具清洗消毒制度',
    ],
    f,
  );
  const file = (bytes: Uint8Array, name: string) =>
    new File([bytes as Uint8Array<ArrayBuffer>], name, { type: 'application/pdf' });
  await up.addFiles([file(premises, '房屋租赁合同.pdf')], 'premises');
  await up.addFiles([file(rules, '食品安全管理制度.pdf')], 'rules');
}

/** 自动数据填充: the application form from what the registry vouches for, once per sign-in. */
const PREFILL_SERVICE = 'SPJYXKZ-XB';
let prefilledFor: string | undefined;
async function fillApplication(token: string) {
  if (prefilledFor === token) return;
  prefilledFor = token;
  const data = await fetchPrefill({ endpoint: '/api', service: PREFILL_SERVICE, token });
  prefill($<HTMLFormElement>('application-form'), data);
}

function submit() {
  const up = uploader();
  const form = $<HTMLFormElement>('application-form');
  if (!form.reportValidity()) {
    status('status-1', () => t('needForm'), 'error');
    return;
  }
  if (!up.checkValidity()) {
    status('status-1', () => t('needMaterials'), 'error');
    return;
  }
  const names = new Map(up.materials.map((m) => [m.requirementId, m.name]));
  update({
    application: {
      submittedAt: new Date().toISOString(),
      form: Object.fromEntries([...new FormData(form)].map(([k, v]) => [k, String(v)])),
      materials: up.value.map((v) => ({ ...v, name: names.get(v.requirementId) ?? '' })),
    },
  });
  status('status-1', () => t('submitted'), 'ok');
  show(2);
}

// ---- 2. department: generate, seal, register ------------------------------------------------

const placer = () => $<SealPlacer>('placer');
let sealedPdf: Uint8Array | undefined;

function renderApplication() {
  const app = state.application;
  const body = $('materials-body');
  body.replaceChildren();
  $('application').hidden = !app;
  $('no-application').hidden = !!app;
  if (!app) return;
  $('materials-caption').textContent = t('materialsOf', state.person?.name ?? '');
  const reqNames = new Map(requirements().map((r) => [r.id, r.name]));
  for (const m of app.materials) {
    const tr = document.createElement('tr');
    const cells = [
      reqNames.get(m.requirementId) ?? m.requirementId,
      m.licenceId ? `${m.name}（${t('reused')}）` : m.name,
      m.sha256.slice(0, 16) + '…',
    ];
    for (const c of cells) {
      const td = document.createElement('td');
      td.textContent = c;
      tr.append(td);
    }
    const open = document.createElement('td');
    open.append(openButton(m, loadMaterial));
    tr.append(open);
    body.append(tr);
  }
}

/** A material's bytes as the department reads them: its API key (the application was made to it). */
async function loadMaterial(m: MaterialRef): Promise<{ bytes: Uint8Array; type: string }> {
  if (m.licenceId) return { bytes: await api.licenceFile(m.licenceId), type: 'application/pdf' };
  if (!m.materialId) throw new Error('no stored file / 没有存储的文件');
  const dept = await department();
  const res = await fetch(`/api/materials/${encodeURIComponent(m.materialId)}/content`, {
    headers: { 'x-api-key': dept.info.apiKey },
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return { bytes: new Uint8Array(await res.arrayBuffer()), type: res.headers.get('content-type') ?? '' };
}

async function generate() {
  const person = state.person!;
  const form = state.application?.form ?? {};
  status('status-2', () => t('generating'));
  const dept = await department();
  const issueDate = today();
  const { draftLicence, FOOD_LICENCE_TYPE, SEAL_BOX } = await template();
  const draft = await draftLicence({
    type: FOOD_LICENCE_TYPE,
    holder: { name: person.name, idType: '居民身份证', idNumber: person.idNumber },
    issuer: { name: dept.info.name, creditCode: dept.info.creditCode },
    number: `JY14116810${digits(6)}`,
    serial: `${issueDate.replace(/-/g, '')}${digits(6)}`,
    issueDate,
    validUntil: plusYears(issueDate, 5),
    data: {
      // what the applicant's form says (filled from the registry, perhaps edited)
      经营者名称: form.shopName || `项城市${person.name}小吃店`,
      社会信用代码: form.creditCode || SHOP_CODE,
      住所: '河南省周口市项城市莲花大道88号',
      经营场所: form.premises || '河南省周口市项城市莲花大道88号一楼',
      主体业态: '餐饮服务经营者（小型餐饮）',
      经营项目: '热食类食品制售；冷食类食品制售；自制饮品制售（不含自酿酒）',
      日常监督管理机构: '项城市市场监督管理局莲花市场监督管理所',
    },
    baseUrl: location.origin,
    font: await font(),
  });
  const p = placer();
  p.signer = dept.signer;
  if (dept.gbSeal) {
    // 国密: sealed with the GB/T 38540 seal (it travels in the signature); its picture is the appearance
    p.sealImage = undefined;
    p.gbSeal = dept.gbSeal;
  } else {
    p.gbSeal = undefined;
    p.sealImage = dept.sealImage;
  }
  p.location = dept.info.region;
  p.document = draft.pdf;
  await until(() => p.state === 'loaded' || p.state === 'error');
  if (p.state === 'error') throw new Error('the licence PDF could not be opened');
  p.placements = [SEAL_BOX];
  $('sealing').hidden = false;
  const gb = dept.gbSeal && parseSeal(dept.gbSeal);
  status('status-2', () => (gb ? `${t('gmSeal', gb.property.name, gb.esID)} ` : '') + t('placeHint'));
}

async function register() {
  const dept = await department();
  const reg = await api.register(dept.info.apiKey, sealedPdf!);
  update({
    licence: { id: reg.id, number: reg.number, page: reg.page },
    acknowledged: false,
    revoked: false,
  });
  $<HTMLButtonElement>('register').disabled = true;
  renderLicenceLinks();
  status('status-2', () => t('registered', reg.id), 'ok');
}

function renderLicenceLinks() {
  for (const a of document.querySelectorAll<HTMLAnchorElement>('a.qr-link')) {
    a.hidden = !state.licence;
    if (state.licence) a.href = state.licence.page;
  }
}

// ---- 3. applicant: enrol a key, sign for receipt ----------------------------------------------

const pad = () => $<SignaturePad>('pad');

interface CitizenKey {
  privateKey: CryptoKey;
  certificate: Uint8Array;
  chain: Uint8Array[];
  serial: string;
}

async function enrol() {
  status('status-3', () => t('enrolling'));
  if (gmMode()) {
    // 国密: an SM2 key from the encrypted IndexedDB store (demo/src/gm.ts)
    const sm2 = await citizenSm2Signer(state.person!.name, state.token!);
    update({ certificateSerial: sm2.serial });
    return prepareSigning(sm2.signer, sm2.serial);
  }
  const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const csr = await createCertificationRequest(keys, { commonName: state.person!.name });
  const res = await api.enrol(state.token!, certificationRequestPem(csr));
  const key: CitizenKey = {
    privateKey: keys.privateKey,
    certificate: pemToDer(res.certificate),
    chain: res.chain.map(pemToDer),
    serial: res.serialNumber,
  };
  await idbSet('citizen-key', key);
  update({ certificateSerial: res.serialNumber });
  await prepareSigning(signerFromCryptoKey(key.privateKey, key.certificate, key.chain), key.serial);
}

async function prepareSigning(signer: Signer, serial: string) {
  const p = pad();
  p.signer = signer;
  p.field = 'acknowledgment'; // ACKNOWLEDGMENT_FIELD of the template
  p.src = `/api/licences/${encodeURIComponent(state.licence!.id)}/file`;
  showReceiptDocument(p.src);
  $('signing').hidden = false;
  $<HTMLButtonElement>('enrol').disabled = true;
  status(
    'status-3',
    () => `${t('enrolled', serial)}${gmMode() ? ` ${t('gmEnrolled')}` : ''} ${t('signHint')}`,
    'ok',
  );
}

/** The holder signed in the pad (its own 签名 button): keep the signed copy, offer it for download. */
async function received(pdf: Uint8Array) {
  await idbSet('acknowledged-pdf', pdf);
  update({ acknowledged: true });
  showDownload(pdf);
  status('status-3', () => t('received'), 'ok');
}

let downloadUrl: string | undefined;
function showDownload(pdf: Uint8Array) {
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(new Blob([pdf as Uint8Array<ArrayBuffer>], { type: 'application/pdf' }));
  const a = $<HTMLAnchorElement>('download');
  a.href = downloadUrl;
  a.download = `${state.licence?.number ?? 'licence'}-signed.pdf`;
  a.hidden = false;
}

// ---- 4. verifier ------------------------------------------------------------------------------

const viewer = () => $<LicenceViewer>('viewer');

async function revoke() {
  const reason = await askRevokeReason();
  if (!reason) return;
  const dept = await department();
  // 吊销 (a penalty, with the reason the clerk gave); a holder's request would be 'cancelled' (注销)
  await api.revoke(dept.info.apiKey, state.licence!.id, reason, 'revoked');
  update({ revoked: true });
  $<HTMLButtonElement>('revoke').disabled = true;
  await viewer().verify();
  status('status-4', () => t('revoked', reason), 'ok');
}

// ---- steps ------------------------------------------------------------------------------------

const enter: Record<number, () => Promise<void>> = {
  async 1() {
    const signedIn = !!state.token && (state.tokenExpires ?? 0) > Date.now();
    $('login-form').hidden = signedIn;
    $('applicant').hidden = !signedIn;
    if (!signedIn) return;
    $('who').textContent = t('loggedIn', state.person!.name);
    const earlier = state.earlierLicence;
    if (earlier) status('status-1', () => t('seeded', earlier.number), 'ok');
    const up = uploader();
    // the application is made to the demo department: only it (and the applicant) may read the materials
    if (!up.department) up.department = (await department()).info.id;
    up.requirements = requirements();
    if (up.token !== state.token) up.token = state.token;
    void fillApplication(state.token!).catch(fail('status-1'));
  },
  async 2() {
    renderApplication();
    const dept = await department();
    $('department-name').textContent = t('department', dept.info.name);
    $<HTMLButtonElement>('generate').disabled = !state.application || !!state.licence;
    renderLicenceLinks();
  },
  async 3() {
    const ready = !!state.licence && !!state.token;
    $('no-licence').hidden = ready;
    $('receive').hidden = !ready;
    if (!ready) return;
    const key = await idbGet<CitizenKey>('citizen-key');
    if (state.certificateSerial && !pad().signer) {
      if (gmMode()) await enrol();
      else if (key)
        await prepareSigning(signerFromCryptoKey(key.privateKey, key.certificate, key.chain), key.serial);
    }
    if (state.acknowledged) {
      const pdf = await idbGet<Uint8Array>('acknowledged-pdf');
      if (pdf) showDownload(pdf);
      status('status-3', () => t('received'), 'ok');
    }
  },
  async 4() {
    const v = viewer();
    $('verify-body').hidden = !state.licence;
    $('no-licence-4').hidden = !!state.licence;
    renderLicenceLinks();
    if (!state.licence) return;
    $<HTMLButtonElement>('revoke').disabled = !!state.revoked;
    const pdf = (await idbGet<Uint8Array>('acknowledged-pdf')) ?? (await api.licenceFile(state.licence.id));
    if (v.document !== pdf) v.document = pdf;
  },
};

function until(cond: () => boolean, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () =>
      cond() ? resolve() : Date.now() - t0 > ms ? reject(new Error('timed out')) : setTimeout(tick, 50);
    tick();
  });
}

function currentStep(): number {
  const m = /^#step-([1-4])$/.exec(location.hash);
  return m ? Number(m[1]) : 1;
}

function wire() {
  $('lang').addEventListener('click', () => {
    const next: Lang = currentLang() === 'zh-CN' ? 'en' : 'zh-CN';
    localStorage.setItem('sidian-demo-lang', next);
    setLang(next);
    renderGmSwitch();
    localiseFlowViews();
    for (const [id, line] of statusLines) status(id, line.message, line.kind);
    show(currentStep());
  });
  $('gm').addEventListener('click', () => {
    setGmMode(!gmMode());
    departmentPromise = undefined; // the department's seal follows the switch
    renderGmSwitch();
  });
  $('reset').addEventListener(
    'click',
    () =>
      void Promise.all([resetAll(), resetGm()]).then(() => {
        history.replaceState(null, '', '#step-1');
        location.reload();
      }),
  );
  for (let i = 1; i <= 4; i++) $(`tab-${i}`).addEventListener('click', (e) => (e.preventDefault(), show(i)));
  $('login-form').addEventListener('submit', (e) => void login(e).catch(fail('status-1')));
  $('samples').addEventListener('click', () => void addSamples().catch(fail('status-1')));
  $('submit').addEventListener('click', submit);
  uploader().addEventListener('all-uploaded', () => ($<HTMLButtonElement>('submit').disabled = false));
  $('generate').addEventListener('click', () => void generate().catch(fail('status-2')));
  placer().addEventListener('sealed', (e) => {
    sealedPdf = e.detail.pdf;
    $<HTMLButtonElement>('register').disabled = false;
  });
  $('register').addEventListener('click', () => void register().catch(fail('status-2')));
  $('enrol').addEventListener('click', () => void enrol().catch(fail('status-3')));
  pad().addEventListener('signed', (e) => void received(e.detail.pdf).catch(fail('status-3')));
  $('revoke').addEventListener('click', () => void revoke().catch(fail('status-4')));
  window.addEventListener('hashchange', () => show(currentStep()));
  wireFlowViews();
}

/** 国密 switch: its state in its text and aria-pressed. */
function renderGmSwitch() {
  const b = $('gm');
  b.textContent = t('gmSwitch', gmMode());
  b.setAttribute('aria-pressed', String(gmMode()));
  b.title = t('gmHint');
}

setViewerSources();
setLang((localStorage.getItem('sidian-demo-lang') as Lang | null) ?? 'zh-CN');
renderGmSwitch();
localiseFlowViews();
if (state.person) {
  $<HTMLInputElement>('person-name').value = state.person.name;
  $<HTMLInputElement>('person-id').value = state.person.idNumber;
}
wire();
show(currentStep());
document.body.dataset.ready = 'true';
