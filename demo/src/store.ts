/**
 * What the demo remembers between steps and reloads. Small things (token, licence id) in
 * localStorage; the citizen's CryptoKey (non-extractable: IndexedDB keeps the key object, never its
 * bytes) and PDFs in IndexedDB.
 */
export interface DemoState {
  person?: { name: string; idNumber: string };
  token?: string;
  tokenExpires?: number;
  /** The business licence issued to the applicant for reuse (免证可办). */
  earlierLicence?: { id: string; number: string };
  application?: {
    submittedAt: string;
    /** The application form as submitted (filled from the registry, perhaps edited). */
    form?: Record<string, string>;
    materials: {
      requirementId: string;
      name: string;
      sha256: string;
      materialId: string | null;
      licenceId?: string;
    }[];
  };
  licence?: { id: string; number: string; page: string };
  certificateSerial?: string;
  acknowledged?: boolean;
  revoked?: boolean;
}

const KEY = 'sidian-demo';

export function loadState(): DemoState {
  try {
    return JSON.parse(localStorage.getItem(KEY) ?? '{}') as DemoState;
  } catch {
    return {};
  }
}

export function saveState(s: DemoState): void {
  localStorage.setItem(KEY, JSON.stringify(s));
}

function db(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open('sidian-demo', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('kv');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export async function idbGet<T>(key: string): Promise<T | undefined> {
  const d = await db();
  return new Promise((resolve, reject) => {
    const r = d.transaction('kv').objectStore('kv').get(key);
    r.onsuccess = () => resolve(r.result as T | undefined);
    r.onerror = () => reject(r.error);
  });
}

export async function idbSet(key: string, value: unknown): Promise<void> {
  const d = await db();
  return new Promise((resolve, reject) => {
    const tx = d.transaction('kv', 'readwrite');
    tx.objectStore('kv').put(value, key);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}

export async function resetAll(): Promise<void> {
  localStorage.removeItem(KEY);
  const d = await db();
  await new Promise<void>((resolve, reject) => {
    const tx = d.transaction('kv', 'readwrite');
    tx.objectStore('kv').clear();
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}
