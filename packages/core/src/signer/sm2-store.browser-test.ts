/**
 * Sm2KeyStore in real Chromium: an SM2 key made, certified by an SM2 CA (openssl ca checks the
 * request's SM2 signature), used, the store reopened and used again with the same key; then every
 * byte of every IndexedDB database is searched for the private key — without knowing it: any 32
 * bytes (raw, or as hex/base64 text) whose SM2 public key is the stored one would be it. The
 * search is shown to find a key that is planted in plain form.
 * Run: `npx wtr --files packages/core/src/signer/sm2-store.browser-test.ts`.
 */
import { executeServerCommand } from '@web/test-runner-commands';
import type { SidianError } from '../errors';
import { sm2PublicKey, sm2Verify } from '../gm/sm2';
import { bytesEqual, toHex } from '../pki/der';
import { signPdf } from '../sign/sign-pdf';
import { verifyPdf } from '../verify';
import { createSm2Key } from './sm2';
import { SM2_KEY_STORE_DB, Sm2KeyStore } from './sm2-store';

const g = globalThis as unknown as Record<string, (name: string, fn: () => unknown) => void>;
const it = g.it!;
function equal(actual: unknown, expected: unknown, what = ''): void {
  if (actual !== expected) throw new Error(`${what} expected ${String(expected)}, got ${String(actual)}`);
}
const fromB64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const toB64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const utf8 = (s: string) => new TextEncoder().encode(s);

async function rejects(p: Promise<unknown>, code?: string): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    if (code) equal((e as SidianError).code, code, 'error code');
    return e;
  }
  throw new Error('expected a rejection');
}

/** Everything reachable in every IndexedDB database: byte strings, strings and CryptoKeys. */
async function readAllIndexedDb(): Promise<{
  bytes: Uint8Array[];
  strings: string[];
  keys: CryptoKey[];
  keysByDatabase: Map<string, number>;
  records: number;
}> {
  const out = {
    bytes: [] as Uint8Array[],
    strings: [] as string[],
    keys: [] as CryptoKey[],
    keysByDatabase: new Map<string, number>(),
    records: 0,
  };
  const seen = new Set<unknown>();
  const blobs: Blob[] = [];
  const walk = (v: unknown): void => {
    if (v === null || v === undefined) return;
    if (typeof v === 'string') out.strings.push(v);
    if (typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (v instanceof ArrayBuffer) out.bytes.push(new Uint8Array(v));
    else if (ArrayBuffer.isView(v)) out.bytes.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    else if (v instanceof CryptoKey) out.keys.push(v);
    else if (v instanceof Blob) blobs.push(v);
    else if (v instanceof Map)
      for (const [k, x] of v) {
        walk(k);
        walk(x);
      }
    else if (v instanceof Set || Array.isArray(v)) for (const x of v) walk(x);
    else
      for (const k of Object.keys(v)) {
        walk(k);
        walk((v as Record<string, unknown>)[k]);
      }
  };
  for (const info of await indexedDB.databases()) {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open(info.name!);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    for (const name of Array.from(db.objectStoreNames)) {
      const store = db.transaction(name).objectStore(name);
      const [values, keys] = await Promise.all(
        [store.getAll(), store.getAllKeys()].map(
          (r) =>
            new Promise<unknown[]>(
              (resolve, reject) => (
                (r.onsuccess = () => resolve(r.result as unknown[])),
                (r.onerror = () => reject(r.error))
              ),
            ),
        ),
      );
      out.records += values!.length;
      const before = out.keys.length;
      walk(values);
      walk(keys);
      out.keysByDatabase.set(info.name!, (out.keysByDatabase.get(info.name!) ?? 0) + out.keys.length - before);
    }
    db.close();
  }
  for (const b of blobs) out.bytes.push(new Uint8Array(await b.arrayBuffer()));
  return out;
}

/** Every 32-byte window (and hex/base64 text) that is the private key of `publicKey`. */
function findPrivateKey(found: { bytes: Uint8Array[]; strings: string[] }, publicKey: Uint8Array): string[] {
  const hits: string[] = [];
  const candidates: Uint8Array[] = [...found.bytes];
  for (const s of found.strings) {
    candidates.push(utf8(s));
    const hex = s.match(/[0-9a-fA-F]{64,}/g) ?? [];
    for (const h of hex) candidates.push(Uint8Array.from(h.match(/../g)!, (x) => parseInt(x, 16)));
    for (const b of s.match(/[A-Za-z0-9+/]{43,}={0,2}/g) ?? []) {
      try {
        candidates.push(fromB64(b));
      } catch {
        /* not base64 */
      }
    }
  }
  for (const c of candidates) {
    for (let i = 0; i + 32 <= c.length; i++) {
      const w = c.subarray(i, i + 32);
      let pk: Uint8Array;
      try {
        pk = sm2PublicKey(w);
      } catch {
        continue; // zero or out of range: not a key
      }
      if (bytesEqual(pk, publicKey)) hits.push(toHex(w));
    }
  }
  return hits;
}

async function certify(store: Sm2KeyStore, label: string) {
  const csr = await store.certificationRequest(label, {
    commonName: '四电市数据管理局（国密）',
    organization: '四电市',
  });
  const r = await executeServerCommand<
    { certificate: string; chain: string[]; trustAnchor: string; error?: string },
    { csr: string }
  >('sidian-sm2-cert', { csr: toB64(csr) });
  if (r.error) throw new Error(`openssl ca refused the request: ${r.error}`);
  return {
    certificate: fromB64(r.certificate),
    chain: r.chain.map(fromB64),
    trustAnchor: fromB64(r.trustAnchor),
  };
}

/** A fixture made by tests/fixtures (the test runner's node commands generate it at start). */
async function minimalPdf(): Promise<Uint8Array> {
  const res = await fetch('/tests/.generated/inputs/classic-1.3.pdf');
  if (!res.ok) throw new Error(`fixture: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

it('creates a key, signs a PDF, reopens the store and signs again with the same key (SM2-SM3)', async () => {
  await new Promise((r) => (indexedDB.deleteDatabase(SM2_KEY_STORE_DB).onsuccess = r));
  const store = await Sm2KeyStore.open();
  const key = await store.create('seal');
  await rejects(store.create('seal'), 'KEY_EXISTS');
  const { certificate, chain, trustAnchor } = await certify(store, 'seal');
  await store.setCertificate('seal', certificate, chain);
  const signer = await store.signer('seal');
  const signed = await signPdf(await minimalPdf(), {
    signer,
    page: 1,
    rect: { x: 50, y: 50, width: 120, height: 120 },
    field: 'sm2-1',
  });
  store.close();

  const again = await Sm2KeyStore.open();
  equal((await again.list()).length, 1, 'keys listed');
  const loaded = (await again.load('seal'))!;
  equal(toHex(loaded.publicKey), toHex(key.publicKey), 'public key after reopening');
  const twice = await signPdf(signed, {
    signer: await again.signer('seal'),
    page: 1,
    rect: { x: 200, y: 50, width: 120, height: 120 },
    field: 'sm2-2',
  });
  const sig = await again.sign('seal', utf8('四电'));
  equal(sm2Verify(key.publicKey, utf8('四电'), sig), true, 'raw signature verifies');

  const report = await verifyPdf(twice, { trustAnchors: [trustAnchor] });
  equal(report.status, 'valid', `report ${JSON.stringify(report.signatures.map((s) => s.reasons))}`);
  equal(report.signatures.length, 2, 'signatures');
  for (const s of report.signatures) {
    equal(s.algorithm, 'SM2-SM3', 'algorithm');
    equal(s.trust, 'trusted', 'trust');
  }
  // another key's certificate is refused
  await again.create('other');
  await rejects(again.signer('other', certificate), 'KEY_UNSUPPORTED');
  await rejects(again.signer('missing'), 'KEY_NOT_FOUND');
  again.close();
});

it('keeps no plain private key anywhere in IndexedDB, localStorage or sessionStorage; the wrapping key cannot be exported', async () => {
  const store = await Sm2KeyStore.open();
  const stored = await store.list();
  equal(stored.length >= 2, true, 'keys from the first test');
  const all = await readAllIndexedDb();
  equal(all.records >= 3, true, 'records read');
  for (const k of stored)
    equal(findPrivateKey(all, k.publicKey).length, 0, `plain key of "${k.label}" found`);
  for (const storage of [localStorage, sessionStorage]) {
    const strings = Object.keys(storage).flatMap((k) => [k, storage.getItem(k) ?? '']);
    for (const k of stored)
      equal(findPrivateKey({ bytes: [], strings }, k.publicKey).length, 0, 'key in Web Storage');
  }
  // The store's database holds one CryptoKey, its wrapping key. Other test files in this origin
  // (the elements' 国密 tests) open stores of their own names, each with its own wrapping key:
  // every CryptoKey anywhere must be a non-extractable AES-GCM key that refuses export.
  equal(all.keysByDatabase.get(SM2_KEY_STORE_DB), 1, `CryptoKeys in ${SM2_KEY_STORE_DB} (the wrapping key)`);
  equal(all.keys.length >= 1, true, 'CryptoKeys found');
  for (const wrapping of all.keys) {
    equal(wrapping.extractable, false, 'extractable');
    equal(wrapping.algorithm.name, 'AES-GCM', 'algorithm');
    for (const format of ['raw', 'jwk'] as const) {
      const e = await rejects(crypto.subtle.exportKey(format, wrapping));
      equal((e as DOMException).name, 'InvalidAccessError', `exportKey(${format})`);
    }
  }
  store.close();
});

it('the search above finds a key that is stored in plain form (so its "none found" means something)', async () => {
  const plain = createSm2Key();
  const db = await new Promise<IDBDatabase>((resolve) => {
    const r = indexedDB.open('planted', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('kv');
    r.onsuccess = () => resolve(r.result);
  });
  const tx = db.transaction('kv', 'readwrite');
  tx.objectStore('kv').put(
    { nested: [{ pkcs8: plain.pkcs8.buffer }], hex: `key=${toHex(plain.privateKey)}` },
    'k',
  );
  await new Promise((r) => (tx.oncomplete = r));
  db.close();
  const hits = findPrivateKey(await readAllIndexedDb(), plain.publicKey);
  equal(hits.length, 2, 'hits (PKCS#8 bytes and hex)');
  await new Promise((r) => (indexedDB.deleteDatabase('planted').onsuccess = r));
});

it('a record whose ciphertext was moved to another label cannot be decrypted (GCM additional data)', async () => {
  const store = await Sm2KeyStore.open();
  const db = await new Promise<IDBDatabase>((resolve) => {
    const r = indexedDB.open(SM2_KEY_STORE_DB);
    r.onsuccess = () => resolve(r.result);
  });
  const get = (label: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const r = db.transaction('keys').objectStore('keys').get(label);
      r.onsuccess = () => resolve(r.result as Record<string, unknown>);
    });
  const [seal, other] = [await get('seal'), await get('other')];
  const tx = db.transaction('keys', 'readwrite');
  tx.objectStore('keys').put({ ...other, iv: seal.iv, sealed: seal.sealed });
  await new Promise((r) => (tx.oncomplete = r));
  db.close();
  await rejects(store.sign('other', utf8('x')), 'KEY_UNSUPPORTED');
  await store.delete('other');
  equal(await store.load('other'), undefined, 'deleted');
  store.close();
});
