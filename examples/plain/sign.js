// How a page gives the elements what they need (docs/elements-guide.md): a signer from a PKCS#12
// file or from a WebCrypto key, a seal image, a signature placement and a checklist of materials.
import {
  createCertificationRequest,
  sealPng,
  signerFromCryptoKey,
  signerFromPkcs12,
} from 'http://localhost:8080/elements/sidian.js';

const $ = (id) => document.getElementById(id);
const bytesOf = async (input) => new Uint8Array(await input.files[0].arrayBuffer());

// ---- <seal-placer>: the department's seal key from a PKCS#12 file (.p12 / .pfx) -------------------
const placer = $('placer');
placer.sealImage = await sealPng(
  { name: '四电市数据管理局', purpose: '业务专用章', code: '3301000012345' },
  400,
);

$('pdf').addEventListener('change', async () => {
  placer.document = await bytesOf($('pdf')); // a new document also leaves the done state
});
$('use-p12').addEventListener('click', async () => {
  try {
    // signerFromPkcs12 reads RSA and ECDSA keys as OpenSSL 3 writes them; the key stays in this page
    placer.signer = await signerFromPkcs12(await bytesOf($('p12')), $('password').value);
    $('seal-status').textContent = '证书已载入，请放置印章后盖章';
  } catch (e) {
    $('seal-status').textContent = `证书无法使用（${e.code}）`;
  }
});
placer.addEventListener('sealed', (e) => {
  $('seal-status').textContent = `已盖章：${e.detail.sha256}`;
  pad.document = e.detail.pdf; // the applicant signs the sealed file next
});

// ---- <signature-pad>: a non-extractable WebCrypto key and a placement -----------------------------
// The key is made in the browser and never leaves it; its certificate comes from enrolment: a CSR
// (createCertificationRequest) sent with the portal's token to POST /api/enrol. The page gets the
// token from its own portal login; here the development server's /api/dev/token stands in for it.
const SIDIAN = 'http://localhost:8080';
const pad = $('pad');
const uploader = $('uploader');
const pemToDer = (pem) =>
  Uint8Array.from(atob(pem.replace(/-----[^-]+-----|\s/g, '')), (c) => c.charCodeAt(0));

$('enrol').addEventListener('click', async () => {
  const { token } = await (
    await fetch(`${SIDIAN}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '张三', idNumber: '110101199003074477' }),
    })
  ).json();
  const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ]);
  const csr = await createCertificationRequest(keys, { commonName: '张三' });
  const res = await fetch(`${SIDIAN}/api/enrol`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pkcs10' },
    body: csr,
  });
  const { certificate, chain } = await res.json(); // PEM
  const signer = signerFromCryptoKey(keys.privateKey, pemToDer(certificate), chain.map(pemToDer));
  pad.signer = signer;
  uploader.token = token; // the same login for the uploads
  uploader.signer = signer; // for items with `sign: true`
  $('sign-status').textContent = '证书已签发，请签名';
});
// where the handwriting goes: page 1 (1-based), x/y of the lower-left corner from the page's
// bottom-left, width and height, all in PDF points (1/72 inch); or `field` names an existing field
pad.placement = { page: 1, x: 72, y: 72, width: 180, height: 60 };
pad.addEventListener('signed', (e) => {
  $('sign-status').textContent = `已签名：${e.detail.sha256}`;
});

// ---- <material-uploader>: the checklist -----------------------------------------------------------
$('uploader').requirements = [
  // id: stable key sent with the upload; accept: kinds by content (pdf, ofd, png, jpeg, image/*);
  // maxSize in bytes; sign: the applicant signs the file (needs .signer)
  {
    id: 'business-licence',
    name: '营业执照',
    required: true,
    accept: 'pdf,ofd',
    maxSize: 20 * 1024 * 1024,
    sign: true,
  },
  {
    id: 'id-card',
    name: '法定代表人身份证',
    required: true,
    accept: 'image/*,pdf',
    maxSize: 5 * 1024 * 1024,
    photosToPdf: true,
  },
  { id: 'other', name: '其他材料', accept: 'pdf', multiple: true },
];
