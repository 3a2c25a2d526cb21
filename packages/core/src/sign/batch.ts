/**
 * 批量签署 batch sealing: one department, one intent, many documents — each sealed with the same
 * signer and one placement rule. Each document is its own signing act (its own CMS over its own
 * ByteRange, ETSI EN 319 142-1 §5.1), so a document that cannot be sealed gets its own error and
 * the others go on. The signer is the one given: a signer that asks its holder (a PIN, a UKey
 * button) is asked by the caller once, before the batch; `sealBatch` never asks again.
 *
 * Memory stays flat in the number of documents: documents are taken from an (async) iterable one
 * at a time as the pipeline has room, a signed file is handed to `onSealed` and then dropped, and
 * the result list holds only names, sizes and digests.
 */
import { toHex } from '../digest';
import { SidianError, isSidianError } from '../errors';
import { signPdfUpdate, type SignOptions } from './sign-pdf';

/** One document of a batch: its bytes (or a function that fetches them when its turn comes) and a name. */
export interface BatchDocument {
  name: string;
  pdf: Uint8Array | (() => Promise<Uint8Array>);
}

/** The placement rule and the signature's words, the same for every document (SignOptions without the signer). */
export type SealRule = Omit<SignOptions, 'signer' | 'field'>;

export interface SealBatchOptions {
  signer: SignOptions['signer'];
  rule: SealRule;
  /** Stops taking new documents; those in flight finish. The result then says `cancelled`. */
  signal?: AbortSignal;
  /** Documents sealed at once (default 4): hashing and the signer's work overlap. */
  concurrency?: number;
  /** Called after each document, sealed or failed, in the order they finish. */
  onProgress?(progress: BatchProgress): void;
  /**
   * Receives each signed file (input ‖ update) as soon as it is made; the batch keeps no copy.
   * A rejection counts as that document's failure (code BATCH_OUTPUT).
   */
  onSealed?(sealed: SealedDocument): void | Promise<void>;
}

export interface BatchProgress {
  /** Documents finished so far (sealed + failed). */
  done: number;
  sealed: number;
  failed: number;
  /** The number of documents when the input has a length, else undefined. */
  total?: number;
  /** The document that just finished. */
  last: BatchItemResult;
}

export interface SealedDocument {
  index: number;
  name: string;
  pdf: Uint8Array;
  /** Hex SHA-256 of `pdf`. */
  sha256: string;
  field: string;
}

export type BatchItemResult =
  | { index: number; name: string; ok: true; sha256: string; size: number; field: string }
  | { index: number; name: string; ok: false; error: { code: string; message: string } };

export interface SealBatchResult {
  results: BatchItemResult[];
  sealed: number;
  failed: number;
  /** The signal stopped the batch before every document was taken. */
  cancelled: boolean;
}

/**
 * Seals every document with `signer` according to `rule`. Never rejects for one document's
 * failure (it is in the results, in input order); rejects only for options that can seal nothing
 * (SIGN_BAD_OPTIONS), before any document is read.
 */
export async function sealBatch(
  documents: Iterable<BatchDocument> | AsyncIterable<BatchDocument>,
  options: SealBatchOptions,
): Promise<SealBatchResult> {
  const { signer, rule, signal } = options;
  if (!signer || !signer.certificate || typeof signer.sign !== 'function')
    throw new SidianError('SIGN_BAD_OPTIONS', 'a signer with a certificate is required');
  if (!rule || typeof rule !== 'object') throw new SidianError('SIGN_BAD_OPTIONS', 'a seal rule is required');
  const concurrency = Math.max(1, Math.min(64, Math.floor(options.concurrency ?? 4)));
  const total = Array.isArray(documents) ? documents.length : undefined;
  // one signing time for the batch: one intent, one moment
  const signingTime = rule.signingTime ?? new Date();
  const results: BatchItemResult[] = [];
  let sealed = 0;
  let failed = 0;
  let cancelled = false;

  const iterator =
    Symbol.asyncIterator in documents
      ? (documents as AsyncIterable<BatchDocument>)[Symbol.asyncIterator]()
      : (documents as Iterable<BatchDocument>)[Symbol.iterator]();
  let index = 0;
  let exhausted = false;
  /** The next document, or undefined when there are no more or the batch is cancelled. */
  const take = async (): Promise<{ index: number; doc: BatchDocument } | undefined> => {
    if (exhausted) return undefined;
    if (signal?.aborted) {
      cancelled = true;
      exhausted = true;
      return undefined;
    }
    const next = await iterator.next();
    if (next.done) {
      exhausted = true;
      return undefined;
    }
    return { index: index++, doc: next.value };
  };

  const sealOne = async (i: number, doc: BatchDocument): Promise<BatchItemResult> => {
    const name = typeof doc?.name === 'string' ? doc.name : `document-${i + 1}`;
    let step = 'seal';
    try {
      const input = typeof doc.pdf === 'function' ? await doc.pdf() : doc.pdf;
      if (!(input instanceof Uint8Array) || input.length === 0)
        throw new SidianError('PDF_NOT_PDF', 'the document has no bytes');
      const { update, field } = await signPdfUpdate(input, { ...rule, signingTime, signer });
      const bytes = input;
      const pdf = new Uint8Array(bytes.length + update.length);
      pdf.set(bytes, 0);
      pdf.set(update, bytes.length);
      const sha256 = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', pdf)));
      step = 'output';
      await options.onSealed?.({ index: i, name, pdf, sha256, field });
      return { index: i, name, ok: true, sha256, size: pdf.length, field };
    } catch (e) {
      const code = step === 'output' ? 'BATCH_OUTPUT' : isSidianError(e) ? e.code : 'SIGN_FAILED';
      return { index: i, name, ok: false, error: { code, message: (e as Error)?.message ?? String(e) } };
    }
  };

  const worker = async () => {
    for (let item = await take(); item; item = await take()) {
      const r = await sealOne(item.index, item.doc);
      results.push(r);
      if (r.ok) sealed++;
      else failed++;
      options.onProgress?.({ done: sealed + failed, sealed, failed, total, last: r });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  results.sort((a, b) => a.index - b.index);
  return { results, sealed, failed, cancelled };
}
