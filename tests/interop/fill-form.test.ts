/**
 * Issue 18, auto fill in core: fillForm fills AcroForm fields (text, check box, radio, combo, list)
 * incrementally, with appearances that every reader shows — pdf.js reads the values back, qpdf's
 * JSON lists them, poppler draws them (ink in the field) and extracts the Chinese text — and a
 * certification with DocMDP P=2 stays valid after the fill in pdfsig, mutool and verifyPdf, while
 * P=1 is broken by it (verifyPdf). Every bad request is a typed error that writes nothing.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PDFDocument, PDFName, PDFString } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeForm, fillForm, signPdf, signerFromPkcs12, verifyPdf, type Signer } from '@sidian/core';
import { REPO_ROOT } from '../fixtures/paths';
import {
  createCa,
  issueCertificate,
  makePkcs12,
  makeTempDir,
  removeDir,
  type Ca,
} from '../helpers/openssl-pki';
import { mutoolSign, pdfsig, qpdfCheck } from './verifiers';

const FONTS = path.join(REPO_ROOT, 'node_modules/@fontsource/noto-serif-sc/files');
/** Noto Serif SC (OFL), the simplified-Chinese chunk: CJK and ASCII, TrueType outlines, WOFF. */
const cjkFont = () =>
  new Uint8Array(readFileSync(path.join(FONTS, 'noto-serif-sc-chinese-simplified-400-normal.woff')));
/** The Latin chunk of the same face: no Chinese glyphs. */
const latinFont = () => new Uint8Array(readFileSync(path.join(FONTS, 'noto-serif-sc-latin-400-normal.woff')));

let dir: string;
let ca: Ca;
let signer: Signer;

/** Field rectangles (PDF points, bottom-left origin), for the ink checks. */
const RECTS = {
  name: { x: 50, y: 700, width: 300, height: 24 },
  address: { x: 50, y: 600, width: 300, height: 60 },
  district: { x: 50, y: 450, width: 200, height: 24 },
};
const PAGE = { width: 595, height: 842 };

/** An application form as a department's tool writes it (pdf-lib): every kind of field. */
async function applicationForm(useObjectStreams: boolean): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([PAGE.width, PAGE.height]);
  const form = doc.getForm();
  form.createTextField('applicant.name').addToPage(page, RECTS.name);
  const address = form.createTextField('applicant.address');
  address.enableMultiline();
  address.addToPage(page, RECTS.address);
  form.createCheckBox('agree').addToPage(page, { x: 50, y: 550, width: 16, height: 16 });
  const type = form.createRadioGroup('type');
  type.addOptionToPage('company', page, { x: 50, y: 500, width: 16, height: 16 });
  type.addOptionToPage('person', page, { x: 100, y: 500, width: 16, height: 16 });
  const district = form.createDropdown('district');
  district.addOptions(['东城区', '西城区', 'Chaoyang']);
  district.addToPage(page, RECTS.district);
  const services = form.createOptionList('services');
  services.addOptions(['licence', 'permit', 'tax']);
  services.enableMultiselect();
  services.addToPage(page, { x: 50, y: 350, width: 200, height: 60 });
  const code = form.createTextField('code');
  code.setText('X1');
  code.enableReadOnly();
  code.addToPage(page, { x: 300, y: 550, width: 100, height: 20 });
  return doc.save({ useObjectStreams });
}

/** The same form with an empty signature field whose /Lock (FieldMDP, ISO 32000-2 §12.7.5.5) freezes the applicant's name once signed. */
async function formWithLockingSignatureField(): Promise<Uint8Array> {
  const doc = await PDFDocument.load(await applicationForm(false));
  const page = doc.getPage(0);
  const ctx = doc.context;
  const lock = ctx.obj({ Type: 'SigFieldLock', Action: 'Include', Fields: [PDFString.of('applicant.name')] });
  const field = ctx.register(
    ctx.obj({
      FT: 'Sig',
      T: PDFString.of('approval'),
      Type: 'Annot',
      Subtype: 'Widget',
      Rect: [400, 700, 500, 740],
      F: 4,
      P: page.ref,
      Lock: lock,
    }),
  );
  page.node.set(PDFName.of('Annots'), ctx.obj([...(page.node.Annots()?.asArray() ?? []), field]));
  doc.getForm().acroForm.addField(field);
  return doc.save({ useObjectStreams: false });
}

const VALUES = {
  'applicant.name': '张三 Zhang San',
  'applicant.address': '北京市东城区东长安街1号 (Dongcheng, Beijing 100010)',
  agree: true,
  type: 'person',
  district: '东城区',
  services: ['licence', 'tax'],
};

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Dark pixels (grey < 128) inside a field's rectangle, inset by 3 pt (off its border), at 72 dpi. */
function inkIn(file: string, rect: { x: number; y: number; width: number; height: number }): number {
  const prefix = path.join(dir, `ink-${Math.random().toString(36).slice(2)}`);
  run('pdftoppm', ['-r', '72', '-gray', '-singlefile', file, prefix]);
  const b = readFileSync(`${prefix}.pgm`);
  const header = b.subarray(0, 40).toString('latin1').split(/\s+/);
  const [w, h] = [Number(header[1]), Number(header[2])];
  const dataStart = b.length - w * h;
  let ink = 0;
  const top = PAGE.height - rect.y - rect.height;
  for (let y = Math.ceil(top + 3); y < Math.floor(top + rect.height - 3); y++) {
    for (let x = Math.ceil(rect.x + 3); x < Math.floor(rect.x + rect.width - 3); x++)
      if (b[dataStart + y * w + x]! < 128) ink++;
  }
  return ink;
}

async function pdfjsFields(bytes: Uint8Array): Promise<Record<string, unknown>> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await pdfjs.getDocument({ data: bytes.slice(), isEvalSupported: false, verbosity: 0 }).promise;
  try {
    const objects = (await doc.getFieldObjects()) ?? {};
    const out: Record<string, unknown> = {};
    for (const [name, list] of Object.entries(objects)) {
      const withValue = (list as { value?: unknown; exportValues?: unknown; type?: string }[]).find(
        (o) => o.value !== undefined && o.value !== 'Off' && o.value !== '',
      );
      out[name] = withValue?.value ?? (list as { value?: unknown }[])[0]?.value;
    }
    // The annotation layer: what a page shows in each widget.
    const page = await doc.getPage(1);
    for (const a of (await page.getAnnotations()) as { fieldName?: string; fieldValue?: unknown }[]) {
      if (a.fieldName) out[`annotation:${a.fieldName}`] = a.fieldValue;
    }
    return out;
  } finally {
    await doc.destroy();
  }
}

function errorOf(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  return p.then(
    () => ({ message: 'no error' }),
    (e: { code?: string; message: string }) => e,
  );
}

beforeAll(async () => {
  dir = makeTempDir('sidian-fill-');
  ca = createCa(dir, { name: 'ca', key: 'p-256', subject: '/C=CN/O=项城市人民政府/CN=项城市政务服务根证书' });
  const seal = issueCertificate(ca, {
    name: 'seal',
    key: 'p-256',
    subject: '/C=CN/O=项城市政务服务中心/CN=项城市政务服务中心',
  });
  signer = await signerFromPkcs12(makePkcs12(seal, { password: 'pw', chain: [ca] }).bytes, 'pw');
});
afterAll(() => removeDir(dir));

describe('fillForm on an application form', () => {
  for (const objectStreams of [false, true]) {
    it(`fills every kind of field incrementally (${objectStreams ? 'xref stream' : 'xref table'}) and readers read them back`, async () => {
      const input = await applicationForm(objectStreams);
      const out = await fillForm(input, VALUES, { font: cjkFont() });
      // the input is a byte-exact prefix: an incremental update
      expect(Buffer.from(out.subarray(0, input.length)).equals(Buffer.from(input))).toBe(true);
      expect(out.length).toBeGreaterThan(input.length);
      const file = path.join(dir, `filled-${objectStreams}.pdf`);
      writeFileSync(file, out);
      expect(qpdfCheck(file).ok, qpdfCheck(file).output).toBe(true);

      // our own reader
      const described = Object.fromEntries(describeForm(out).map((f) => [f.name, f.value]));
      expect(described).toMatchObject({ ...VALUES, code: 'X1' });

      // pdf.js: field objects and annotation values
      const js = await pdfjsFields(out);
      expect(js['applicant.name']).toBe(VALUES['applicant.name']);
      expect(js['applicant.address']).toBe(VALUES['applicant.address']);
      expect(js.agree).toBe('Yes');
      expect(js.district).toBe('东城区');
      expect(js['annotation:district']).toEqual(['东城区']);
      expect(js['annotation:services']).toEqual(['licence', 'tax']);

      // qpdf's JSON view of the form
      const q = JSON.parse(run('qpdf', ['--json=2', '--json-key=acroform', file])) as {
        acroform: {
          fields: { fullname: string; value: unknown; annotation: { appearancestate?: string } }[];
        };
      };
      const byName = (n: string) => q.acroform.fields.filter((f) => f.fullname === n);
      expect(byName('applicant.name')[0]!.value).toBe('u:张三 Zhang San');
      expect(byName('agree')[0]!.value).toBe('/Yes');
      expect(byName('agree')[0]!.annotation.appearancestate).toBe('/Yes');
      // the radio group: the chosen widget on, the other off
      expect(
        byName('type')
          .map((f) => f.annotation.appearancestate)
          .sort(),
      ).toEqual(['/1', '/Off']);
      expect(byName('services')[0]!.value).toEqual(['u:licence', 'u:tax']);

      // poppler draws the values (ink inside the fields, none before) and gives the text back
      const inputFile = path.join(dir, `input-${objectStreams}.pdf`);
      writeFileSync(inputFile, input);
      for (const rect of Object.values(RECTS)) {
        expect(inkIn(inputFile, rect)).toBe(0);
        expect(inkIn(file, rect)).toBeGreaterThan(40);
      }
      const text = run('pdftotext', ['-layout', file, '-']).replace(/\s+/g, '');
      for (const s of ['张三ZhangSan', '北京市东城区东长安街1号', '东城区', 'licence', 'tax'])
        expect(text).toContain(s);
    });
  }

  it("fills ASCII values with the form's own font when no font is given", async () => {
    const out = await fillForm(await applicationForm(false), {
      'applicant.name': 'Zhang San',
      district: 'Chaoyang',
    });
    const file = path.join(dir, 'ascii.pdf');
    writeFileSync(file, out);
    expect(inkIn(file, RECTS.name)).toBeGreaterThan(40);
    expect(run('pdftotext', [file, '-'])).toContain('Zhang San');
    expect((await pdfjsFields(out))['applicant.name']).toBe('Zhang San');
  });

  it('fills again on top of an earlier fill, and unchecks', async () => {
    const once = await fillForm(await applicationForm(false), VALUES, { font: cjkFont() });
    const twice = await fillForm(
      once,
      { 'applicant.name': '李四', agree: false, type: 'company' },
      { font: cjkFont() },
    );
    const d = Object.fromEntries(describeForm(twice).map((f) => [f.name, f.value]));
    expect(d).toMatchObject({ 'applicant.name': '李四', agree: false, type: 'company', district: '东城区' });
    const file = path.join(dir, 'twice.pdf');
    writeFileSync(file, twice);
    const text = run('pdftotext', [file, '-']);
    expect(text).toContain('李四');
    expect(text).not.toContain('张三');
  });
});

describe('bad requests are typed errors', () => {
  it.each([
    ['an unknown field', { 'applicant.nmae': 'x' }, 'FORM_FIELD_NOT_FOUND'],
    ['a number for a text field', { 'applicant.name': 42 }, 'FORM_BAD_VALUE'],
    ['a string for a check box that is no state', { agree: 'maybe' }, 'FORM_BAD_OPTION'],
    ['a list for a text field', { 'applicant.name': ['a'] }, 'FORM_BAD_VALUE'],
    ['a radio option that does not exist', { type: 'robot' }, 'FORM_BAD_OPTION'],
    ['a combo option not in the list', { district: '海淀区' }, 'FORM_BAD_OPTION'],
    ['a list option not in the list', { services: ['licence', 'visa'] }, 'FORM_BAD_OPTION'],
    ['a read-only field', { code: 'X2' }, 'FORM_READ_ONLY'],
    ['Chinese text without a font', { 'applicant.name': '张三' }, 'FORM_MISSING_GLYPHS'],
  ])('%s', async (_label, values, code) => {
    const e = await errorOf(fillForm(await applicationForm(false), values as never));
    expect(e.code, e.message).toBe(code);
  });

  it('a font without the glyphs', async () => {
    const e = await errorOf(
      fillForm(await applicationForm(false), { 'applicant.name': '张三' }, { font: latinFont() }),
    );
    expect(e.code).toBe('FORM_MISSING_GLYPHS');
    expect(e.message).toContain('U+5F20');
  });

  it('not a PDF, a PDF without a form, values that are not an object', async () => {
    expect((await errorOf(fillForm(new TextEncoder().encode('hello'), { a: 'b' }))).code).toMatch(/^PDF_/);
    const plain = await PDFDocument.create();
    plain.addPage();
    const e = await errorOf(fillForm(await plain.save(), { 'applicant.name': 'x' }));
    expect(e.code).toBe('FORM_FIELD_NOT_FOUND');
    expect((await errorOf(fillForm(await applicationForm(false), null as never))).code).toBe(
      'FORM_BAD_VALUE',
    );
    expect(
      (
        await errorOf(
          fillForm(
            await applicationForm(false),
            { 'applicant.name': 'x'.repeat(10) },
            { font: new Uint8Array(4) },
          ),
        )
      ).code,
    ).toBe('FORM_BAD_FONT');
  });

  it('a WOFF2 font (which fontkit cannot subset correctly) is refused, not embedded whole', async () => {
    const woff2 = new Uint8Array(
      readFileSync(path.join(FONTS, 'noto-serif-sc-chinese-simplified-400-normal.woff2')),
    );
    const e = await errorOf(
      fillForm(await applicationForm(false), { 'applicant.name': '张三' }, { font: woff2 }),
    );
    expect(e.code).toBe('FORM_BAD_FONT');
    expect(e.message).toContain('WOFF2');
  });

  it('the embedded font is a subset: a few KB for a name, not the 2 MB face', async () => {
    const input = await applicationForm(false);
    const out = await fillForm(input, { 'applicant.name': '张三' }, { font: cjkFont() });
    expect(out.length - input.length).toBeLessThan(30_000);
    // nothing drawn with it, nothing embedded
    const ticked = await fillForm(input, { agree: true }, { font: cjkFont() });
    expect(ticked.length - input.length).toBeLessThan(2_000);
    const file = path.join(dir, 'ticked.pdf');
    writeFileSync(file, ticked);
    expect(qpdfCheck(file).ok, qpdfCheck(file).output).toBe(true);
  });

  it('bytes that are not a font', async () => {
    const e = await errorOf(
      fillForm(
        await applicationForm(false),
        { 'applicant.name': 'x' },
        { font: new TextEncoder().encode('not a font at all, really') },
      ),
    );
    expect(e.code).toBe('FORM_BAD_FONT');
  });
});

describe('filling a certified document', () => {
  async function certified(p: 1 | 2): Promise<Uint8Array> {
    return signPdf(await applicationForm(false), { signer, certify: p, reason: '受理' });
  }
  const trust = () => [ca.certDer];

  it('P=2: the certification stays valid in pdfsig, mutool and verifyPdf', async () => {
    const signed = await certified(2);
    const filled = await fillForm(signed, VALUES, { font: cjkFont() });
    const file = path.join(dir, 'certified-p2-filled.pdf');
    writeFileSync(file, filled);
    const ps = pdfsig(file);
    expect(ps).toHaveLength(1);
    expect(ps[0]!.valid, ps[0]!.text).toBe(true);
    const mu = mutoolSign(file);
    expect(mu.length).toBeGreaterThanOrEqual(1);
    for (const s of mu) expect(s.valid, s.text).toBe(true);
    const report = await verifyPdf(filled, { trustAnchors: trust() });
    expect(report.signatures[0]!.kind).toBe('certification');
    expect(report.signatures[0]!.modificationsAfter, report.signatures[0]!.reasons.join('; ')).toBe(
      'allowed',
    );
    expect(report.status, JSON.stringify(report.signatures[0]!.reasons)).toBe('valid');
    expect(run('pdftotext', [file, '-'])).toContain('张三');
  });

  it('FieldMDP: a field locked by a signature is refused; others fill, and the signature stays valid', async () => {
    const signed = await signPdf(await formWithLockingSignatureField(), {
      signer,
      field: 'approval',
      reason: '受理',
    });
    const e = await errorOf(fillForm(signed, { 'applicant.name': '李四' }, { font: cjkFont() }));
    expect(e.code).toBe('FORM_LOCKED');
    expect(e.message).toContain('approval');
    const other = await fillForm(
      signed,
      { 'applicant.address': '项城市莲花大道88号', agree: true },
      { font: cjkFont() },
    );
    const ok = await verifyPdf(other, { trustAnchors: trust() });
    expect(ok.status, JSON.stringify(ok.signatures[0]!.reasons)).toBe('valid');
    expect(ok.signatures[0]!.modificationsAfter).toBe('allowed');
    // forced past the lock: the approval signature reports it
    const forced = await fillForm(
      signed,
      { 'applicant.name': '李四' },
      { font: cjkFont(), allowInvalidatingSignatures: true },
    );
    const broken = await verifyPdf(forced, { trustAnchors: trust() });
    expect(broken.signatures[0]!.modificationsAfter).toBe('disallowed');
    expect(broken.signatures[0]!.reasons.join(' ')).toContain('FieldMDP');
  });

  it('P=1: fillForm refuses; forced, verifyPdf reports the fill as breaking the certification', async () => {
    const signed = await certified(1);
    const e = await errorOf(fillForm(signed, VALUES, { font: cjkFont() }));
    expect(e.code).toBe('FORM_LOCKED');
    const forced = await fillForm(signed, VALUES, { font: cjkFont(), allowInvalidatingSignatures: true });
    const report = await verifyPdf(forced, { trustAnchors: trust() });
    expect(report.signatures[0]!.modificationsAfter).toBe('disallowed');
    expect(report.status).toBe('invalid');
    // the same document without the fill is valid: the fill is what breaks it
    expect((await verifyPdf(signed, { trustAnchors: trust() })).status).toBe('valid');
  });
});
