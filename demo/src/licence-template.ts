/**
 * The licence template of the demo department: a 食品经营许可证 drawn with @cantoo/pdf-lib, Chinese
 * text in an embedded subset of a CJK font (only the glyphs used), a QR code pointing at the
 * registry page `/v/:id`, and an empty signature field `acknowledgment` where the holder signs
 * for receipt (领证签收) after the department has certified the document (DocMDP P=2 allows it).
 * licence.json is attached afterwards by @sidian/core's embedLicence, so that the seal covers it.
 *
 * Runs in the browser (the demo's department page) and in Node (tests) alike.
 */
import {
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFString,
  StandardFonts,
  rgb,
  type PDFFont,
  type PDFPage,
  type RGB,
} from '@cantoo/pdf-lib';
import fontkit from '@cantoo/fontkit';
import QRCode from 'qrcode';
import type { LicenceMetadata } from '../../packages/core/src/index';

/** The field the holder signs for receipt in; the department's seal is placed by <seal-placer>. */
export const ACKNOWLEDGMENT_FIELD = 'acknowledgment';

/** Where the seal goes on the page (PDF points, origin bottom-left): over the issuing authority and date. */
export const SEAL_BOX = { page: 1, x: 380, y: 150, width: 119, height: 119 };

/** 食品经营许可证's type code in the demo catalogue (证照类型代码). */
export const FOOD_LICENCE_TYPE = { code: 'SPJYXKZ', name: '食品经营许可证' };
/** 营业执照, the licence the applicant reuses for one requirement (免证可办). */
export const BUSINESS_LICENCE_TYPE = { code: 'YYZZ', name: '营业执照' };

export interface TemplateInput {
  metadata: LicenceMetadata;
  /** The registry URL the QR code carries (licenceQrPayload). */
  qrUrl: string;
  /** A TrueType font with CJK glyphs (demo/public/fonts/sidian-demo-cjk.ttf). */
  font: Uint8Array;
}

const INK = rgb(0.12, 0.12, 0.14);
const FRAME = rgb(0.55, 0.42, 0.18);
const MUTED = rgb(0.38, 0.38, 0.42);

function cnDate(iso: string): string {
  const [y, m, d] = iso.split('-').map(Number);
  return `${y}年${m}月${d}日`;
}

/** Text of the licence face in reading order: [label, value]. */
export function licenceFace(m: LicenceMetadata): [string, string][] {
  const d = m.data as Record<string, string | undefined>;
  if (m.typeCode === BUSINESS_LICENCE_TYPE.code) {
    return [
      ['统一社会信用代码', d['统一社会信用代码'] ?? ''],
      ['名称', d['名称'] ?? ''],
      ['类型', d['类型'] ?? '个体工商户'],
      ['经营者', m.holder.name],
      ['组成形式', d['组成形式'] ?? '个人经营'],
      ['经营范围', d['经营范围'] ?? ''],
      ['注册日期', cnDate(m.validFrom)],
      ['经营场所', d['经营场所'] ?? ''],
    ];
  }
  return [
    ['经营者名称', d['经营者名称'] ?? ''],
    ['社会信用代码', d['社会信用代码'] ?? ''],
    ['法定代表人（负责人）', m.holder.name],
    ['住所', d['住所'] ?? ''],
    ['经营场所', d['经营场所'] ?? ''],
    ['主体业态', d['主体业态'] ?? ''],
    ['经营项目', d['经营项目'] ?? ''],
    ['许可证编号', m.number],
    ['有效期至', m.validUntil ? cnDate(m.validUntil) : '长期'],
    ['日常监督管理机构', d['日常监督管理机构'] ?? m.issuer.name],
    ['投诉举报电话', '12315'],
  ];
}

/**
 * The CJK font has no Latin glyphs (Droid Sans Fallback is a fallback font), so text is drawn in
 * runs: ASCII in Helvetica (a standard font, nothing embedded), everything else in the CJK subset.
 */
interface Fonts {
  cjk: PDFFont;
  latin: PDFFont;
}

function runs(text: string): { ascii: boolean; text: string }[] {
  const out: { ascii: boolean; text: string }[] = [];
  for (const ch of text) {
    const ascii = ch.charCodeAt(0) < 0x80;
    const last = out[out.length - 1];
    if (last && last.ascii === ascii) last.text += ch;
    else out.push({ ascii, text: ch });
  }
  return out;
}

function textWidth(text: string, fonts: Fonts, size: number): number {
  return runs(text).reduce(
    (w, r) => w + (r.ascii ? fonts.latin : fonts.cjk).widthOfTextAtSize(r.text, size),
    0,
  );
}

function drawText(
  page: PDFPage,
  text: string,
  fonts: Fonts,
  o: { x: number; y: number; size: number; color: RGB },
) {
  let x = o.x;
  for (const r of runs(text)) {
    const font = r.ascii ? fonts.latin : fonts.cjk;
    page.drawText(r.text, { x, y: o.y, size: o.size, font, color: o.color });
    x += font.widthOfTextAtSize(r.text, o.size);
  }
}

/** Breaks `text` into lines no wider than `width` (CJK text breaks anywhere). */
function wrap(text: string, fonts: Fonts, size: number, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const ch of text) {
    if (line && textWidth(line + ch, fonts, size) > width) {
      lines.push(line);
      line = '';
    }
    line += ch;
  }
  if (line || !lines.length) lines.push(line);
  return lines;
}

function centred(page: PDFPage, text: string, fonts: Fonts, size: number, y: number, color = INK) {
  const w = textWidth(text, fonts, size);
  drawText(page, text, fonts, { x: (page.getWidth() - w) / 2, y, size, color });
}

/** The QR code as vector modules (no image: sharp at any zoom, a few hundred bytes). */
function drawQr(page: PDFPage, url: string, x: number, y: number, size: number) {
  const qr = QRCode.create(url, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const quiet = 2;
  const cell = size / (n + 2 * quiet);
  page.drawRectangle({ x, y, width: size, height: size, color: rgb(1, 1, 1) });
  for (let r = 0; r < n; r++) {
    // one rectangle per run of dark modules in a row keeps the content stream small
    let c = 0;
    while (c < n) {
      if (!qr.modules.get(r, c)) {
        c++;
        continue;
      }
      const start = c;
      while (c < n && qr.modules.get(r, c)) c++;
      page.drawRectangle({
        x: x + (quiet + start) * cell,
        y: y + size - (quiet + r + 1) * cell,
        width: (c - start) * cell + 0.01,
        height: cell + 0.01,
        color: rgb(0, 0, 0),
      });
    }
  }
}

/** Makes the licence PDF (before licence.json and the seal). */
export async function renderLicence(input: TemplateInput): Promise<Uint8Array> {
  const { metadata: m } = input;
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.registerFontkit(fontkit);
  const font: Fonts = {
    cjk: await doc.embedFont(input.font, { subset: true }),
    latin: await doc.embedFont(StandardFonts.Helvetica),
  };
  doc.setTitle(`${m.typeName} ${m.number}`, { showInWindowTitleBar: true });
  doc.setAuthor(m.issuer.name);
  doc.setSubject(`${m.typeName} · ${m.holder.name}`);
  doc.setLanguage('zh-CN');
  doc.setProducer('Sidian demo licence template');
  doc.setCreator('Sidian');
  const fixed = new Date(`${m.issueDate}T00:00:00Z`);
  doc.setCreationDate(fixed);
  doc.setModificationDate(fixed);

  const page = doc.addPage([595.28, 841.89]); // A4
  const W = page.getWidth();
  page.drawRectangle({
    x: 28,
    y: 28,
    width: W - 56,
    height: 841.89 - 56,
    borderColor: FRAME,
    borderWidth: 3,
  });
  page.drawRectangle({
    x: 36,
    y: 36,
    width: W - 72,
    height: 841.89 - 72,
    borderColor: FRAME,
    borderWidth: 0.8,
  });

  centred(page, m.typeName, font, 34, 740);
  centred(page, `（${m.typeCode === FOOD_LICENCE_TYPE.code ? '正本' : '电子证照'}）`, font, 14, 714, MUTED);
  drawText(page, `编号：${m.number}`, font, { x: 64, y: 684, size: 11, color: MUTED });

  // the licence face: label column, value column, values wrapped
  let y = 650;
  const labelX = 64;
  const valueX = 208;
  const valueWidth = W - valueX - 64;
  for (const [label, value] of licenceFace(m)) {
    drawText(page, label, font, { x: labelX, y, size: 12.5, color: MUTED });
    for (const line of wrap(value || '—', font, 12.5, valueWidth)) {
      drawText(page, line, font, { x: valueX, y, size: 12.5, color: INK });
      y -= 19;
    }
    y -= 7;
  }

  // QR code (bottom left) with its caption
  const qrSize = 96;
  drawQr(page, input.qrUrl, 64, 150, qrSize);
  drawText(page, '扫码核验证照状态', font, { x: 64, y: 136, size: 9, color: MUTED });

  // the issuing authority and date, where the seal goes
  drawText(page, `发证机关：${m.issuer.name}`, font, { x: 300, y: 228, size: 12.5, color: INK });
  drawText(page, `签发日期：${cnDate(m.issueDate)}`, font, { x: 300, y: 204, size: 12.5, color: INK });

  // the holder's receipt (领证签收): a line of text and an empty signature field for <signature-pad>
  drawText(page, '领证签收：本人已收到本证照电子文件，所载信息无误。', font, {
    x: 64,
    y: 100,
    size: 10.5,
    color: INK,
  });
  drawText(page, '领证人签名：', font, { x: 300, y: 66, size: 10.5, color: INK });
  const box = { x: 372, y: 50, width: 160, height: 44 };
  page.drawRectangle({ ...box, borderColor: MUTED, borderWidth: 0.5, borderDashArray: [3, 2] });
  addEmptySignatureField(doc, page, ACKNOWLEDGMENT_FIELD, '领证人签名 (holder signature)', box);

  return doc.save({ useObjectStreams: false });
}

/** An empty signature field with one widget (ISO 32000-2 §12.7.5.5), merged field and widget dictionary. */
function addEmptySignatureField(
  doc: PDFDocument,
  page: PDFPage,
  name: string,
  tooltip: string,
  r: { x: number; y: number; width: number; height: number },
) {
  const ctx = doc.context;
  const widget = ctx.obj({
    Type: 'Annot',
    Subtype: 'Widget',
    FT: 'Sig',
    Rect: [r.x, r.y, r.x + r.width, r.y + r.height],
    F: 4,
    P: page.ref,
  });
  widget.set(PDFName.of('T'), PDFString.of(name));
  widget.set(PDFName.of('TU'), PDFHexString.fromText(tooltip));
  const ref = ctx.register(widget);
  page.node.addAnnot(ref);
  doc.getForm().acroForm.addField(ref);
}

/** A one-page sample material (the demo's "add sample files" button and the end-to-end test). */
export async function samplePdf(title: string, lines: string[], fontBytes: Uint8Array): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.registerFontkit(fontkit);
  const font: Fonts = {
    cjk: await doc.embedFont(fontBytes, { subset: true }),
    latin: await doc.embedFont(StandardFonts.Helvetica),
  };
  doc.setTitle(title);
  const page = doc.addPage([595.28, 841.89]);
  centred(page, title, font, 22, 760);
  let y = 710;
  for (const line of lines) {
    for (const l of wrap(line, font, 12, 467)) {
      drawText(page, l, font, { x: 64, y, size: 12, color: INK });
      y -= 20;
    }
  }
  return doc.save();
}
