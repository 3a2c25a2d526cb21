/**
 * Uploads in progress, kept in IndexedDB so that a reloaded page resumes them: the requirement, the
 * file (a Blob, stored by the browser on disk; files over `blobLimit` are kept without it and must
 * be chosen again) and its SHA-256, which with the endpoint is tus's fingerprint of the upload.
 */
export interface PendingRecord {
  /** `${scope}\u0000${itemKey}` */
  key: string;
  scope: string;
  requirementId: string;
  name: string;
  type: string;
  size: number;
  sha256: string;
  file: Blob | null;
  /** The detached CMS when the material was signed before the reload. */
  signature: Uint8Array | null;
}

const DB = 'sidian-material-uploader';
const STORE = 'pending';

function open(): Promise<IDBDatabase | undefined> {
  if (typeof indexedDB === 'undefined') return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => {
      const store = req.result.createObjectStore(STORE, { keyPath: 'key' });
      store.createIndex('scope', 'scope');
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => resolve(undefined); // private mode or storage disabled: no resumption after reload
  });
}

async function tx<T>(mode: IDBTransactionMode, run: (s: IDBObjectStore) => IDBRequest<T>): Promise<T | undefined> {
  const db = await open();
  if (!db) return undefined;
  return new Promise((resolve) => {
    const t = db.transaction(STORE, mode);
    const req = run(t.objectStore(STORE));
    t.oncomplete = () => {
      db.close();
      resolve(req.result);
    };
    t.onerror = t.onabort = () => {
      db.close();
      resolve(undefined);
    };
  });
}

export const pendingStore = {
  put: (r: PendingRecord) => tx('readwrite', (s) => s.put(r)),
  delete: (key: string) => tx('readwrite', (s) => s.delete(key)),
  async list(scope: string): Promise<PendingRecord[]> {
    return ((await tx('readonly', (s) => s.index('scope').getAll(scope))) as PendingRecord[] | undefined) ?? [];
  },
};
