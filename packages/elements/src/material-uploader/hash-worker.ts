/**
 * The hashing worker (a module worker served from our own files, next to the element): messages
 * `{id, blob, options}` start a job, `{id, cancel: true}` stops it; replies `{id, hashed}` for
 * progress and `{id, sha256}` or `{id, error}` at the end.
 */
import { hashBlob, type HashOptions } from './hash-core';

interface Job {
  id: number;
  blob?: Blob;
  options?: HashOptions;
  cancel?: boolean;
}

const scope = self as unknown as { onmessage: ((e: MessageEvent<Job>) => void) | null; postMessage(m: unknown): void };
const cancelled = new Set<number>();

scope.onmessage = (e) => {
  const { id, blob, options, cancel } = e.data;
  if (cancel) {
    cancelled.add(id);
    return;
  }
  let last = 0;
  hashBlob(
    blob!,
    options ?? {},
    (hashed) => {
      const now = performance.now();
      if (now - last > 50 || hashed === blob!.size) {
        last = now;
        scope.postMessage({ id, hashed });
      }
    },
    () => cancelled.has(id),
  ).then(
    (sha256) => {
      cancelled.delete(id);
      scope.postMessage(sha256 ? { id, sha256 } : { id, cancelled: true });
    },
    (err: unknown) => scope.postMessage({ id, error: String((err as Error)?.message ?? err) }),
  );
};
