import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { property, state } from 'lit/decorators.js';
import { Upload } from 'tus-js-client';
import { createCadesSignature, signerHash, sm3, type HashName, type Signer } from '@sidian/core';
import { SidianElement } from '../shared/base';
import { SidianElementError, errorCode } from '../shared/errors';
import { FormAssociated, type FormValidity, type FormValue } from '../shared/form-associated';
import { LocalizeController } from '../shared/localize';
import { errorDetail, technicalDetails } from '../shared/technical-details';
import { baseStyles } from '../shared/styles';
import { hashFile, type HashJob } from './hasher';
import { materialUploaderStyles } from './material-uploader.styles';
import { materialUploaderStrings } from './material-uploader.strings';
import { pendingStore, type PendingRecord } from './pending-store';
import { photosToPdf } from './photos';
import { licencePrefill, mergePrefill, prefill, type PrefillData, type PrefillOptions, type PrefillResult } from '../prefill/prefill';
import { MIME_OF, acceptAttribute, acceptedKinds, checkPdf, sniffKind, type MaterialKind } from './sniff';

/** One item of the checklist (申请材料清单). */
export interface MaterialRequirement {
  id: string;
  name: string;
  required?: boolean;
  /** Allowed kinds: MIME types, extensions or kind names (`pdf`, `png`, `jpeg`, `ofd`); default all four. */
  accept?: string | string[];
  /** Largest file in bytes. */
  maxSize?: number;
  /** The applicant signs the material (needs `.signer`): a detached CMS over its SHA-256, stored beside it. */
  sign?: boolean;
  /** More than one file for this item (e.g. several pages); otherwise a new file replaces the old. */
  multiple?: boolean;
  /** Licence type codes that satisfy this item: the holder's licences of these types are offered (免证可办). */
  licenceTypes?: string[];
  /** Photos for this item are turned into one PDF (also for every item with the `photos-to-pdf` attribute). */
  photosToPdf?: boolean;
}

export type MaterialState = 'checking' | 'converting' | 'hashing' | 'signing' | 'ready' | 'uploading' | 'paused' | 'uploaded' | 'error';

/** A material as the element shows it (plain data). */
export interface Material {
  key: string;
  requirementId: string;
  name: string;
  size: number;
  /** MIME type from the sniffed content. */
  type: string;
  state: MaterialState;
  /** Bytes hashed so far. */
  hashed: number;
  /** Bytes the server holds so far. */
  uploaded: number;
  sha256?: string;
  materialId?: string;
  /** The stored detached CMS signature (a material of its own), verified by the server on arrival. */
  signatureId?: string;
  /** The registry licence used instead of an upload. */
  licenceId?: string;
  /** No bytes were sent: the server already held the content. */
  instant: boolean;
  /** `message` in the page's language; `detail` the code and the technical reason (shown behind 技术详情). */
  error?: { code: string; message: string; detail?: string };
}

/** The server's record of an applicant's signature over a material (`POST …/:id/signatures`). */
export interface MaterialSignatureRecord {
  id: string;
  signer: { subject: string; commonName: string | null; serialNumber: string; issuer: string };
  integrity: 'ok';
  trust: 'trusted' | 'untrusted' | 'expired' | 'revoked' | 'unknown';
  status: 'valid' | 'indeterminate';
  reasons: string[];
  verifiedAt: string;
}

/** One entry of the form value. */
export interface MaterialValue {
  requirementId: string;
  materialId: string | null;
  sha256: string;
  licenceId?: string;
  signatureId?: string;
}

/** A licence of the holder's, from the registry. */
export interface HolderLicence {
  id: string;
  /** The registry's status: valid, cancelled (注销), revoked (吊销), suspended (中止), expired, not-yet-valid. */
  status: string;
  /** Why it was cancelled, revoked or suspended, as the department gave it. */
  revocationReason?: string | null;
  typeName: string;
  typeCode: string;
  number: string;
  sha256: string;
  validUntil: string | null;
  /** The licence's face (照面信息), as the registry returns it: what auto fill draws on. */
  holder?: { name: string; idType?: string };
  issuer?: { name: string; creditCode: string };
  issueDate?: string;
  validFrom?: string;
  data?: Record<string, unknown>;
}

/** A licence was used for a requirement: its fields, by the names host inputs map (`licence.holderName`). */
export interface LicenceReusedDetail extends PrefillData {
  requirementId: string;
  licence: HolderLicence;
}

export interface MaterialAddedDetail {
  requirementId: string;
  name: string;
  size: number;
  type: string;
}
export interface MaterialRejectedDetail {
  requirementId: string;
  name: string;
  /** EMPTY, TOO_LARGE, EXECUTABLE, TYPE_NOT_ALLOWED, TYPE_UNKNOWN, PDF_ENCRYPTED, PDF_UNREADABLE, PDF_NO_PAGES, NO_REQUIREMENT */
  code: string;
  reason: string;
}
export interface UploadProgressDetail {
  requirementId: string;
  name: string;
  phase: 'hash' | 'upload';
  loaded: number;
  total: number;
}
export interface MaterialUploadedDetail {
  requirementId: string;
  name: string;
  /** The material id (for a reused licence: the licence identifier). */
  id: string;
  sha256: string;
  instant: boolean;
  signatureId?: string;
  licenceId?: string;
}
export interface AllUploadedDetail {
  materials: MaterialValue[];
}

interface Item extends Material {
  file?: Blob;
  upload?: Upload;
  hashJob?: HashJob;
  signature?: Uint8Array;
  cancelled?: boolean;
  running?: Promise<void>;
}

const RETRY_DELAYS = [0, 1000, 3000, 5000, 10_000, 20_000];

/**
 * The applicant's checklist of materials (电子材料): files checked by their bytes, hashed in a
 * worker, uploaded resumably (tus) with instant upload of content the server already holds,
 * optionally signed by the applicant, or replaced by a licence from the registry (免证可办).
 *
 * @summary 电子材料: drop, pick or paste files per checklist item; resumable uploads with pause, resume, cancel, retry.
 *
 * @event material-added - A file passed the checks: `{requirementId, name, size, type}`.
 * @event material-rejected - A file was refused: `{requirementId, name, code, reason}` (reason in the UI language).
 * @event upload-progress - Hashing or upload progress: `{requirementId, name, phase, loaded, total}`.
 * @event material-uploaded - A material is stored: `{requirementId, name, id, sha256, instant, signatureId?, licenceId?}`.
 * @event all-uploaded - Every required item is satisfied and nothing is in progress: `{materials}`.
 * @event licence-reused - A registry licence fills a requirement (免证可办): `{requirementId, licence, values, sources}`,
 *   the licence's fields for auto fill (`fill()` puts them into the host form's `data-sidian-fill` inputs).
 *
 * @csspart checklist - The list of requirements.
 * @csspart requirement - One requirement (also a drop zone).
 * @csspart choose-button - A requirement's file picker button.
 * @csspart item - One file of a requirement.
 * @csspart progress - An item's progress bar.
 * @csspart licences - The holder's licences offered for a requirement.
 * @csspart rejection - The reason the last file was refused.
 * @csspart button - Every button.
 *
 * @cssprop --sidian-color-primary - Buttons, progress and drop highlight.
 * @cssprop --sidian-color-danger - Rejections and errors.
 * @cssprop --sidian-color-success - Uploaded items.
 */
export class MaterialUploader extends FormAssociated(SidianElement) {
  static override styles = [baseStyles, materialUploaderStyles];

  /** The materials API of the server, e.g. `https://zwfw.example.gov.cn/api/materials` (uploads go to `<endpoint>/uploads`). */
  @property() endpoint?: string;
  /**
   * The department the application is made to (its id on the server): only that department may
   * read the materials uploaded here. Without it, only the applicant can.
   */
  @property() department?: string;
  /** The licence registry for reuse; default: `endpoint` with `/materials` replaced by `/licences`. */
  @property() registry?: string;
  /** Turn photos (JPEG, PNG) into a PDF for every requirement that accepts PDF. */
  @property({ type: Boolean, attribute: 'photos-to-pdf' }) photosToPdf = false;
  /** Wait for `upload()` instead of uploading each file once it is checked and hashed. */
  @property({ type: Boolean }) manual = false;
  /** tus chunk size in bytes (default: the whole rest of the file in one request). */
  @property({ type: Number, attribute: 'chunk-size' }) chunkSize?: number;
  /** The checklist. */
  @property({ attribute: false }) requirements: MaterialRequirement[] = [];
  /** The portal token (JWT), sent as `Authorization: Bearer`. */
  @property({ attribute: false }) token?: string;
  /** Signs materials of requirements with `sign: true` (`signerFromCryptoKey` from @sidian/core). */
  @property({ attribute: false }) signer?: Signer;

  @state() private items: Item[] = [];
  @state() private licences: HolderLicence[] = [];
  @state() private rejections = new Map<string, string>();
  @state() private announcement = '';
  @state() private dragOver = '';
  private restored = '';
  private licencesFor = '';
  private allUploadedSent = '';
  private nextKey = 1;

  private readonly t = new LocalizeController(this, materialUploaderStrings);

  /** The materials: uploaded, in progress and failed (plain data). */
  get materials(): Material[] {
    return this.items.map(publicMaterial);
  }

  /** The form value as data: one entry per stored material or reused licence. */
  get value(): MaterialValue[] {
    return this.items
      .filter((i) => i.state === 'uploaded' && i.sha256)
      .map((i) => ({
        requirementId: i.requirementId,
        materialId: i.materialId ?? null,
        sha256: i.sha256!,
        ...(i.licenceId ? { licenceId: i.licenceId } : {}),
        ...(i.signatureId ? { signatureId: i.signatureId } : {}),
      }));
  }

  /** The holder's licences from the registry offered for reuse. */
  get holderLicences(): HolderLicence[] {
    return [...this.licences];
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener('paste', this.onPaste);
  }
  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.removeEventListener('paste', this.onPaste);
  }

  override willUpdate(changed: PropertyValues<this>): void {
    const ready = this.endpoint && this.token;
    if (ready && (changed.has('endpoint') || changed.has('token') || changed.has('requirements') || changed.has('name'))) {
      const scope = this.scope();
      if (this.requirements.length && this.restored !== scope) {
        this.restored = scope;
        void this.restorePending();
      }
      const types = this.requirements.flatMap((r) => r.licenceTypes ?? []).join(',');
      if (types && this.licencesFor !== `${scope}|${types}|${this.token}`) {
        this.licencesFor = `${scope}|${types}|${this.token}`;
        void this.loadLicences(types);
      }
    }
  }

  override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    if (changed.has('requirements') || changed.has('items' as keyof MaterialUploader)) this.updateForm();
  }

  // ---- public methods ------------------------------------------------------------------------

  /**
   * Offers files for a requirement (default: the first that accepts each file and still needs one).
   * Each file is checked by its bytes; rejected ones get `material-rejected`. Resolves when the
   * accepted files are checked and queued (not uploaded).
   */
  async addFiles(files: Iterable<File> | ArrayLike<File>, requirementId?: string): Promise<void> {
    const list = Array.from(files as ArrayLike<File>);
    if (!list.length) return;
    const photos: File[] = [];
    for (const file of list) {
      const kind = sniffKind(new Uint8Array(await file.slice(0, 4096).arrayBuffer()));
      const req = requirementId ? this.requirements.find((r) => r.id === requirementId) : this.requirementFor(kind);
      if (!req) {
        this.reject(requirementId ?? '', file.name, 'NO_REQUIREMENT', this.t.table.rejections.NO_REQUIREMENT);
        continue;
      }
      const kinds = acceptedKinds(req.accept);
      const toPdf = (req.photosToPdf || this.photosToPdf) && kinds.has('pdf') && (kind === 'jpeg' || kind === 'png');
      const problem = await this.check(file, kind, req, toPdf);
      if (problem) {
        this.reject(req.id, file.name, problem.code, problem.reason);
        continue;
      }
      if (toPdf) {
        photos.push(file);
        requirementId ??= req.id;
        continue;
      }
      this.accept(req, file, MIME_OF[kind as MaterialKind]);
    }
    if (photos.length) {
      const req = this.requirements.find((r) => r.id === requirementId)!;
      const item = this.accept(req, undefined, 'application/pdf', photos[0]!.name.replace(/\.[^.]*$/, '') + '.pdf', 'converting');
      try {
        item.file = await photosToPdf(photos, item.name);
        item.size = item.file.size;
        this.process(item);
      } catch (e) {
        this.failItem(item, e);
      }
    }
  }

  /**
   * Uploads everything not yet uploaded (with `manual`, the only way uploads start) and resolves
   * with the value when all are stored. Rejects with UPLOAD_FAILED when an upload fails, or
   * MATERIALS_MISSING when required items have nothing.
   */
  async upload(): Promise<MaterialValue[]> {
    for (const item of this.items) {
      if (item.state === 'ready' || item.state === 'paused' || (item.state === 'error' && item.file && item.sha256)) this.startUpload(item);
    }
    while (this.items.some((i) => i.running)) await Promise.all(this.items.map((i) => i.running));
    const failed = this.items.find((i) => i.state === 'error');
    if (failed) throw new SidianElementError('UPLOAD_FAILED', `${failed.name}: ${failed.error?.message ?? 'failed'}`);
    const missing = this.missingRequired();
    if (missing.length)
      throw new SidianElementError(
        'MATERIALS_MISSING',
        this.t.term(
          'missing',
          this.t.term(
            'list',
            missing.map((r) => r.name),
          ),
        ),
      );
    return this.value;
  }

  /** Pauses an upload (the server keeps what it has). */
  pause(key: string): void {
    const item = this.item(key);
    if (!item || item.state !== 'uploading' || !item.upload) return;
    void item.upload.abort();
    this.setItem(item, { state: 'paused' });
  }

  /** Resumes a paused upload from where the server stands. */
  resume(key: string): void {
    const item = this.item(key);
    if (!item || item.state !== 'paused') return;
    if (item.upload) {
      this.setItem(item, { state: 'uploading' });
      item.upload.start();
    } else this.startUpload(item);
  }

  /** Cancels an item: stops hashing or uploading, deletes the partial upload on the server, removes it. */
  cancel(key: string): void {
    const item = this.item(key);
    if (!item) return;
    item.cancelled = true;
    item.hashJob?.cancel();
    if (item.upload && item.state !== 'uploaded') void item.upload.abort(true).catch(() => {});
    void pendingStore.delete(this.pendingKey(item));
    this.items = this.items.filter((i) => i !== item);
    this.updateForm();
  }

  /** Retries a failed item (an upload resumes where the server stands). */
  retry(key: string): void {
    const item = this.item(key);
    if (!item || item.state !== 'error' || !item.file) return;
    if (item.sha256) this.startUpload(item);
    else this.process(item);
  }

  /** Fills a requirement with a licence from the registry instead of an upload. */
  useLicence(requirementId: string, licenceId: string): void {
    const req = this.requirements.find((r) => r.id === requirementId);
    const lic = this.licences.find((l) => l.id === licenceId);
    if (!req || !lic || lic.status !== 'valid') return;
    if (!req.multiple) this.items.filter((i) => i.requirementId === req.id).forEach((i) => this.cancel(i.key));
    const item: Item = {
      key: `m${this.nextKey++}`,
      requirementId: req.id,
      name: `${lic.typeName} ${lic.number}`,
      size: 0,
      type: 'application/pdf',
      state: 'uploaded',
      hashed: 0,
      uploaded: 0,
      sha256: lic.sha256,
      licenceId: lic.id,
      instant: true,
    };
    this.items = [...this.items, item];
    this.announce(this.t.table.states.reused);
    this.emit('material-uploaded', { requirementId: req.id, name: item.name, id: lic.id, sha256: lic.sha256, instant: true, licenceId: lic.id });
    this.emit('licence-reused', { requirementId: req.id, licence: { ...lic }, ...licencePrefill(lic) });
    this.afterChange();
  }

  /** The fields of the licences used for requirements, for auto fill (first licence first). */
  get reusedLicenceValues(): PrefillData {
    const used = this.items
      .filter((i) => i.licenceId && i.state === 'uploaded')
      .map((i) => this.licences.find((l) => l.id === i.licenceId))
      .filter((l): l is HolderLicence => !!l);
    return mergePrefill(...used.map(licencePrefill));
  }

  /**
   * 自动数据填充: fills the host form's inputs that declare `data-sidian-fill="licence.<field>"`
   * (or are named in `options.map`) from the licences used for requirements, each marked with the
   * licence it came from. `target` defaults to the form this element is in, else the document.
   */
  fill(target?: ParentNode, options?: PrefillOptions): PrefillResult {
    return prefill(target ?? this.closest('form') ?? document, this.reusedLicenceValues, options);
  }

  // ---- form association ----------------------------------------------------------------------

  protected formValue(): FormValue {
    const v = this.value;
    return v.length ? JSON.stringify(v) : null;
  }
  protected formValidity(): FormValidity {
    const missing = this.missingRequired();
    if (!missing.length) return { flags: {}, message: '' };
    const anchor =
      this.renderRoot?.querySelector<HTMLElement>(
        `[data-requirement="${CSS.escape(missing[0]!.id)}"] [part~=choose-button]`,
      ) ?? undefined;
    return {
      flags: { valueMissing: true },
      message: this.t.term(
        'missing',
        this.t.term(
          'list',
          missing.map((r) => r.name),
        ),
      ),
      anchor,
    };
  }
  protected formReset(): void {
    for (const i of [...this.items]) this.cancel(i.key);
    this.items = [];
    this.rejections = new Map();
  }
  protected formRestore(): void {
    /* uploads are restored from IndexedDB, not from the browser's form state */
  }

  // ---- checking ------------------------------------------------------------------------------

  private requirementFor(kind: string): MaterialRequirement | undefined {
    const takes = (r: MaterialRequirement) => {
      const kinds = acceptedKinds(r.accept);
      return kinds.has(kind as MaterialKind) || ((kind === 'jpeg' || kind === 'png') && (r.photosToPdf || this.photosToPdf) && kinds.has('pdf'));
    };
    const open = (r: MaterialRequirement) => r.multiple || !this.items.some((i) => i.requirementId === r.id);
    return this.requirements.find((r) => takes(r) && open(r)) ?? this.requirements.find(takes) ?? this.requirements.find(open) ?? this.requirements[0];
  }

  private async check(file: File, kind: string, req: MaterialRequirement, toPdf: boolean): Promise<{ code: string; reason: string } | undefined> {
    const r = this.t.table.rejections;
    const kinds = acceptedKinds(req.accept);
    const allowed = this.t.term(
      'list',
      [...kinds].map((k) => this.t.table.kinds[k]!),
    );
    const ext = /\.[A-Za-z0-9]{1,8}$/.exec(file.name)?.[0] ?? '';
    if (file.size === 0) return { code: 'EMPTY', reason: r.EMPTY };
    if (kind === 'windows-executable' || kind === 'elf-executable' || kind === 'macho-executable' || kind === 'script') {
      return { code: 'EXECUTABLE', reason: r.EXECUTABLE(ext, this.t.table.whatExe[kind]!) };
    }
    if (kind === 'unknown' || kind === 'zip') return { code: 'TYPE_UNKNOWN', reason: r.TYPE_UNKNOWN(allowed) };
    if (!kinds.has(kind as MaterialKind) && !toPdf) return { code: 'TYPE_NOT_ALLOWED', reason: r.TYPE_NOT_ALLOWED(this.t.table.kinds[kind] ?? kind, allowed) };
    if (req.maxSize && file.size > req.maxSize && !toPdf) {
      return { code: 'TOO_LARGE', reason: r.TOO_LARGE(this.t.term('size', file.size), this.t.term('size', req.maxSize)) };
    }
    if (kind === 'pdf') {
      const problem = await checkPdf(file);
      if (problem) return { code: problem, reason: r[problem] };
    }
    return undefined;
  }

  private reject(requirementId: string, name: string, code: string, reason: string): void {
    this.rejections = new Map(this.rejections).set(requirementId, `${name}: ${reason}`);
    this.announce(this.t.term('announceRejected', name, reason));
    this.emit('material-rejected', { requirementId, name, code, reason });
  }

  private accept(req: MaterialRequirement, file: Blob | undefined, type: string, name = (file as File | undefined)?.name ?? 'material', state: MaterialState = 'hashing'): Item {
    if (!req.multiple) this.items.filter((i) => i.requirementId === req.id).forEach((i) => this.cancel(i.key));
    const item: Item = { key: `m${this.nextKey++}`, requirementId: req.id, name, size: file?.size ?? 0, type, state, hashed: 0, uploaded: 0, instant: false, file };
    this.items = [...this.items, item];
    if (this.rejections.has(req.id)) {
      const m = new Map(this.rejections);
      m.delete(req.id);
      this.rejections = m;
    }
    this.announce(this.t.term('announceAdded', name));
    this.emit('material-added', { requirementId: req.id, name, size: item.size, type });
    if (file) this.process(item);
    return item;
  }

  // ---- the pipeline: hash, sign, upload ------------------------------------------------------

  private process(item: Item): void {
    item.running = this.runPipeline(item).finally(() => (item.running = undefined));
  }

  private async runPipeline(item: Item): Promise<void> {
    try {
      const file = item.file!;
      this.setItem(item, { state: 'hashing', hashed: 0, error: undefined });
      item.hashJob = hashFile(file, (hashed) => {
        this.setItem(item, { hashed });
        this.emit('upload-progress', { requirementId: item.requirementId, name: item.name, phase: 'hash', loaded: hashed, total: file.size });
      });
      const sha256 = await item.hashJob.promise;
      item.hashJob = undefined;
      if (!sha256 || item.cancelled) return;
      this.setItem(item, { sha256, hashed: file.size });
      const req = this.requirements.find((r) => r.id === item.requirementId);
      if (req?.sign) {
        if (!this.signer) throw new SidianElementError('NO_SIGNER', 'no signer: set .signer to sign materials');
        this.setItem(item, { state: 'signing' });
        // the signer's own digest: SHA-256 as hashed above, or a second pass (SM3 for an SM2 key, 国密)
        const hash = signerHash(this.signer);
        const documentDigest = hash === 'SHA-256' ? fromHex(sha256) : await digestBlob(file, hash);
        item.signature = await createCadesSignature({ signer: this.signer, documentDigest, hash });
      }
      if (item.cancelled) return;
      await this.persist(item);
      if (this.manual) {
        this.setItem(item, { state: 'ready' });
        return;
      }
      await this.uploadItem(item);
    } catch (e) {
      if (!item.cancelled) this.failItem(item, e);
    }
  }

  private startUpload(item: Item): void {
    item.running = this.uploadItem(item)
      .catch((e) => {
        if (!item.cancelled) this.failItem(item, e);
      })
      .finally(() => (item.running = undefined));
  }

  private async uploadItem(item: Item): Promise<void> {
    const endpoint = this.endpoint?.replace(/\/+$/, '');
    if (!endpoint) throw new SidianElementError('NO_ENDPOINT', 'set the endpoint attribute');
    this.setItem(item, { state: 'uploading', error: undefined });
    const sha256 = item.sha256!;
    let materialId: string;
    let instant = false;
    // instant upload (秒传): the server already holds this content for this applicant
    if (await this.alreadyStored(endpoint, sha256)) {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { ...this.authHeaders(), 'content-type': 'application/json' },
        body: JSON.stringify({
          sha256,
          name: item.name,
          type: item.type,
          requirement: item.requirementId,
          ...(this.department ? { department: this.department } : {}),
        }),
      });
      if (!res.ok) throw httpError(res.status, !!this.token);
      materialId = ((await res.json()) as { id: string }).id;
      instant = true;
      this.setItem(item, { uploaded: item.size });
    } else {
      const metadata: Record<string, string> = { filename: item.name, filetype: item.type, requirement: item.requirementId };
      if (this.department) metadata.department = this.department;
      const url = await this.tus(item, item.file!, metadata, sha256);
      if (item.cancelled) return;
      materialId = decodeURIComponent(new URL(url, document.baseURI).pathname.split('/').pop()!);
      const stored = await this.fetchMaterial(endpoint, materialId);
      if (stored.sha256 !== sha256) throw new SidianElementError('HASH_MISMATCH', `the server stored ${stored.sha256}, the browser computed ${sha256}`);
    }
    let signatureId: string | undefined;
    if (item.signature) signatureId = (await this.sendSignature(endpoint, materialId, item.signature)).id;
    if (item.cancelled) return;
    item.upload = undefined;
    this.setItem(item, { state: 'uploaded', materialId, instant, signatureId, uploaded: item.size });
    void pendingStore.delete(this.pendingKey(item));
    this.announce(this.t.term('announceUploaded', item.name));
    this.emit('material-uploaded', { requirementId: item.requirementId, name: item.name, id: materialId, sha256, instant, ...(signatureId ? { signatureId } : {}) });
    this.afterChange();
  }

  /**
   * Whether the server already holds this content for this applicant. `GET …/lookup?sha256=` answers
   * 200 `{stored}` either way, so a new upload (the normal case) leaves no failed request in the
   * browser's console; a server without it (404/405) is asked the first way, `HEAD …/by-hash/`.
   */
  private async alreadyStored(endpoint: string, sha256: string): Promise<boolean> {
    const res = await fetch(`${endpoint}/lookup?sha256=${sha256}`, {
      headers: { ...this.authHeaders(), accept: 'application/json' },
    });
    if (res.status === 401) throw httpError(401, !!this.token);
    if (res.ok) return ((await res.json()) as { stored?: unknown }).stored === true;
    if (res.status !== 404 && res.status !== 405) throw httpError(res.status);
    const head = await fetch(`${endpoint}/by-hash/${sha256}`, {
      method: 'HEAD',
      headers: this.authHeaders(),
    });
    if (head.status === 401) throw httpError(401, !!this.token);
    return head.ok;
  }

  /** A tus upload (resuming a stored one with the same content and requirement); resolves with its URL. */
  private tus(item: Item, blob: Blob, metadata: Record<string, string>, sha256: string, track = true): Promise<string> {
    const endpoint = this.endpoint!.replace(/\/+$/, '');
    return new Promise<string>((resolve, reject) => {
      const upload = new Upload(blob, {
        endpoint: `${endpoint}/uploads`,
        headers: this.authHeaders(),
        metadata,
        chunkSize: this.chunkSize && this.chunkSize > 0 ? this.chunkSize : Infinity,
        retryDelays: RETRY_DELAYS,
        // the content's hash identifies the upload: a reloaded page (or the same file chosen again) resumes it
        fingerprint: async () => `sidian-material:${endpoint}:${metadata.requirement}:${sha256}`,
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: true,
        onProgress: (sent, total) => {
          if (!track) return;
          this.setItem(item, { uploaded: sent });
          this.emit('upload-progress', { requirementId: item.requirementId, name: item.name, phase: 'upload', loaded: sent, total });
        },
        onSuccess: () => resolve(upload.url!),
        onError: (err) => reject(err),
      });
      item.upload = upload;
      void upload.findPreviousUploads().then(
        (previous) => {
          if (previous.length) upload.resumeFromPreviousUpload(previous[0]!);
          if (!item.cancelled && item.state !== 'paused') upload.start();
        },
        () => upload.start(),
      );
    });
  }

  /**
   * The applicant's detached CMS, handed to the server beside the material; the server verifies it
   * over the bytes it stored and answers with what it recorded (signer, trust), or refuses it (422).
   */
  private async sendSignature(endpoint: string, materialId: string, cms: Uint8Array): Promise<MaterialSignatureRecord> {
    const res = await fetch(`${endpoint}/${encodeURIComponent(materialId)}/signatures`, {
      method: 'POST',
      headers: { ...this.authHeaders(), 'content-type': 'application/pkcs7-signature' },
      body: cms as Uint8Array<ArrayBuffer>,
    });
    if (res.status === 422) {
      const why = ((await res.json().catch(() => ({}))) as { message?: string }).message ?? '';
      throw new SidianElementError('SIGNATURE_REFUSED', why);
    }
    if (!res.ok) throw httpError(res.status, !!this.token);
    return (await res.json()) as MaterialSignatureRecord;
  }

  private async fetchMaterial(endpoint: string, id: string): Promise<{ id: string; sha256: string }> {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${endpoint}/${encodeURIComponent(id)}`, { headers: this.authHeaders() });
      if (res.ok) return (await res.json()) as { id: string; sha256: string };
      // the row is written right after the last byte: a moment's wait covers the race
      if (res.status !== 404 || attempt >= 10) throw httpError(res.status, !!this.token);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  private authHeaders(): Record<string, string> {
    return this.token ? { Authorization: `Bearer ${this.token}` } : {};
  }

  private failItem(item: Item, e: unknown): void {
    const status = (
      e as { originalResponse?: { getStatus(): number } } | null
    )?.originalResponse?.getStatus();
    const refused = status === 401 ? (this.token ? 'UNAUTHORIZED' : 'NOT_SIGNED_IN') : 'UPLOAD_FAILED';
    const code = errorCode(e) === 'UNKNOWN' ? refused : errorCode(e);
    const message = this.t.table.errors[code] ?? this.t.table.errors.UNKNOWN!;
    this.setItem(item, { state: 'error', error: { code, message, detail: errorDetail(e, code) } });
    this.announce(`${item.name}: ${message}`);
  }

  private afterChange(): void {
    this.updateForm();
    const busy = this.items.some((i) => i.state !== 'uploaded' && i.state !== 'error');
    const v = this.value;
    const key = JSON.stringify(v);
    if (!busy && v.length && !this.missingRequired().length && key !== this.allUploadedSent) {
      this.allUploadedSent = key;
      this.emit('all-uploaded', { materials: v });
    }
  }

  private missingRequired(): MaterialRequirement[] {
    return this.requirements.filter((r) => r.required && !this.items.some((i) => i.requirementId === r.id && i.state === 'uploaded'));
  }

  // ---- resumption after a reload -------------------------------------------------------------

  private scope(): string {
    return `${this.endpoint ?? ''}|${this.name || 'materials'}`;
  }
  private pendingKey(item: Item): string {
    return `${this.scope()}\u0000${item.requirementId}\u0000${item.sha256 ?? item.key}`;
  }

  private async persist(item: Item): Promise<void> {
    if (!this.endpoint) return;
    const record: PendingRecord = {
      key: this.pendingKey(item),
      scope: this.scope(),
      requirementId: item.requirementId,
      name: item.name,
      type: item.type,
      size: item.size,
      sha256: item.sha256!,
      file: item.size <= PERSIST_LIMIT ? item.file! : null,
      signature: item.signature ?? null,
    };
    await pendingStore.put(record);
  }

  private async restorePending(): Promise<void> {
    const records = await pendingStore.list(this.scope());
    for (const r of records) {
      if (!this.requirements.some((q) => q.id === r.requirementId)) continue;
      if (this.items.some((i) => i.requirementId === r.requirementId && i.sha256 === r.sha256)) continue;
      const item: Item = {
        key: `m${this.nextKey++}`,
        requirementId: r.requirementId,
        name: r.name,
        size: r.size,
        type: r.type,
        state: r.file ? (this.manual ? 'ready' : 'uploading') : 'error',
        hashed: r.size,
        uploaded: 0,
        sha256: r.sha256,
        instant: false,
        file: r.file ? new File([r.file], r.name, { type: r.type }) : undefined,
        signature: r.signature ?? undefined,
        error: r.file ? undefined : { code: 'NEED_FILE', message: this.t.table.states.needFile },
      };
      this.items = [...this.items, item];
      if (r.file && !this.manual) this.startUpload(item);
    }
  }

  // ---- the registry (免证可办) ---------------------------------------------------------------

  private registryUrl(): string {
    if (this.registry) return this.registry.replace(/\/+$/, '');
    return this.endpoint!.replace(/\/+$/, '').replace(/\/materials$/, '/licences');
  }

  private async loadLicences(types: string): Promise<void> {
    try {
      const res = await fetch(`${this.registryUrl()}?type=${encodeURIComponent(types)}`, { headers: this.authHeaders() });
      if (!res.ok) return;
      this.licences = ((await res.json()) as { licences: HolderLicence[] }).licences ?? [];
    } catch {
      this.licences = [];
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  private item(key: string): Item | undefined {
    return this.items.find((i) => i.key === key);
  }

  private setItem(item: Item, patch: Partial<Item>): void {
    Object.assign(item, patch);
    this.items = [...this.items];
  }

  private announce(text: string): void {
    this.announcement = text;
  }

  private onPaste = (e: ClipboardEvent) => {
    const files = e.clipboardData?.files;
    if (!files?.length) return;
    e.preventDefault();
    void this.addFiles(files, this.requirementOf(e));
  };

  private requirementOf(e: Event): string | undefined {
    for (const n of e.composedPath()) {
      const id = (n as HTMLElement).dataset?.requirement;
      if (id) return id;
    }
    return undefined;
  }

  private onDragOver(e: DragEvent, id: string) {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    this.dragOver = id;
  }

  private onDrop(e: DragEvent, id: string) {
    e.preventDefault();
    this.dragOver = '';
    const files = e.dataTransfer?.files;
    if (files?.length) void this.addFiles(files, id);
  }

  private pick(id: string) {
    this.renderRoot.querySelector<HTMLInputElement>(`input[data-input="${CSS.escape(id)}"]`)?.click();
  }

  // ---- rendering -----------------------------------------------------------------------------

  override render(): TemplateResult {
    const t = this.t;
    return html`<section class="uploader" aria-label=${t.term('region')}>
      ${this.endpoint ? nothing : html`<p class="status">${t.term('noEndpoint')}</p>`}
      <ul class="checklist" part="checklist">
        ${this.requirements.map((r, i) => this.renderRequirement(r, i))}
      </ul>
      ${this.manual && this.items.some((i) => i.state === 'ready' || i.state === 'paused')
        ? html`<div class="toolbar"><button type="button" class="primary" part="button" @click=${() => void this.upload().catch(() => {})}>${t.term('uploadAll')}</button></div>`
        : nothing}
      <div class="visually-hidden" role="status" aria-live="polite">${this.announcement}</div>
    </section>`;
  }

  private renderRequirement(r: MaterialRequirement, index: number): TemplateResult {
    const t = this.t;
    const kinds = acceptedKinds(r.accept);
    const items = this.items.filter((i) => i.requirementId === r.id);
    const done = items.some((i) => i.state === 'uploaded');
    const rejection = this.rejections.get(r.id);
    const hintId = `req-${index}-hint`;
    const nameId = `req-${index}-name`;
    const accept = acceptAttribute(kinds) + ((r.photosToPdf || this.photosToPdf) && kinds.has('pdf') ? ',image/png,image/jpeg' : '');
    const licences = r.licenceTypes?.length ? this.licences.filter((l) => r.licenceTypes!.includes(l.typeCode)) : [];
    return html`<li
      class="requirement ${done ? 'done' : ''} ${this.dragOver === r.id ? 'drag' : ''}"
      part="requirement"
      data-requirement=${r.id}
      @dragover=${(e: DragEvent) => this.onDragOver(e, r.id)}
      @dragleave=${() => (this.dragOver = '')}
      @drop=${(e: DragEvent) => this.onDrop(e, r.id)}
    >
      <div class="req-head">
        <span class="req-mark" aria-hidden="true">${done ? '✓' : r.required ? '*' : ''}</span>
        <span class="req-name" id=${nameId}>${r.name}</span>
        <span class="badge ${r.required ? 'required' : ''}">${r.required ? t.term('required') : t.term('optional')}</span>
        ${r.sign ? html`<span class="badge">${t.term('signed')}</span>` : nothing}
        <span class="spacer"></span>
        <button type="button" part="button choose-button" aria-label=${t.term('chooseFor', r.name)} aria-describedby=${hintId} ?disabled=${this.isDisabled} @click=${() => this.pick(r.id)}>
          ${t.term('choose')}
        </button>
        <input
          type="file"
          hidden
          data-input=${r.id}
          accept=${accept}
          ?multiple=${!!r.multiple || !!(r.photosToPdf || this.photosToPdf)}
          @change=${(e: Event) => {
            const input = e.target as HTMLInputElement;
            if (input.files?.length) void this.addFiles(Array.from(input.files), r.id);
            input.value = '';
          }}
        />
      </div>
      <p class="hint" id=${hintId}>
        ${t.term(
          'accepts',
          t.term(
            'list',
            [...kinds].map((k) => t.table.kinds[k]!),
          ),
          r.maxSize ? t.term('size', r.maxSize) : null,
        )}
        · ${t.term('dropHint')}
      </p>
      ${rejection ? html`<p class="rejection" part="rejection" role="alert">${rejection}</p>` : nothing}
      ${licences.length ? this.renderLicences(r, licences) : nothing}
      ${items.length ? html`<ul class="items">${items.map((i) => this.renderItem(i))}</ul>` : nothing}
    </li>`;
  }

  private renderLicences(r: MaterialRequirement, licences: HolderLicence[]): TemplateResult {
    const t = this.t;
    return html`<div class="licences" part="licences" role="group" aria-label=${t.term('reuseHeading')}>
      <p class="licences-title">${t.term('reuseHeading')}</p>
      <ul>
        ${licences.map(
          (l) =>
            html`<li>
              <span
                >${l.typeName} · ${l.number} ·
                <span class="licence-status" data-status=${l.status}
                  >${t.table.licenceState[l.status] ?? l.status}</span
                >${l.status !== 'valid' && l.revocationReason ? t.term('licenceReason', l.revocationReason) : nothing}</span
              >
              <button
                type="button"
                part="button"
                aria-label=${t.term('reuseLabel', l.typeName, l.number)}
                ?disabled=${l.status !== 'valid' || this.isDisabled || this.items.some((i) => i.licenceId === l.id && i.requirementId === r.id)}
                @click=${() => this.useLicence(r.id, l.id)}
              >
                ${t.term('reuse')}
              </button>
            </li>`,
        )}
      </ul>
    </div>`;
  }

  private renderItem(i: Item): TemplateResult {
    const t = this.t;
    const s = t.table.states;
    let text: string;
    let value = 0;
    let max = 1;
    switch (i.state) {
      case 'hashing':
        text = s.hashing(i.size ? Math.floor((i.hashed / i.size) * 100) : 0);
        value = i.hashed;
        max = i.size || 1;
        break;
      case 'uploading':
      case 'paused':
        text = i.state === 'paused' ? s.paused : s.uploading(t.term('size', i.uploaded), t.term('size', i.size));
        value = i.uploaded;
        max = i.size || 1;
        break;
      case 'uploaded':
        text = i.licenceId ? s.reused : i.instant ? s.instant : s.uploaded;
        value = max = 1;
        break;
      case 'error':
        text = i.error?.message ?? s.error;
        break;
      default:
        text = s[i.state] as string;
    }
    const busy = i.state === 'uploading' || i.state === 'hashing' || i.state === 'paused';
    return html`<li class="item item-${i.state}" part="item" data-key=${i.key}>
      <div class="item-line">
        <span class="item-name">${i.name}</span>
        ${i.size ? html`<span class="item-size">${t.term('size', i.size)}</span>` : nothing}
        ${i.signatureId ? html`<span class="badge">${t.term('signed')}</span>` : nothing}
        <span class="spacer"></span>
        ${i.state === 'uploading' && i.upload ? html`<button type="button" part="button" @click=${() => this.pause(i.key)}>${t.term('pause')}</button>` : nothing}
        ${i.state === 'paused' ? html`<button type="button" part="button" @click=${() => this.resume(i.key)}>${t.term('resume')}</button>` : nothing}
        ${i.state === 'error' && i.file ? html`<button type="button" part="button" @click=${() => this.retry(i.key)}>${t.term('retry')}</button>` : nothing}
        <button type="button" part="button" @click=${() => this.cancel(i.key)}>${i.state === 'uploaded' || i.state === 'error' ? t.term('remove') : t.term('cancel')}</button>
      </div>
      ${busy ? html`<progress part="progress" max=${max} .value=${value} aria-label=${t.term('progressLabel', i.name)}></progress>` : nothing}
      <div class="item-status ${i.state === 'error' ? 'error' : ''}">${text}</div>
      ${i.state === 'error' ? technicalDetails(t.locale, [i.error?.detail]) : nothing}
    </li>`;
  }
}

/** Files up to this size are kept in IndexedDB for resumption after a reload. */
const PERSIST_LIMIT = 512 * 1024 * 1024;

function publicMaterial(i: Item): Material {
  const { file: _f, upload: _u, hashJob: _h, signature: _s, cancelled: _c, running: _r, ...rest } = i;
  return { ...rest, error: rest.error ? { ...rest.error } : undefined };
}

function fromHex(h: string): Uint8Array {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * An error for a refused request. 401 is NOT_SIGNED_IN when the page gave no token at all (未登录),
 * UNAUTHORIZED when the token it gave was refused (登录已失效).
 */
function httpError(status: number, hadToken = true): SidianElementError {
  if (status === 401) {
    const code = hadToken ? 'UNAUTHORIZED' : 'NOT_SIGNED_IN';
    return Object.assign(
      new SidianElementError(
        'UPLOAD_FAILED',
        `HTTP 401: ${hadToken ? 'the token was refused' : 'no token given'}`,
      ),
      { code: code as never },
    );
  }
  return new SidianElementError('UPLOAD_FAILED', `HTTP ${status}`);
}

declare global {
  interface HTMLElementEventMap {
    'material-added': CustomEvent<MaterialAddedDetail>;
    'material-rejected': CustomEvent<MaterialRejectedDetail>;
    'upload-progress': CustomEvent<UploadProgressDetail>;
    'material-uploaded': CustomEvent<MaterialUploadedDetail>;
    'all-uploaded': CustomEvent<AllUploadedDetail>;
    'licence-reused': CustomEvent<LicenceReusedDetail>;
  }
}

/** A file's digest with the signer's algorithm when it is not SHA-256: SM3 streamed (no WebCrypto SM3), SHA-384/512 by WebCrypto. */
async function digestBlob(blob: Blob, hash: HashName): Promise<Uint8Array> {
  if (hash !== 'SM3') return new Uint8Array(await crypto.subtle.digest(hash, await blob.arrayBuffer()));
  const h = sm3.create();
  const reader = blob.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return h.digest();
    h.update(value);
  }
}
