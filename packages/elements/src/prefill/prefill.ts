/**
 * 自动数据填充 on the host page: the values the server vouches for (`GET /api/prefill`, or the
 * licences `<material-uploader>` reuses) fill the inputs of a `<form>` that declare what they hold
 * — `<input data-sidian-fill="licence.holderName">`, or a map from input names — and each filled
 * input gets a `<sidian-fill-source>` marker that says which licence (or the verified identity) the
 * value came from. The applicant may change any value: the marker then says "edited", and a later
 * fill leaves that input alone.
 *
 * ```js
 * import { fetchPrefill, prefill } from '@sidian/elements';
 * const data = await fetchPrefill({ endpoint: '/api', service: 'SPJYXKZ-XB', token });
 * prefill(document.querySelector('form'), data);
 * ```
 */
import './fill-source';
import type { SidianFillSource } from './fill-source';

/** Where one value came from. */
export interface PrefillSource {
  kind: 'licence' | 'identity';
  /** The licence identifier (licences only). */
  id?: string;
  typeCode?: string;
  typeName?: string;
  number?: string;
  issuer?: { name: string; creditCode: string };
  status?: string;
  validUntil?: string | null;
}

/** Values by name (`licence.holderName`, `licence.data.经营场所`, `identity.name`) and their sources. */
export interface PrefillData {
  values: Record<string, string>;
  sources: Record<string, PrefillSource>;
}

/** A licence record as `GET /api/licences` (and `<material-uploader>`'s `.holderLicences`) gives it. */
export interface LicenceRecord {
  id: string;
  status: string;
  typeName: string;
  typeCode: string;
  number: string;
  holder?: { name: string; idType?: string };
  issuer?: { name: string; creditCode: string };
  issueDate?: string;
  validFrom?: string;
  validUntil: string | null;
  data?: Record<string, unknown>;
}

export class PrefillError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'PrefillError';
  }
}

/**
 * Asks the server for the values it vouches for: `GET <endpoint>/prefill?service=...` with the
 * portal token. `endpoint` is the API base (`https://sidian.example.gov.cn/api`, default `/api`).
 */
export async function fetchPrefill(o: {
  service: string;
  token: string;
  endpoint?: string;
}): Promise<PrefillData> {
  const base = (o.endpoint ?? '/api').replace(/\/+$/, '');
  const res = await fetch(`${base}/prefill?service=${encodeURIComponent(o.service)}`, {
    headers: { authorization: `Bearer ${o.token}` },
  });
  const body = (await res.json().catch(() => ({}))) as {
    values?: Record<string, string>;
    sources?: Record<string, string>;
    licences?: Record<string, PrefillSource & { id: string }>;
    error?: string;
    message?: string;
  };
  if (!res.ok)
    throw new PrefillError(body.error ?? 'HTTP_ERROR', body.message ?? `HTTP ${res.status}`, res.status);
  const sources: Record<string, PrefillSource> = {};
  for (const [name, src] of Object.entries(body.sources ?? {})) {
    const lic = body.licences?.[src];
    sources[name] = lic ? { ...lic, kind: 'licence' } : { kind: 'identity' };
  }
  return { values: { ...(body.values ?? {}) }, sources };
}

/** The values one licence record holds, under `licence.<field>` and `licence.<typeCode>.<field>`. */
export function licencePrefill(l: LicenceRecord): PrefillData {
  const fields: Record<string, unknown> = {
    id: l.id,
    number: l.number,
    typeCode: l.typeCode,
    typeName: l.typeName,
    holderName: l.holder?.name,
    holderIdType: l.holder?.idType,
    issuerName: l.issuer?.name,
    issuerCreditCode: l.issuer?.creditCode,
    issueDate: l.issueDate,
    validFrom: l.validFrom,
    validUntil: l.validUntil ?? '',
  };
  for (const [k, v] of Object.entries(l.data ?? {})) fields[`data.${k}`] = v;
  const source: PrefillSource = {
    kind: 'licence',
    id: l.id,
    typeCode: l.typeCode,
    typeName: l.typeName,
    number: l.number,
    issuer: l.issuer,
    status: l.status,
    validUntil: l.validUntil,
  };
  const out: PrefillData = { values: {}, sources: {} };
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    for (const name of [`licence.${k}`, `licence.${l.typeCode}.${k}`]) {
      out.values[name] = String(v);
      out.sources[name] = source;
    }
  }
  return out;
}

/** Several sources in one: the first to name a value wins. */
export function mergePrefill(...all: PrefillData[]): PrefillData {
  const out: PrefillData = { values: {}, sources: {} };
  for (const d of all) {
    for (const [k, v] of Object.entries(d.values)) {
      if (k in out.values) continue;
      out.values[k] = v;
      if (d.sources[k]) out.sources[k] = d.sources[k];
    }
  }
  return out;
}

type Fillable = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

export interface PrefillOptions {
  /** Input name -> value name, for inputs without `data-sidian-fill`. */
  map?: Record<string, string>;
  /** Also replace values the applicant has edited (default: an edited input is left alone). */
  overwrite?: boolean;
  /** Put no `<sidian-fill-source>` marker after the inputs. */
  noMarkers?: boolean;
}

export interface FilledInput {
  input: Fillable;
  /** The value name, e.g. `licence.holderName`. */
  name: string;
  value: string;
  source: PrefillSource | undefined;
}

export interface PrefillResult {
  filled: FilledInput[];
  /** Inputs that ask for a value the data does not have. */
  missing: { input: Fillable; name: string }[];
  /** Inputs left alone because the applicant had changed them. */
  kept: Fillable[];
}

interface FillState {
  value: string;
  source: PrefillSource | undefined;
  marker?: SidianFillSource;
  listener: () => void;
}
const states = new WeakMap<Fillable, FillState>();
let markerIds = 0;

/** Whether the applicant changed a value `prefill()` put into `input`. */
export function isEdited(input: Fillable): boolean {
  return input.dataset.sidianFillState === 'edited';
}

/**
 * Fills the inputs of `target` (a form, or any part of the page) that declare a value name, from
 * `data`. `data-sidian-fill` may list alternatives separated by `|` (the first the data has wins).
 */
export function prefill(target: ParentNode, data: PrefillData, options: PrefillOptions = {}): PrefillResult {
  const result: PrefillResult = { filled: [], missing: [], kept: [] };
  const inputs = [...target.querySelectorAll<Fillable>('input, textarea, select')];
  for (const input of inputs) {
    const declared = input.dataset.sidianFill ?? (input.name ? options.map?.[input.name] : undefined);
    if (!declared) continue;
    const names = declared
      .split('|')
      .map((s) => s.trim())
      .filter(Boolean);
    const name = names.find((n) => n in data.values);
    if (!name) {
      result.missing.push({ input, name: names[0] ?? declared });
      continue;
    }
    if (isEdited(input) && !options.overwrite) {
      result.kept.push(input);
      continue;
    }
    const value = data.values[name]!;
    if (!setValue(input, value)) {
      result.missing.push({ input, name });
      continue;
    }
    const source = data.sources[name];
    track(input, source, !options.noMarkers);
    result.filled.push({ input, name, value: currentValue(input), source });
  }
  return result;
}

function currentValue(input: Fillable): string {
  if (input instanceof HTMLInputElement && (input.type === 'checkbox' || input.type === 'radio'))
    return input.checked ? input.value : '';
  return input.value;
}

/** Sets the value as a user would (with input and change events, so frameworks see it). */
function setValue(input: Fillable, value: string): boolean {
  if (input instanceof HTMLInputElement && (input.type === 'checkbox' || input.type === 'radio')) {
    input.checked = input.value === value || (input.type === 'checkbox' && value === 'true');
  } else if (input instanceof HTMLSelectElement) {
    if (![...input.options].some((o) => o.value === value)) return false;
    input.value = value;
  } else input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  input.dispatchEvent(new Event('change', { bubbles: true }));
  return true;
}

function track(input: Fillable, source: PrefillSource | undefined, withMarker: boolean): void {
  const old = states.get(input);
  if (old) {
    input.removeEventListener('input', old.listener);
    input.removeEventListener('change', old.listener);
  }
  let marker = old?.marker;
  if (withMarker) {
    if (!marker) {
      marker = document.createElement('sidian-fill-source');
      marker.id = `sidian-fill-source-${++markerIds}`;
      input.insertAdjacentElement('afterend', marker);
      input.setAttribute(
        'aria-describedby',
        [input.getAttribute('aria-describedby'), marker.id].filter(Boolean).join(' '),
      );
    }
    marker.source = source;
    marker.edited = false;
  }
  const filledValue = currentValue(input);
  const state: FillState = {
    value: filledValue,
    source,
    marker,
    listener: () => {
      const edited = currentValue(input) !== state.value;
      input.dataset.sidianFillState = edited ? 'edited' : 'filled';
      if (state.marker) state.marker.edited = edited;
    },
  };
  states.set(input, state);
  input.dataset.sidianFillState = 'filled';
  if (source?.kind === 'licence' && source.id) input.dataset.sidianFillSource = source.id;
  else input.dataset.sidianFillSource = source?.kind ?? '';
  input.addEventListener('input', state.listener);
  input.addEventListener('change', state.listener);
}
