/**
 * Licence metadata (电子证照元数据, fields after GB/T 36903) carried in the PDF as an attached file
 * `licence.json`: an EmbeddedFile stream + Filespec (AFRelationship /Data) listed in the catalog's
 * /Names /EmbeddedFiles tree and its /AF array, written as an incremental update (the input is a
 * byte-exact prefix of the output). Embed before sealing so that the seal covers the metadata.
 */
import { SidianError } from '../errors';
import { PdfDocument, type PdfView } from '../pdf/document';
import { decodeStream } from '../pdf/filters';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfObject } from '../pdf/objects';
import { IncrementalWriter } from '../pdf/writer';
import { isCreditCode, parseLicenceIdentifier } from './identifier';

export const LICENCE_FILE_NAME = 'licence.json';
const MAX_LICENCE_BYTES = 1024 * 1024;
const MAX_NAME_TREE_NODES = 10_000;

/** 持证主体代码类型 (holder id types), as commonly used in 电子证照 catalogues. */
export type HolderIdType =
  | '统一社会信用代码'
  | '居民身份证'
  | '护照'
  | '港澳居民来往内地通行证'
  | '台湾居民来往大陆通行证'
  | '外国人永久居留身份证'
  | '其他';

export interface LicenceMetadata {
  /** Schema version of this JSON (1). */
  version: 1;
  /** 证照类型名称, e.g. 营业执照. */
  typeName: string;
  /** 证照类型代码. */
  typeCode: string;
  /** 证照编号 (the number printed on the licence). */
  number: string;
  /** 证照标识: 1.2.156.3005.2.<type>.<issuer code>.<serial>.<version>.<check>. */
  identifier: string;
  /** 持证主体. */
  holder: { name: string; idType: HolderIdType | string; idNumber: string };
  /** 证照颁发机构 and its 统一社会信用代码. */
  issuer: { name: string; creditCode: string };
  /** 证照颁发日期 (YYYY-MM-DD). */
  issueDate: string;
  /** 有效期起始日期 (YYYY-MM-DD). */
  validFrom: string;
  /** 有效期截止日期 (YYYY-MM-DD), null for 长期 (no expiry). */
  validUntil: string | null;
  /** 照面拓展信息: type-specific data (registered capital, business scope, ...). */
  data: Record<string, unknown>;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function validDate(s: unknown): s is string {
  if (typeof s !== 'string' || !DATE.test(s)) return false;
  const d = new Date(s + 'T00:00:00Z');
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

const nonEmpty = (s: unknown, max = 512): s is string =>
  typeof s === 'string' && s.trim().length > 0 && s.length <= max;

/** Every problem with a licence.json, empty when it is complete and consistent. */
export function licenceProblems(m: unknown): string[] {
  const p: string[] = [];
  if (!m || typeof m !== 'object' || Array.isArray(m)) return ['licence.json is not a JSON object'];
  const l = m as Partial<LicenceMetadata> & Record<string, unknown>;
  if (l.version !== 1) p.push('version must be 1');
  if (!nonEmpty(l.typeName)) p.push('typeName (证照类型名称) is missing');
  if (!nonEmpty(l.typeCode, 64) || !/^[0-9A-Za-z]+$/.test(String(l.typeCode)))
    p.push('typeCode (证照类型代码) is missing or not letters and digits');
  if (!nonEmpty(l.number, 128)) p.push('number (证照编号) is missing');
  if (!l.holder || typeof l.holder !== 'object') p.push('holder (持证主体) is missing');
  else {
    if (!nonEmpty(l.holder.name)) p.push('holder.name (持证主体名称) is missing');
    if (!nonEmpty(l.holder.idType, 64)) p.push('holder.idType (持证主体代码类型) is missing');
    if (!nonEmpty(l.holder.idNumber, 64)) p.push('holder.idNumber (持证主体代码) is missing');
    else if (l.holder.idType === '统一社会信用代码' && !isCreditCode(l.holder.idNumber))
      p.push('holder.idNumber is not a valid 统一社会信用代码');
  }
  if (!l.issuer || typeof l.issuer !== 'object') p.push('issuer (颁发机构) is missing');
  else {
    if (!nonEmpty(l.issuer.name)) p.push('issuer.name (颁发机构名称) is missing');
    if (!isCreditCode(String(l.issuer.creditCode ?? '')))
      p.push('issuer.creditCode (颁发机构统一社会信用代码) is missing or its check character is wrong');
  }
  if (!validDate(l.issueDate)) p.push('issueDate (颁发日期) must be YYYY-MM-DD');
  if (!validDate(l.validFrom)) p.push('validFrom (有效期起始日期) must be YYYY-MM-DD');
  if (l.validUntil !== null && !validDate(l.validUntil))
    p.push('validUntil (有效期截止日期) must be YYYY-MM-DD or null (长期)');
  if (validDate(l.validFrom) && validDate(l.validUntil) && l.validUntil < l.validFrom)
    p.push('validUntil is before validFrom');
  if (!l.data || typeof l.data !== 'object' || Array.isArray(l.data))
    p.push('data (照面拓展信息) must be an object');
  if (typeof l.identifier !== 'string') p.push('identifier (证照标识) is missing');
  else {
    try {
      const parts = parseLicenceIdentifier(l.identifier);
      if (typeof l.typeCode === 'string' && parts.typeCode !== l.typeCode.toUpperCase())
        p.push('identifier type part differs from typeCode');
      if (
        l.issuer &&
        typeof l.issuer.creditCode === 'string' &&
        parts.issuerCode !== l.issuer.creditCode.toUpperCase()
      ) {
        p.push('identifier issuer part differs from issuer.creditCode');
      }
    } catch (e) {
      p.push((e as Error).message);
    }
  }
  return p;
}

/** Throws LICENCE_INVALID listing the problems unless the metadata is complete. */
export function assertLicenceComplete(m: unknown): asserts m is LicenceMetadata {
  const p = licenceProblems(m);
  if (p.length)
    throw new SidianError('LICENCE_INVALID', `licence.json is incomplete: ${p.join('; ')}`, { problems: p });
}

/** Status of a licence at a time from its validity dates alone (revocation is the registry's business). */
export function licenceValidity(
  m: Pick<LicenceMetadata, 'validFrom' | 'validUntil'>,
  at: Date = new Date(),
): 'valid' | 'not-yet-valid' | 'expired' {
  const day = at.toISOString().slice(0, 10);
  if (day < m.validFrom) return 'not-yet-valid';
  if (m.validUntil && day > m.validUntil) return 'expired';
  return 'valid';
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function pdfDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `D:${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

/** Flattens a name tree into [key, value] pairs (bounded). */
function nameTreeEntries(view: PdfView, root: PdfObject | undefined): [string, PdfObject][] {
  const out: [string, PdfObject][] = [];
  const seen = new Set<number>();
  let nodes = 0;
  const walk = (o: PdfObject | undefined, depth: number) => {
    if (depth > 32) throw new SidianError('PDF_TOO_COMPLEX', 'name tree too deep');
    if (o instanceof PdfRef) {
      if (seen.has(o.num)) return;
      seen.add(o.num);
    }
    if (++nodes > MAX_NAME_TREE_NODES) throw new SidianError('PDF_TOO_COMPLEX', 'name tree too large');
    const node = view.dict(o);
    if (!node) return;
    const names = view.array(node.get('Names'));
    if (names) {
      for (let i = 0; i + 1 < names.length; i += 2) {
        const k = view.resolve(names[i]);
        if (k instanceof PdfString) out.push([k.text(), names[i + 1]!]);
      }
    }
    for (const kid of view.array(node.get('Kids')) ?? []) walk(kid, depth + 1);
  };
  walk(root, 0);
  return out;
}

function filespecName(view: PdfView, fs: PdfDict): string | undefined {
  for (const k of ['UF', 'F']) {
    const v = view.resolve(fs.get(k));
    if (v instanceof PdfString) return v.text();
  }
  return undefined;
}

/** Finds the Filespec of licence.json in a view of the document: the EmbeddedFiles tree first, then /AF. */
function findLicenceFilespec(view: PdfView): PdfDict | undefined {
  const catalog = view.catalog();
  const names = view.dict(catalog.get('Names'));
  if (names) {
    for (const [k, v] of nameTreeEntries(view, names.get('EmbeddedFiles'))) {
      if (k === LICENCE_FILE_NAME) {
        const fs = view.dict(v);
        if (fs) return fs;
      }
    }
  }
  for (const a of view.array(catalog.get('AF')) ?? []) {
    const fs = view.dict(a);
    if (fs && filespecName(view, fs) === LICENCE_FILE_NAME) return fs;
  }
  return undefined;
}

export interface ReadLicenceOptions {
  /** Read the document as it was when it ended at this byte offset (a signed revision). */
  revisionEnd?: number;
}

/**
 * Reads licence.json from a PDF. Returns undefined when there is none; throws LICENCE_INVALID when it
 * is there but is not JSON. The result is not checked for completeness: see licenceProblems().
 */
export function readLicence(
  pdf: Uint8Array | PdfDocument,
  options: ReadLicenceOptions = {},
): LicenceMetadata | undefined {
  const doc = pdf instanceof PdfDocument ? pdf : PdfDocument.load(pdf);
  const view = options.revisionEnd !== undefined ? doc.viewAt(options.revisionEnd) : doc.latest;
  const fs = findLicenceFilespec(view);
  if (!fs) return undefined;
  const ef = view.dict(fs.get('EF'));
  const stream = view.resolve(ef?.get('UF') ?? ef?.get('F'));
  if (!(stream instanceof PdfStream))
    throw new SidianError('LICENCE_INVALID', 'licence.json has no embedded file stream');
  const bytes = decodeStream(stream, MAX_LICENCE_BYTES);
  let json: unknown;
  try {
    let text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    json = JSON.parse(text);
  } catch {
    throw new SidianError('LICENCE_INVALID', 'licence.json is not UTF-8 JSON');
  }
  return json as LicenceMetadata;
}

export interface EmbedLicenceOptions {
  /** Embed even when the metadata is incomplete (default false: LICENCE_INVALID). */
  allowIncomplete?: boolean;
  /** Modification date written into the file's parameters (default now). */
  date?: Date;
}

/**
 * Appends an incremental update that attaches licence.json (replacing an earlier licence.json
 * entry in the name tree, if any). Returns the whole new file.
 */
export function embedLicence(
  pdf: Uint8Array,
  metadata: LicenceMetadata,
  options: EmbedLicenceOptions = {},
): Uint8Array {
  if (!options.allowIncomplete) assertLicenceComplete(metadata);
  const doc = PdfDocument.load(pdf);
  if (doc.encrypted) throw new SidianError('PDF_ENCRYPTED', 'cannot attach licence.json to an encrypted PDF');
  const view = doc.latest;
  const w = new IncrementalWriter(doc);
  const data = utf8(JSON.stringify(metadata, null, 2));
  const date = options.date ?? new Date();

  const fileRef = w.add(
    new PdfStream(
      new PdfDict([
        ['Type', PdfName.of('EmbeddedFile')],
        ['Subtype', PdfName.of('application/json')],
        [
          'Params',
          new PdfDict([
            ['Size', data.length],
            ['ModDate', PdfString.latin1(pdfDate(date))],
          ]),
        ],
      ]),
      data,
    ),
  );
  const specRef = w.add(
    new PdfDict([
      ['Type', PdfName.of('Filespec')],
      ['F', PdfString.latin1(LICENCE_FILE_NAME)],
      ['UF', PdfString.latin1(LICENCE_FILE_NAME)],
      ['Desc', PdfString.fromText('电子证照元数据 (licence metadata, GB/T 36903)')],
      ['AFRelationship', PdfName.of('Data')],
      [
        'EF',
        new PdfDict([
          ['F', fileRef],
          ['UF', fileRef],
        ]),
      ],
    ]),
  );

  const rootRef = view.rootRef;
  const catalog = view.catalog().clone();

  // /Names /EmbeddedFiles: a flat new tree with every earlier entry except an old licence.json
  const namesObj = catalog.get('Names');
  const names = (view.dict(namesObj) ?? new PdfDict()).clone();
  const entries = nameTreeEntries(view, names.get('EmbeddedFiles')).filter(([k]) => k !== LICENCE_FILE_NAME);
  entries.push([LICENCE_FILE_NAME, specRef]);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const tree = new PdfDict([['Names', entries.flatMap(([k, v]) => [PdfString.fromText(k), v])]]);
  names.set('EmbeddedFiles', w.add(tree));
  if (namesObj instanceof PdfRef) w.set(namesObj, names);
  else catalog.set('Names', names);

  // /AF: earlier associated files except an old licence.json, then ours
  const afObj = catalog.get('AF');
  const af = (view.array(afObj) ?? []).filter((a) => {
    const fs = view.dict(a);
    return !(fs && filespecName(view, fs) === LICENCE_FILE_NAME);
  });
  af.push(specRef);
  if (afObj instanceof PdfRef) w.set(afObj, af);
  else catalog.set('AF', af);

  w.set(rootRef, catalog);
  const update = w.build();
  const out = new Uint8Array(pdf.length + update.bytes.length);
  out.set(pdf);
  out.set(update.bytes, pdf.length);
  return out;
}
