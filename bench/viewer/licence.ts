/**
 * The input of bench/viewer: a 200-page sealed licence — the demo department's 食品经营许可证 face
 * (demo/src/licence-template.ts: CJK font subset, vector QR code) followed by 199 annex pages
 * (附件: 经营项目明细 and scanned supporting materials — Chinese text, a ruled table and a JPEG "scan"
 * on each page), licence.json embedded, then certified (DocMDP P=2) with a PNG seal on page 1 by the
 * bench CA's seal certificate (RSA-2048). A few MB; deterministic but for the signing time.
 *
 * Written to bench/.generated/viewer/ (git-ignored) and reused while the generator is unchanged.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fontkit from '@cantoo/fontkit';
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFImage, type PDFPage } from '@cantoo/pdf-lib';
import jpeg from 'jpeg-js';
import {
  creditCodeCheckChar,
  embedLicence,
  makeLicenceIdentifier,
  signPdf,
  signerFromPkcs12,
  type LicenceMetadata,
} from '@sidian/core';
import { ISSUER_CODE } from '../../packages/core/src/licence/licence.test-helpers';
import { renderLicence, SEAL_BOX } from '../../demo/src/licence-template';
import { prng } from '../../tests/verify/generator';
import { benchPki, GEN_DIR, REPO_ROOT, sealPng } from '../common';

/** Bump when the generated file changes shape. */
const VERSION = 1;

export interface ViewerInput {
  file: string;
  bytes: number;
  pages: number;
  /** PEM of the root CA that issued the seal certificate. */
  caPemFile: string;
}

const INK = rgb(0.12, 0.12, 0.14);
const MUTED = rgb(0.38, 0.38, 0.42);

/** A 480x340 "photographed document": paper tone, lines of dark blobs as text, a stamp, sensor noise. */
function scanJpeg(seed: number): Uint8Array {
  const w = 480;
  const h = 340;
  const rnd = prng(seed);
  const data = new Uint8Array(w * h * 4);
  const tone = 225 + rnd() * 20;
  const lines: { y: number; x0: number; x1: number }[] = [];
  for (let y = 30; y < h - 30; y += 18 + Math.floor(rnd() * 6))
    lines.push({ y, x0: 30 + rnd() * 20, x1: 200 + rnd() * 250 });
  const stamp = { x: 300 + rnd() * 120, y: 200 + rnd() * 90, r: 38 };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const shade = tone - (x / w) * 18 - (y / h) * 10;
      let r = shade;
      let g = shade - 3;
      let b = shade - 10;
      for (const l of lines) {
        if (Math.abs(y - l.y) < 4 && x > l.x0 && x < l.x1 && (x >> 3) % 5 !== 0) {
          r = g = b = 60;
          break;
        }
      }
      const d = Math.hypot(x - stamp.x, y - stamp.y);
      if (Math.abs(d - stamp.r) < 3 || d < 8) {
        r = 200;
        g = 40;
        b = 40;
      }
      const n = (rnd() - 0.5) * 14;
      const i = (y * w + x) * 4;
      data[i] = Math.max(0, Math.min(255, r + n));
      data[i + 1] = Math.max(0, Math.min(255, g + n));
      data[i + 2] = Math.max(0, Math.min(255, b + n));
      data[i + 3] = 255;
    }
  }
  return new Uint8Array(jpeg.encode({ data, width: w, height: h }, 70).data);
}

const ITEMS = [
  '热食类食品制售',
  '冷食类食品制售',
  '生食类食品制售',
  '半成品制售',
  '自制饮品制售',
  '散装食品销售',
  '预包装食品销售',
  '特殊食品销售',
  '保健食品销售',
  '婴幼儿配方乳粉销售',
];
const PHRASES = [
  '经营者应当按照许可范围依法从事食品经营活动，建立健全食品安全管理制度，落实食品安全主体责任。',
  '从业人员应当取得健康证明后方可上岗，每年进行健康检查，并接受食品安全知识培训。',
  '食品原料、食品添加剂和食品相关产品应当查验供货者的许可证和产品合格证明文件。',
  '经营场所应当保持内外环境整洁，采取消除苍蝇、老鼠、蟑螂和其他有害昆虫及其孳生条件的措施。',
  '本附件与许可证正本具有同等效力，涂改、倒卖、出租、出借或者以其他形式非法转让的无效。',
  '监督检查记录、整改通知和处理结果依法向社会公开，接受社会监督。',
];

function cnText(
  page: PDFPage,
  text: string,
  font: PDFFont,
  x: number,
  y: number,
  size: number,
  width: number,
): number {
  let line = '';
  for (const ch of text) {
    if (line && font.widthOfTextAtSize(line + ch, size) > width) {
      page.drawText(line, { x, y, size, font, color: INK });
      y -= size * 1.6;
      line = '';
    }
    line += ch;
  }
  if (line) page.drawText(line, { x, y, size, font, color: INK });
  return y - size * 1.6;
}

/** One annex page: title, page number, a ruled table of licensed items, paragraphs, one scanned image. */
function annexPage(
  doc: PDFDocument,
  n: number,
  total: number,
  cjk: PDFFont,
  latin: PDFFont,
  scan: PDFImage,
): void {
  const page = doc.addPage([595.28, 841.89]);
  const W = page.getWidth();
  page.drawText('附件：经营项目明细及申请材料', { x: 64, y: 780, size: 16, font: cjk, color: INK });
  page.drawText(`${n} / ${total}`, { x: W - 110, y: 780, size: 10, font: latin, color: MUTED });
  page.drawLine({ start: { x: 64, y: 770 }, end: { x: W - 64, y: 770 }, thickness: 0.8, color: MUTED });
  // the table: 8 rows x 3 columns
  const top = 750;
  const rowH = 22;
  const cols = [64, 120, 380, W - 64];
  for (let r = 0; r <= 8; r++)
    page.drawLine({
      start: { x: cols[0]!, y: top - r * rowH },
      end: { x: cols[3]!, y: top - r * rowH },
      thickness: 0.5,
      color: MUTED,
    });
  for (const x of cols)
    page.drawLine({ start: { x, y: top }, end: { x, y: top - 8 * rowH }, thickness: 0.5, color: MUTED });
  for (let r = 0; r < 8; r++) {
    const k = (n * 8 + r) % ITEMS.length;
    page.drawText(String(n * 8 + r - 7), {
      x: cols[0]! + 6,
      y: top - r * rowH - 15,
      size: 10,
      font: latin,
      color: INK,
    });
    page.drawText(ITEMS[k]!, { x: cols[1]! + 6, y: top - r * rowH - 15, size: 10.5, font: cjk, color: INK });
    page.drawText(r % 3 === 0 ? '含网络经营' : '仅限实体门店', {
      x: cols[2]! + 6,
      y: top - r * rowH - 15,
      size: 10.5,
      font: cjk,
      color: INK,
    });
  }
  let y = top - 8 * rowH - 28;
  for (let p = 0; p < 3; p++) y = cnText(page, PHRASES[(n + p) % PHRASES.length]!, cjk, 64, y, 11, W - 128);
  page.drawText('申请材料扫描件：', { x: 64, y: y - 4, size: 11, font: cjk, color: MUTED });
  page.drawImage(scan, { x: 64, y: 70, width: 360, height: 255 });
}

async function build(file: string, pages: number): Promise<void> {
  const font = new Uint8Array(readFileSync(path.join(REPO_ROOT, 'demo/public/fonts/sidian-demo-cjk.ttf')));
  const serial = '000777';
  const holderCode = '91411681MA9X7Q2L3' + creditCodeCheckChar('91411681MA9X7Q2L3');
  const metadata: LicenceMetadata = {
    version: 1,
    typeName: '食品经营许可证',
    typeCode: '11100000MB0143028K',
    number: 'JY14116810077777',
    identifier: makeLicenceIdentifier({
      typeCode: '11100000MB0143028K',
      issuerCode: ISSUER_CODE,
      serial,
      version: 1,
    }),
    holder: { name: '项城市示例餐饮连锁有限公司', idType: '统一社会信用代码', idNumber: holderCode },
    issuer: { name: '项城市市场监督管理局', creditCode: ISSUER_CODE },
    issueDate: '2026-01-05',
    validFrom: '2026-01-05',
    validUntil: '2031-01-04',
    data: {
      经营者名称: '项城市示例餐饮连锁有限公司',
      社会信用代码: holderCode,
      住所: '项城市莲花大道 1 号',
      经营场所: '项城市莲花大道 1 号及附件所列 199 处门店',
      主体业态: '餐饮服务经营者（连锁）',
      经营项目: '见附件：经营项目明细',
    },
  };
  const face = await renderLicence({
    metadata,
    qrUrl: `https://licences.example.gov.cn/v/${metadata.identifier}`,
    font,
  });
  const doc = await PDFDocument.load(face, { updateMetadata: false });
  doc.registerFontkit(fontkit);
  const cjk = await doc.embedFont(font, { subset: true });
  const latin = await doc.embedFont(StandardFonts.Helvetica);
  for (let n = 1; n < pages; n++) annexPage(doc, n, pages - 1, cjk, latin, await doc.embedJpg(scanJpeg(n)));
  const unsigned = embedLicence(await doc.save(), metadata);
  const pki = benchPki();
  const signer = await signerFromPkcs12(new Uint8Array(readFileSync(pki.p12File)), pki.password);
  const sealed = await signPdf(unsigned, {
    signer,
    image: new Uint8Array(readFileSync(await sealPng())),
    page: 1,
    rect: { x: SEAL_BOX.x, y: SEAL_BOX.y, width: SEAL_BOX.width, height: SEAL_BOX.height },
    certify: 2,
    reason: '电子证照签发',
    location: '项城市',
  });
  writeFileSync(file, sealed);
}

/** The sealed 200-page licence (built on first use, then reused). */
export async function viewerInput(pages = 200): Promise<ViewerInput> {
  const dir = path.join(GEN_DIR, 'viewer');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `licence-${pages}.pdf`);
  const stamp = `${file}.stamp`;
  const key = `v${VERSION} pages=${pages}`;
  if (!existsSync(file) || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== key) {
    await build(file, pages);
    writeFileSync(stamp, key);
  }
  return { file, bytes: statSync(file).size, pages, caPemFile: benchPki().caPemFile };
}
