/**
 * fillForm: fills AcroForm fields (ISO 32000-2 §12.7) in one incremental update.
 *
 *   bytes -> PdfDocument (lazy) -> fields by full name -> checked values
 *         -> field /V (+ /I for choices), widget /AS or a new /AP /N per widget -> update bytes
 *
 * The input is a byte-exact prefix of the output. Only what form filling changes is written: the
 * field dictionaries, their widgets and new appearance streams (with a new embedded font when the
 * caller gives one), so a certification with DocMDP P=2 and approval signatures stay valid
 * (ISO 32000-2 §12.8.2.2: P=2 permits "filling in forms"). /NeedAppearances is never set: every
 * filled widget carries its own appearance, generated from its /DA (§12.7.4.3), so viewers do not
 * redraw signed fields.
 */
import { SidianError } from '../errors';
import { PdfDocument, type PdfView } from '../pdf/document';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, latin1Bytes, type PdfObject } from '../pdf/objects';
import { IncrementalWriter, serializeName, serializeNumber } from '../pdf/writer';
import { docMdpPermission, documentLocks, isLocked, listFields, type FieldInfo } from '../sign/fields';
import { EmbeddedFont, SimpleFont, standardHelvetica, type AppearanceFont } from './font';

/** A text or choice value, a check box state (true/false or an on-state name), or several list choices. */
export type FieldValue = string | boolean | string[];

export interface FillOptions {
  /**
   * A TrueType, OpenType or WOFF font (not WOFF2) to draw the values with; the glyphs used are
   * embedded as a subset. Needed for any text beyond printable ASCII (Chinese names and addresses).
   */
  font?: Uint8Array;
  /**
   * Fill even where an earlier signature forbids it (DocMDP P=1, FieldMDP locks): the result
   * then breaks that signature. For tests and for documents whose signatures no longer matter.
   */
  allowInvalidatingSignatures?: boolean;
}

/** What one field is, as a caller fills it. */
export interface FormField {
  name: string;
  kind: 'text' | 'checkbox' | 'radio' | 'combo' | 'list' | 'button' | 'signature';
  readOnly: boolean;
  /** The export values a radio, check box or choice field accepts. */
  options?: string[];
  value?: FieldValue;
}

// Field flags (ISO 32000-2 Tables 226, 227, 229, 231)
const FF_READ_ONLY = 1 << 0;
const FF_MULTILINE = 1 << 12;
const FF_PASSWORD = 1 << 13;
const FF_NO_TOGGLE_OFF = 1 << 14;
const FF_RADIO = 1 << 15;
const FF_PUSHBUTTON = 1 << 16;
const FF_COMBO = 1 << 17;
const FF_EDIT = 1 << 18;
const FF_MULTI_SELECT = 1 << 21;
const FF_COMB = 1 << 24;

/** Lists the fillable view of every terminal field: kind, options, current value. */
export function describeForm(pdf: Uint8Array): FormField[] {
  const doc = PdfDocument.load(pdf, { lazyTables: true });
  const view = doc.latest;
  return listFields(view).map((f) => describeField(view, f));
}

function describeField(view: PdfView, f: FieldInfo): FormField {
  const kind = fieldKind(view, f);
  const out: FormField = { name: f.fullName, kind, readOnly: (flags(view, f.dict) & FF_READ_ONLY) !== 0 };
  if (kind === 'checkbox' || kind === 'radio') out.options = buttonStates(view, f).map((s) => s.exportValue);
  if (kind === 'combo' || kind === 'list') out.options = choiceOptions(view, f).map((o) => o.exportValue);
  const v = view.resolve(inherited(view, f.dict, 'V'));
  if (v instanceof PdfString) out.value = v.text();
  else if (v instanceof PdfName) {
    out.value =
      kind === 'checkbox'
        ? v.value !== 'Off'
        : v.value === 'Off'
          ? false
          : (buttonStates(view, f).find((s) => s.state === v.value)?.exportValue ?? v.value);
  } else if (Array.isArray(v))
    out.value = v
      .map((x) => view.resolve(x))
      .filter((x): x is PdfString => x instanceof PdfString)
      .map((x) => x.text());
  return out;
}

/** Fills `values` (by fully qualified field name) and returns the whole file: the input, then the update. */
export async function fillForm(
  pdf: Uint8Array,
  values: Record<string, FieldValue>,
  options: FillOptions = {},
): Promise<Uint8Array> {
  if (!(pdf instanceof Uint8Array))
    throw new SidianError('PDF_NOT_PDF', 'the document must be the bytes of a PDF');
  if (!values || typeof values !== 'object' || Array.isArray(values)) {
    throw new SidianError('FORM_BAD_VALUE', 'values must be an object of field names and values');
  }
  const doc = PdfDocument.load(pdf, { lazyTables: true });
  if (doc.encrypted)
    throw new SidianError('PDF_ENCRYPTED', 'the PDF is encrypted; decrypt it before filling');
  const view = doc.latest;
  const fields = listFields(view);
  const byName = new Map(fields.map((f) => [f.fullName, f]));

  // 1. Check every value before writing anything.
  const plans: { field: FieldInfo; kind: FormField['kind']; value: FieldValue }[] = [];
  for (const [name, value] of Object.entries(values)) {
    const field = byName.get(name);
    if (!field) {
      throw new SidianError('FORM_FIELD_NOT_FOUND', `the form has no field "${name}"`, {
        field: name,
        fields: fields.filter((f) => f.type !== 'Sig').map((f) => f.fullName),
      });
    }
    const kind = fieldKind(view, field);
    if (kind === 'signature' || kind === 'button') {
      throw new SidianError(
        'FORM_BAD_VALUE',
        `field "${name}" is a ${kind === 'signature' ? 'signature field (sign it with signPdf)' : 'push button'} and holds no value`,
        { field: name },
      );
    }
    if ((flags(view, field.dict) & FF_READ_ONLY) !== 0) {
      throw new SidianError('FORM_READ_ONLY', `field "${name}" is read-only`, { field: name });
    }
    checkValueType(name, kind, value, (flags(view, field.dict) & FF_MULTI_SELECT) !== 0);
    plans.push({ field, kind, value });
  }
  if (!options.allowInvalidatingSignatures && plans.length) {
    // ISO 32000-2 §12.8.2.2: P=1 permits no change at all; FieldMDP locks (§12.8.2.4) freeze fields.
    if (docMdpPermission(view) === 1) {
      throw new SidianError(
        'FORM_LOCKED',
        'the document is certified with no changes permitted (DocMDP P=1): filling it would break the certification',
      );
    }
    const locks = documentLocks(view, fields);
    for (const { field } of plans) {
      const by = locks.find((l) => isLocked(l.locks, field.fullName));
      if (by)
        throw new SidianError(
          'FORM_LOCKED',
          `field "${field.fullName}" is locked by the signature in field "${by.by}" (FieldMDP)`,
          { field: field.fullName },
        );
    }
  }

  // 2. Write.
  const w = new IncrementalWriter(doc);
  const fonts = new FontPicker(view, w, options.font ? await EmbeddedFont.load(options.font, w) : undefined);
  for (const { field, kind, value } of plans) {
    if (!field.ref)
      throw new SidianError(
        'FORM_BAD_VALUE',
        `field "${field.fullName}" is not an indirect object and cannot be updated`,
      );
    const fd = field.dict.clone();
    /** The widgets to rewrite; a widget merged with its field is written with the field. */
    const widgetDicts = field.widgets.map((wd) => (wd.dict === field.dict ? fd : wd.dict.clone()));
    if (kind === 'text') {
      const text = value as string;
      const maxLen = view.number(inherited(view, field.dict, 'MaxLen'));
      if (maxLen !== undefined && [...text].length > maxLen) {
        throw new SidianError(
          'FORM_BAD_VALUE',
          `field "${field.fullName}" takes at most ${maxLen} characters`,
          { field: field.fullName },
        );
      }
      fd.set('V', PdfString.fromText(text));
      const ff = flags(view, field.dict);
      for (let i = 0; i < widgetDicts.length; i++) {
        const shown = ff & FF_PASSWORD ? '*'.repeat([...text].length) : text;
        setAppearance(w, widgetDicts[i]!, textAppearance(view, fonts, field, widgetDicts[i]!, shown, ff));
      }
    } else if (kind === 'checkbox' || kind === 'radio') {
      const states = buttonStates(view, field);
      let chosen: string | undefined;
      if (value === false) chosen = undefined;
      else if (value === true) {
        if (kind === 'radio')
          throw new SidianError(
            'FORM_BAD_VALUE',
            `field "${field.fullName}" is a radio group: give the option to choose`,
            { field: field.fullName },
          );
        chosen = states[0]?.state;
        if (!chosen)
          throw new SidianError(
            'FORM_BAD_OPTION',
            `check box "${field.fullName}" has no "on" appearance to show`,
            { field: field.fullName },
          );
      } else {
        const s = states.find((x) => x.exportValue === value || x.state === value);
        if (!s) {
          throw new SidianError(
            'FORM_BAD_OPTION',
            `"${String(value)}" is not an option of field "${field.fullName}" (${states.map((x) => x.exportValue).join(', ')})`,
            {
              field: field.fullName,
              options: states.map((x) => x.exportValue),
            },
          );
        }
        chosen = s.state;
      }
      if (chosen === undefined && kind === 'radio' && flags(view, field.dict) & FF_NO_TOGGLE_OFF) {
        throw new SidianError(
          'FORM_BAD_VALUE',
          `radio group "${field.fullName}" must have one option chosen`,
          { field: field.fullName },
        );
      }
      fd.set('V', PdfName.of(chosen ?? 'Off'));
      field.widgets.forEach((wdg, i) => {
        const onStates = normalStates(view, wdg.dict);
        widgetDicts[i]!.set(
          'AS',
          PdfName.of(chosen !== undefined && onStates.includes(chosen) ? chosen : 'Off'),
        );
      });
    } else {
      const opts = choiceOptions(view, field);
      const chosenValues = Array.isArray(value) ? value : [value as string];
      const ff = flags(view, field.dict);
      const indices: number[] = [];
      for (const v of chosenValues) {
        const i = opts.findIndex((o) => o.exportValue === v);
        if (i < 0 && !(kind === 'combo' && ff & FF_EDIT)) {
          throw new SidianError(
            'FORM_BAD_OPTION',
            `"${v}" is not an option of field "${field.fullName}" (${opts.map((o) => o.exportValue).join(', ')})`,
            {
              field: field.fullName,
              options: opts.map((o) => o.exportValue),
            },
          );
        }
        if (i >= 0) indices.push(i);
      }
      fd.set(
        'V',
        Array.isArray(value) ? value.map((v) => PdfString.fromText(v)) : PdfString.fromText(value as string),
      );
      // /I: the chosen options' indices in ascending order (§12.7.5.4), only meaningful for lists
      if (indices.length)
        fd.set(
          'I',
          [...new Set(indices)].sort((a, b) => a - b),
        );
      else fd.delete('I');
      for (const wd of widgetDicts) {
        const ap =
          kind === 'combo'
            ? textAppearance(
                view,
                fonts,
                field,
                wd,
                opts.find((o) => o.exportValue === chosenValues[0])?.display ?? String(chosenValues[0] ?? ''),
                0,
              )
            : listAppearance(view, fonts, field, wd, opts, new Set(indices));
        setAppearance(w, wd, ap);
      }
    }
    w.set(field.ref, fd);
    field.widgets.forEach((wdg, i) => {
      if (wdg.dict === field.dict) return;
      if (!wdg.ref)
        throw new SidianError(
          'FORM_BAD_VALUE',
          `a widget of field "${field.fullName}" is not an indirect object and cannot be updated`,
        );
      w.set(wdg.ref, widgetDicts[i]!);
    });
  }
  fonts.finish();
  const { bytes } = w.build();
  const out = new Uint8Array(pdf.length + bytes.length);
  out.set(pdf, 0);
  out.set(bytes, pdf.length);
  return out;
}

function checkValueType(name: string, kind: FormField['kind'], value: unknown, multi: boolean): void {
  const ok =
    kind === 'text' || kind === 'combo' || kind === 'radio'
      ? typeof value === 'string' || (kind === 'radio' && value === false)
      : kind === 'checkbox'
        ? typeof value === 'boolean' || typeof value === 'string'
        : typeof value === 'string' ||
          (multi && Array.isArray(value) && value.every((v) => typeof v === 'string'));
  if (!ok) {
    const want = {
      text: 'a string',
      combo: 'a string',
      radio: 'a string (the option)',
      checkbox: 'true or false',
      list: multi ? 'a string or an array of strings' : 'a string',
      button: '',
      signature: '',
    }[kind];
    throw new SidianError(
      'FORM_BAD_VALUE',
      `field "${name}" takes ${want}, not ${Array.isArray(value) ? 'an array' : typeof value}`,
      { field: name },
    );
  }
}

function fieldKind(view: PdfView, f: FieldInfo): FormField['kind'] {
  const ff = flags(view, f.dict);
  switch (f.type) {
    case 'Tx':
      return 'text';
    case 'Btn':
      return ff & FF_PUSHBUTTON ? 'button' : ff & FF_RADIO ? 'radio' : 'checkbox';
    case 'Ch':
      return ff & FF_COMBO ? 'combo' : 'list';
    case 'Sig':
      return 'signature';
    default:
      throw new SidianError('FORM_BAD_VALUE', `field "${f.fullName}" has no known type (/FT)`);
  }
}

/** An inheritable field attribute (§12.7.4.1 Table 228): the field's, else its ancestors'. */
function inherited(view: PdfView, d: PdfDict, key: string): PdfObject | undefined {
  let cur: PdfDict | undefined = d;
  for (let depth = 0; cur && depth < 32; depth++) {
    if (cur.has(key)) return cur.get(key);
    cur = view.dict(cur.get('Parent'));
  }
  return undefined;
}

function flags(view: PdfView, d: PdfDict): number {
  return view.number(inherited(view, d, 'Ff')) ?? 0;
}

/** The appearance state names of a widget's normal appearance (/AP /N), "Off" excluded. */
function normalStates(view: PdfView, widget: PdfDict): string[] {
  const n = view.dict(view.dict(widget.get('AP'))?.get('N'));
  return n ? [...n.map.keys()].filter((k) => k !== 'Off') : [];
}

/**
 * A check box's or radio group's choices: each widget's on-state, and its export value — the /Opt
 * entry of that widget (§12.7.5.2.3: /Opt holds export values when state names are indices), else
 * the state name itself.
 */
function buttonStates(view: PdfView, f: FieldInfo): { state: string; exportValue: string }[] {
  const opt = view.array(inherited(view, f.dict, 'Opt'));
  const out: { state: string; exportValue: string }[] = [];
  f.widgets.forEach((wdg, i) => {
    for (const state of normalStates(view, wdg.dict)) {
      if (out.some((o) => o.state === state)) continue;
      const o = opt ? view.resolve(opt[i]) : undefined;
      out.push({ state, exportValue: o instanceof PdfString ? o.text() : state });
    }
  });
  return out;
}

/** A choice field's options (§12.7.5.4 /Opt): each a text string or [export value, displayed text]. */
function choiceOptions(view: PdfView, f: FieldInfo): { exportValue: string; display: string }[] {
  const out: { exportValue: string; display: string }[] = [];
  for (const o of view.array(inherited(view, f.dict, 'Opt')) ?? []) {
    const r = view.resolve(o);
    if (r instanceof PdfString) out.push({ exportValue: r.text(), display: r.text() });
    else if (Array.isArray(r)) {
      const e = view.resolve(r[0]);
      const d = view.resolve(r[1]);
      if (e instanceof PdfString)
        out.push({ exportValue: e.text(), display: d instanceof PdfString ? d.text() : e.text() });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Appearances

interface DefaultAppearance {
  fontName: string | undefined;
  size: number;
  /** The colour operators of /DA, kept as written ("0 g", "0 0 1 rg"). */
  colour: string;
}

/** Parses a /DA string (§12.7.4.3): `/Helv 0 Tf 0 g`. */
export function parseDefaultAppearance(da: string): DefaultAppearance {
  const tokens = da.match(/\/[^\s/[\]()<>{}%]+|[-+]?\d*\.?\d+|[A-Za-z]+/g) ?? [];
  let fontName: string | undefined;
  let size = 0;
  let colour = '0 g';
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === 'Tf' && i >= 2) {
      fontName = tokens[i - 2]!.startsWith('/') ? tokens[i - 2]!.slice(1) : undefined;
      size = Number(tokens[i - 1]) || 0;
    } else if ((t === 'g' && i >= 1) || (t === 'rg' && i >= 3) || (t === 'k' && i >= 4)) {
      const n = t === 'g' ? 1 : t === 'rg' ? 3 : 4;
      const args = tokens.slice(i - n, i);
      if (args.every((a) => /^[-+]?\d*\.?\d+$/.test(a))) colour = `${args.join(' ')} ${t}`;
    }
  }
  return { fontName, size, colour };
}

/** Chooses the font for each widget: the caller's embedded font, else the /DA font of /DR, else Helvetica. */
class FontPicker {
  private readonly simple = new Map<string, SimpleFont>();
  private helvetica: SimpleFont | undefined;
  constructor(
    private readonly view: PdfView,
    private readonly w: IncrementalWriter,
    readonly embedded: EmbeddedFont | undefined,
  ) {}

  pick(daFont: string | undefined, text: string): { font: AppearanceFont; name: string } {
    if (this.embedded) return { font: this.embedded, name: 'SidianF0' };
    const view = this.view;
    const dr = view.dict(view.dict(view.catalog().get('AcroForm'))?.get('DR'));
    const fontRef = daFont ? view.dict(dr?.get('Font'))?.get(daFont) : undefined;
    const fd = view.dict(fontRef);
    let font: SimpleFont;
    let name: string;
    if (fontRef instanceof PdfRef && fd && fd.name('Subtype') !== 'Type0' && fd.name('Subtype') !== 'Type3') {
      name = daFont!;
      let cached = this.simple.get(name);
      if (!cached) {
        const first = view.number(fd.get('FirstChar'));
        const widths = view.array(fd.get('Widths'))?.map((x) => view.number(x) ?? 0);
        cached = new SimpleFont(fontRef, first !== undefined && widths ? { first, widths } : undefined);
        this.simple.set(name, cached);
      }
      font = cached;
    } else {
      font = this.helvetica ??= standardHelvetica(this.w);
      name = 'SidianHelv';
    }
    if (!font.covers(text)) {
      throw new SidianError(
        'FORM_MISSING_GLYPHS',
        `the form's font cannot show "${text}": pass a font that has these characters (options.font), e.g. a CJK font for Chinese text`,
        { text },
      );
    }
    return { font, name };
  }

  finish(): void {
    this.embedded?.write();
  }
}

interface Appearance {
  width: number;
  height: number;
  content: string;
  fonts: Map<string, PdfRef>;
}

function setAppearance(w: IncrementalWriter, widget: PdfDict, ap: Appearance): void {
  const resources = new PdfDict();
  if (ap.fonts.size) resources.set('Font', new PdfDict([...ap.fonts]));
  const stream = new PdfStream(
    new PdfDict([
      ['Type', PdfName.of('XObject')],
      ['Subtype', PdfName.of('Form')],
      ['BBox', [0, 0, round(ap.width), round(ap.height)]],
      ['Resources', resources],
    ]),
    latin1Bytes(ap.content),
  );
  widget.set('AP', new PdfDict([['N', w.add(stream)]]));
  widget.delete('AS');
}

function widgetBox(view: PdfView, wd: PdfDict): { width: number; height: number; rotate: number } {
  const r = (view.array(wd.get('Rect')) ?? [0, 0, 0, 0]).map((x) => view.number(x) ?? 0);
  const width = Math.abs(r[2]! - r[0]!);
  const height = Math.abs(r[3]! - r[1]!);
  const rotate = view.number(view.dict(wd.get('MK'))?.get('R')) ?? 0;
  return rotate === 90 || rotate === 270
    ? { width: height, height: width, rotate }
    : { width, height, rotate };
}

function daOf(view: PdfView, field: FieldInfo, wd: PdfDict): DefaultAppearance {
  const own =
    view.resolve(wd.get('DA')) ??
    view.resolve(inherited(view, field.dict, 'DA')) ??
    view.resolve(view.dict(view.catalog().get('AcroForm'))?.get('DA'));
  return parseDefaultAppearance(own instanceof PdfString ? own.text() : '/Helv 0 Tf 0 g');
}

/** The widget's background and border from /MK (§12.5.6.19) and /BS, drawn under the text. */
function frame(view: PdfView, wd: PdfDict, width: number, height: number): { ops: string; inset: number } {
  const mk = view.dict(wd.get('MK'));
  const colourOp = (key: string, fill: boolean): string | undefined => {
    const c = view.array(mk?.get(key))?.map((x) => view.number(x) ?? 0);
    if (!c || c.length === 0) return undefined;
    const v = c.map(n).join(' ');
    return c.length === 1
      ? `${v} ${fill ? 'g' : 'G'}`
      : c.length === 3
        ? `${v} ${fill ? 'rg' : 'RG'}`
        : c.length === 4
          ? `${v} ${fill ? 'k' : 'K'}`
          : undefined;
  };
  let ops = '';
  const bg = colourOp('BG', true);
  if (bg) ops += `q ${bg} 0 0 ${n(width)} ${n(height)} re f Q\n`;
  const bc = colourOp('BC', false);
  const bw = view.number(view.dict(wd.get('BS'))?.get('W')) ?? 1;
  if (bc && bw > 0)
    ops += `q ${bc} ${n(bw)} w ${n(bw / 2)} ${n(bw / 2)} ${n(width - bw)} ${n(height - bw)} re S Q\n`;
  return { ops, inset: bc && bw > 0 ? bw : 0 };
}

function rotation(rotate: number, width: number, height: number): string {
  // /MK /R turns the appearance counter-clockwise inside the widget's rectangle (§12.5.6.19)
  switch (rotate) {
    case 90:
      return `0 1 -1 0 ${n(height)} 0 cm\n`;
    case 180:
      return `-1 0 0 -1 ${n(width)} ${n(height)} cm\n`;
    case 270:
      return `0 -1 1 0 0 ${n(width)} cm\n`;
    default:
      return '';
  }
}

/** A text field's (or a combo box's) appearance: the value in the /DA font, aligned by /Q. */
function textAppearance(
  view: PdfView,
  fonts: FontPicker,
  field: FieldInfo,
  wd: PdfDict,
  text: string,
  ff: number,
): Appearance {
  const { width, height, rotate } = widgetBox(view, wd);
  const da = daOf(view, field, wd);
  const { font, name } = fonts.pick(da.fontName, text.replace(/[\r\n]/g, ''));
  const fr = frame(view, wd, width, height);
  const pad = 2 + fr.inset;
  const innerW = Math.max(0, width - 2 * pad);
  const innerH = Math.max(0, height - 2 * fr.inset);
  const lineGap = (font.ascent - font.descent) / 1000;
  const multiline = (ff & FF_MULTILINE) !== 0;
  const q =
    view.number(
      inherited(view, wd, 'Q') ??
        inherited(view, field.dict, 'Q') ??
        view.dict(view.catalog().get('AcroForm'))?.get('Q'),
    ) ?? 0;
  // The /DA size, or auto (0: §12.7.4.3) — then shrunk until the value fits: a value cut off at
  // the field's edge would show the citizen less than was filled in.
  let size = da.size > 0 ? da.size : multiline ? 12 : Math.min(12, innerH / lineGap - 0.5);
  let lines: string[];
  const layout = (s: number) => (multiline ? wrap(font, text, innerW, s) : [text.replace(/[\r\n]+/g, ' ')]);
  const fits = (ls: string[], s: number) =>
    ls.length * s * lineGap <= innerH + 0.01 && ls.every((l) => (font.width(l) / 1000) * s <= innerW + 0.01);
  lines = layout(size);
  while (size > 4 && !fits(lines, size)) {
    size = Math.max(4, size - (size > 12 ? 1 : 0.5));
    lines = layout(size);
  }
  let body = '';
  const comb = (ff & FF_COMB) !== 0 && !multiline;
  const maxLen = view.number(inherited(view, field.dict, 'MaxLen'));
  if (comb && maxLen) {
    // comb fields: one character per cell (§12.7.5.3)
    const cell = width / maxLen;
    const y = (height - size * lineGap) / 2 - (font.descent / 1000) * size;
    [...lines[0]!].forEach((ch, i) => {
      const x = i * cell + (cell - (font.width(ch) / 1000) * size) / 2;
      body += `1 0 0 1 ${n(x)} ${n(y)} Tm ${font.show(ch)} Tj\n`;
    });
  } else {
    const blockH = lines.length * size * lineGap;
    const top = multiline
      ? height - fr.inset - 2 - (font.ascent / 1000) * size
      : (height - blockH) / 2 - (font.descent / 1000) * size;
    lines.forEach((line, i) => {
      const lw = (font.width(line) / 1000) * size;
      const x = q === 1 ? (width - lw) / 2 : q === 2 ? width - pad - lw : pad;
      const y = top - i * size * lineGap;
      body += `1 0 0 1 ${n(x)} ${n(y)} Tm ${font.show(line)} Tj\n`;
    });
  }
  const content =
    rotation(rotate, width, height) +
    fr.ops +
    `/Tx BMC\nq\n${n(fr.inset)} ${n(fr.inset)} ${n(width - 2 * fr.inset)} ${n(height - 2 * fr.inset)} re W n\nBT\n${serializeName(PdfName.of(name))} ${n(size)} Tf\n${da.colour}\n` +
    body +
    'ET\nQ\nEMC\n';
  const rw = rotate === 90 || rotate === 270 ? height : width;
  const rh = rotate === 90 || rotate === 270 ? width : height;
  return { width: rw, height: rh, content, fonts: new Map([[name, font.resource()]]) };
}

/** A list box's appearance: the options from the top, the chosen ones highlighted (as viewers draw them). */
function listAppearance(
  view: PdfView,
  fonts: FontPicker,
  field: FieldInfo,
  wd: PdfDict,
  opts: { exportValue: string; display: string }[],
  chosen: Set<number>,
): Appearance {
  const { width, height } = widgetBox(view, wd);
  const da = daOf(view, field, wd);
  const { font, name } = fonts.pick(da.fontName, opts.map((o) => o.display).join(''));
  const fr = frame(view, wd, width, height);
  const gap = (font.ascent - font.descent) / 1000;
  const rows = Math.max(1, opts.length - Math.max(0, view.number(field.dict.get('TI')) ?? 0));
  // every option from /TI on in view when it can be read (at least 8 pt), as the /DA size allows
  const size = Math.max(
    Math.min(da.size > 0 ? da.size : 12, (height - 2 * fr.inset) / (rows * gap)),
    Math.min(8, da.size > 0 ? da.size : 12),
  );
  const lineH = size * gap;
  const first = Math.max(0, Math.min(view.number(field.dict.get('TI')) ?? 0, opts.length - 1));
  let highlight = '';
  let body = '';
  for (let i = first, row = 0; i < opts.length; i++, row++) {
    const yTop = height - fr.inset - 1 - row * lineH;
    if (yTop - lineH < -lineH) break;
    if (chosen.has(i))
      highlight += `${n(fr.inset)} ${n(yTop - lineH)} ${n(width - 2 * fr.inset)} ${n(lineH)} re f\n`;
    const y = yTop - (font.ascent / 1000) * size;
    body += `1 0 0 1 ${n(2 + fr.inset)} ${n(y)} Tm ${font.show(opts[i]!.display)} Tj\n`;
  }
  const content =
    fr.ops +
    `/Tx BMC\nq\n${n(fr.inset)} ${n(fr.inset)} ${n(width - 2 * fr.inset)} ${n(height - 2 * fr.inset)} re W n\n` +
    (highlight ? `0.6 0.75 0.86 rg\n${highlight}` : '') +
    `BT\n${serializeName(PdfName.of(name))} ${n(size)} Tf\n${da.colour}\n${body}ET\nQ\nEMC\n`;
  return { width, height, content, fonts: new Map([[name, font.resource()]]) };
}

/** Breaks text into lines no wider than `width`: at spaces for Latin text, anywhere for CJK. */
function wrap(font: AppearanceFont, text: string, width: number, size: number): string[] {
  const out: string[] = [];
  for (const para of text.split(/\r\n|\r|\n/)) {
    let line = '';
    for (const token of para.match(/[\x21-\x7e]+|\s|./gu) ?? []) {
      const candidate = line + token;
      if (line && (font.width(candidate.trimEnd()) / 1000) * size > width) {
        out.push(line.trimEnd());
        line = token.trimStart();
        // a single token wider than the line: break it by characters
        while (line.length > 1 && (font.width(line) / 1000) * size > width) {
          let k = line.length - 1;
          while (k > 1 && (font.width(line.slice(0, k)) / 1000) * size > width) k--;
          out.push(line.slice(0, k));
          line = line.slice(k);
        }
      } else line = candidate;
    }
    out.push(line.trimEnd());
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
const n = (x: number) => serializeNumber(round(x));
