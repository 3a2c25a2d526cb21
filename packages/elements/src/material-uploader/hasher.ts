/**
 * SHA-256 of files in a Web Worker (hash-worker.ts), with progress and cancellation; one worker
 * shared by every uploader on the page. Falls back to the main thread when no worker can start.
 */
import { PageWorker } from '../shared/page-worker';
import { hashBlob, type HashOptions } from './hash-core';

let nextId = 1;
const jobs = new Map<number, { resolve: (h: string | undefined) => void; reject: (e: Error) => void; progress: (n: number) => void }>();

type HashReply = { id: number; hashed?: number; sha256?: string; error?: string; cancelled?: boolean };

const worker = new PageWorker<HashReply>(
  (url) =>
    url
      ? new Worker(url, { type: 'module', name: 'sidian-hash' })
      : new Worker(new URL('./hash-worker.ts', import.meta.url), { type: 'module', name: 'sidian-hash' }),
  (reply) => {
    const job = jobs.get(reply.id);
    if (!job) return;
    if (reply.hashed !== undefined) job.progress(reply.hashed);
    if (reply.sha256 || reply.error || reply.cancelled) {
      jobs.delete(reply.id);
      if (reply.error) job.reject(new Error(reply.error));
      else job.resolve(reply.sha256);
    }
  },
  () => {
    // finish these jobs on the main thread
    for (const [id, job] of jobs) job.reject(Object.assign(new Error('worker failed'), { retryOnMainThread: id }));
  },
);

/** Where the hashing worker is served (default: hash-worker next to this module, as bundled). */
export function configureHashWorker(url: string | URL): void {
  worker.configure(url);
}

export interface HashJob {
  promise: Promise<string | undefined>;
  cancel(): void;
}

/** Hashes `blob`; resolves with hex SHA-256, or undefined when cancelled. */
export function hashFile(blob: Blob, onProgress: (hashed: number) => void, options: HashOptions = {}): HashJob {
  let cancelled = false;
  const id = nextId++;
  const onMainThread = () => hashBlob(blob, options, onProgress, () => cancelled);
  const w = worker.get();
  if (!w) return { promise: onMainThread(), cancel: () => (cancelled = true) };
  const promise = new Promise<string | undefined>((resolve, reject) => {
    jobs.set(id, { resolve, reject, progress: onProgress });
    w.postMessage({ id, blob, options });
  }).catch((e: Error & { retryOnMainThread?: number }) => {
    if (e.retryOnMainThread !== undefined) return onMainThread();
    throw e;
  });
  return {
    promise,
    cancel() {
      cancelled = true;
      w.postMessage({ id, cancel: true });
    },
  };
}
