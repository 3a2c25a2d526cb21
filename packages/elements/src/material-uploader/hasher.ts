/**
 * SHA-256 of files in a Web Worker (hash-worker.ts), with progress and cancellation; one worker
 * shared by every uploader on the page. Falls back to the main thread when no worker can start.
 */
import { hashBlob, type HashOptions } from './hash-core';

let workerUrl: string | URL | undefined;
let worker: Worker | undefined;
let workerBroken = false;
let nextId = 1;
const jobs = new Map<number, { resolve: (h: string | undefined) => void; reject: (e: Error) => void; progress: (n: number) => void }>();

/** Where the hashing worker is served (default: hash-worker next to this module, as bundled). */
export function configureHashWorker(url: string | URL): void {
  workerUrl = url;
  worker?.terminate();
  worker = undefined;
  workerBroken = false;
}

function getWorker(): Worker | undefined {
  if (worker || workerBroken) return worker;
  try {
    worker = workerUrl
      ? new Worker(workerUrl, { type: 'module', name: 'sidian-hash' })
      : new Worker(new URL('./hash-worker.ts', import.meta.url), { type: 'module', name: 'sidian-hash' });
  } catch {
    workerBroken = true;
    return undefined;
  }
  worker.onmessage = (e: MessageEvent<{ id: number; hashed?: number; sha256?: string; error?: string; cancelled?: boolean }>) => {
    const job = jobs.get(e.data.id);
    if (!job) return;
    if (e.data.hashed !== undefined) job.progress(e.data.hashed);
    if (e.data.sha256 || e.data.error || e.data.cancelled) {
      jobs.delete(e.data.id);
      if (e.data.error) job.reject(new Error(e.data.error));
      else job.resolve(e.data.sha256);
    }
  };
  worker.onerror = () => {
    // the worker could not load (CSP, missing file): finish these jobs on the main thread
    workerBroken = true;
    worker?.terminate();
    worker = undefined;
    for (const [id, job] of jobs) job.reject(Object.assign(new Error('worker failed'), { retryOnMainThread: id }));
  };
  return worker;
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
  const w = getWorker();
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
      worker?.postMessage({ id, cancel: true });
    },
  };
}
