/**
 * SM2 private keys at rest in the browser (国密密钥本地保管). WebCrypto has no SM2, so the scalar
 * must exist in JavaScript while it signs; at rest it is only ever AES-256-GCM ciphertext in
 * IndexedDB, under a wrapping key that is itself a non-extractable WebCrypto CryptoKey stored in
 * IndexedDB (structured clone keeps the key object, never its bytes: WebCrypto §14.3.1, the
 * [[extractable]] slot survives the clone). Nothing goes to localStorage, nothing leaves the page.
 *
 * Each record's ciphertext is bound to its label and public key (GCM additional data), so moving a
 * ciphertext to another record, or changing a record's public key, makes decryption fail.
 * Plain key bytes exist only for the duration of one signature and are zeroed afterwards; the
 * BigInt copies the curve arithmetic makes cannot be wiped (JavaScript has no way to), which is
 * the residual exposure of any JavaScript SM2.
 */
import { SidianError } from '../errors';
import { sm2PublicKey, sm2RandomPrivateKey, sm2Sign, sm2Spki } from '../gm/sm2';
import { derAlgorithm, derExplicit, derInteger, derOid, derSequence, derSetOf, tlv } from '../pki/der';
import { OID } from '../pki/oids';
import type { CsrSubject } from '../pki/csr';
import { sm2SignerFor } from './sm2';
import type { Signer } from './types';

/** What the store shows of a key: never the private part. */
export interface Sm2StoredKey {
  label: string;
  /** 04 || x || y */
  publicKey: Uint8Array;
  /** SubjectPublicKeyInfo DER (for a certification request). */
  spki: Uint8Array;
  /** ISO-8601 */
  created: string;
  /** The certificate and issuers recorded with setCertificate(), if any. */
  certificate?: Uint8Array;
  chain?: Uint8Array[];
}

interface KeyRecord {
  label: string;
  publicKey: Uint8Array;
  created: string;
  iv: Uint8Array<ArrayBuffer>;
  /** AES-GCM(d), additional data = label || 0x00 || publicKey */
  sealed: ArrayBuffer;
  certificate?: Uint8Array;
  chain?: Uint8Array[];
}

const KEYS = 'keys';
const WRAPPING = 'wrapping';
const WRAPPING_ID = 'aes-gcm-256';
export const SM2_KEY_STORE_DB = 'sidian-sm2-keys';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

const additionalData = (label: string, publicKey: Uint8Array) => {
  const l = new TextEncoder().encode(label);
  const out = new Uint8Array(l.length + 1 + publicKey.length);
  out.set(l);
  out.set(publicKey, l.length + 1);
  return out;
};

function checkLabel(label: string): void {
  if (typeof label !== 'string' || !label.trim() || label.length > 200) {
    throw new SidianError(
      'SIGN_BAD_OPTIONS',
      'a key label must be a non-empty string (at most 200 characters)',
    );
  }
}

/**
 * SM2 keys kept encrypted in IndexedDB, by label. `Sm2KeyStore.open()`, then `create(label)`,
 * `setCertificate(label, cert, chain)` once the key is certified, and `signer(label)` for a
 * `Signer` the elements take as `.signer`. Browsers (and workers) only: Node has no IndexedDB.
 */
export class Sm2KeyStore {
  private constructor(
    private readonly db: IDBDatabase,
    private readonly wrappingKey: CryptoKey,
  ) {}

  /** Opens (or creates) the store and its wrapping key. Throws KEY_STORE_UNAVAILABLE without IndexedDB. */
  static async open(name = SM2_KEY_STORE_DB): Promise<Sm2KeyStore> {
    const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!idb || !globalThis.crypto?.subtle) {
      throw new SidianError('KEY_STORE_UNAVAILABLE', 'SM2 keys need IndexedDB and WebCrypto (a browser)');
    }
    const open = idb.open(name, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore(KEYS, { keyPath: 'label' });
      open.result.createObjectStore(WRAPPING);
    };
    let db: IDBDatabase;
    try {
      db = await request(open);
    } catch (e) {
      throw new SidianError('KEY_STORE_UNAVAILABLE', `cannot open the key store: ${(e as Error)?.message}`);
    }
    const read = db.transaction(WRAPPING).objectStore(WRAPPING);
    let key = (await request(read.get(WRAPPING_ID))) as CryptoKey | undefined;
    if (!key) {
      const fresh = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
        'encrypt',
        'decrypt',
      ]);
      // add(), not put(): when two pages race, the first key wins and the other page reads it back
      const tx = db.transaction(WRAPPING, 'readwrite');
      tx.objectStore(WRAPPING).add(fresh, WRAPPING_ID);
      await done(tx).catch(() => undefined);
      key = (await request(db.transaction(WRAPPING).objectStore(WRAPPING).get(WRAPPING_ID))) as CryptoKey;
    }
    return new Sm2KeyStore(db, key);
  }

  /** Makes a fresh SM2 key under `label`. Throws KEY_EXISTS when the label is taken. */
  async create(label: string): Promise<Sm2StoredKey> {
    checkLabel(label);
    const d = sm2RandomPrivateKey();
    try {
      const publicKey = sm2PublicKey(d);
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const sealed = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: additionalData(label, publicKey) },
        this.wrappingKey,
        d as Uint8Array<ArrayBuffer>,
      );
      const record: KeyRecord = { label, publicKey, created: new Date().toISOString(), iv, sealed };
      const tx = this.db.transaction(KEYS, 'readwrite');
      const added = tx.objectStore(KEYS).add(record);
      try {
        await Promise.all([request(added), done(tx)]);
      } catch (e) {
        if (added.error?.name === 'ConstraintError')
          throw new SidianError('KEY_EXISTS', `a key labelled "${label}" already exists`);
        throw new SidianError('KEY_STORE_UNAVAILABLE', `cannot store the key: ${(e as Error)?.message}`);
      }
      return describe(record);
    } finally {
      d.fill(0);
    }
  }

  async list(): Promise<Sm2StoredKey[]> {
    const all = (await request(this.db.transaction(KEYS).objectStore(KEYS).getAll())) as KeyRecord[];
    return all.map(describe);
  }

  /** The key under `label`, or undefined. */
  async load(label: string): Promise<Sm2StoredKey | undefined> {
    const r = await this.record(label);
    return r && describe(r);
  }

  async delete(label: string): Promise<void> {
    const tx = this.db.transaction(KEYS, 'readwrite');
    tx.objectStore(KEYS).delete(label);
    await done(tx);
  }

  /** Records the key's certificate (and issuers); it must certify this key (KEY_UNSUPPORTED otherwise). */
  async setCertificate(label: string, certificate: Uint8Array, chain: Uint8Array[] = []): Promise<void> {
    const r = await this.mustRecord(label);
    sm2SignerFor(r.publicKey, certificate, chain, () => Promise.reject(new Error('unused')));
    const tx = this.db.transaction(KEYS, 'readwrite');
    tx.objectStore(KEYS).put({ ...r, certificate, chain });
    await done(tx);
  }

  /**
   * A Signer for the key under `label`, with its recorded certificate or the one given. Each
   * signature decrypts the key, signs and zeroes it; the plain key is never kept by the Signer.
   * Throws KEY_NOT_FOUND, KEY_UNSUPPORTED (certificate of another key), CERT_MALFORMED.
   */
  async signer(label: string, certificate?: Uint8Array, chain?: Uint8Array[]): Promise<Signer> {
    const r = await this.mustRecord(label);
    const cert = certificate ?? r.certificate;
    if (!cert) throw new SidianError('KEY_NOT_FOUND', `no certificate recorded for the key "${label}"`);
    const publicKey = r.publicKey;
    return sm2SignerFor(publicKey, cert, chain ?? (certificate ? [] : (r.chain ?? [])), (data) =>
      this.sign(label, data),
    );
  }

  /** An SM2 signature (DER r, s) over `message` with the stored key (Z with the default identifier). */
  async sign(label: string, message: Uint8Array): Promise<Uint8Array> {
    const r = await this.mustRecord(label);
    let d: Uint8Array;
    try {
      d = new Uint8Array(
        await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: r.iv, additionalData: additionalData(r.label, r.publicKey) },
          this.wrappingKey,
          r.sealed,
        ),
      );
    } catch {
      throw new SidianError(
        'KEY_UNSUPPORTED',
        `the stored key "${label}" cannot be decrypted (altered record?)`,
      );
    }
    try {
      return sm2Sign(d, message, { publicKey: r.publicKey });
    } finally {
      d.fill(0);
    }
  }

  /**
   * A PKCS#10 request (RFC 2986) for the key under `label`, signed with it (SM2 with SM3,
   * GM/T 0015 §7.3), as the enrolment service (POST /api/enrol) takes it: the proof of possession.
   */
  async certificationRequest(label: string, subject: CsrSubject): Promise<Uint8Array> {
    const key = await this.mustRecord(label);
    const info = derSequence(derInteger(0), encodeName(subject), sm2Spki(key.publicKey), tlv(0xa0));
    return signedStructure(info, await this.sign(label, info));
  }

  /**
   * A self-signed X.509 v3 certificate (RFC 5280 §4.1) for the key under `label`: for a test or
   * a demo without an SM2 certification authority. Nobody trusts it unless told to.
   */
  async selfSignedCertificate(label: string, subject: CsrSubject, days = 365): Promise<Uint8Array> {
    const key = await this.mustRecord(label);
    const name = encodeName(subject);
    const now = Date.now();
    const serial = crypto.getRandomValues(new Uint8Array(16));
    serial[0]! &= 0x7f;
    const tbs = derSequence(
      derExplicit(0, derInteger(2)),
      derInteger(serial),
      derAlgorithm(OID.sm2WithSm3),
      name,
      derSequence(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + days * 86400_000))),
      name,
      sm2Spki(key.publicKey),
      derExplicit(
        3,
        derSequence(
          // RFC 5280 §4.2.1.3: digitalSignature and nonRepudiation (bits 0 and 1), critical
          derSequence(
            derOid('2.5.29.15'),
            Uint8Array.of(0x01, 0x01, 0xff),
            tlv(0x04, tlv(0x03, Uint8Array.of(6, 0xc0))),
          ),
        ),
      ),
    );
    return signedStructure(tbs, await this.sign(label, tbs));
  }

  close(): void {
    this.db.close();
  }

  private async record(label: string): Promise<KeyRecord | undefined> {
    checkLabel(label);
    return (await request(this.db.transaction(KEYS).objectStore(KEYS).get(label))) as KeyRecord | undefined;
  }

  private async mustRecord(label: string): Promise<KeyRecord> {
    const r = await this.record(label);
    if (!r) throw new SidianError('KEY_NOT_FOUND', `no SM2 key labelled "${label}"`);
    return r;
  }
}

function describe(r: KeyRecord): Sm2StoredKey {
  return {
    label: r.label,
    publicKey: r.publicKey,
    spki: sm2Spki(r.publicKey),
    created: r.created,
    ...(r.certificate ? { certificate: r.certificate, chain: r.chain ?? [] } : {}),
  };
}

/** Certificate and CertificationRequest share one outer shape: {tbs, algorithm, BIT STRING signature}. */
function signedStructure(tbs: Uint8Array, signature: Uint8Array): Uint8Array {
  return derSequence(tbs, derAlgorithm(OID.sm2WithSm3), tlv(0x03, Uint8Array.of(0), signature));
}

/** UTCTime YYMMDDHHMMSSZ (RFC 5280 §4.1.2.5.1: dates before 2050). */
function utcTime(d: Date): Uint8Array {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return tlv(0x17, new TextEncoder().encode(s));
}

/** C (PrintableString), O and CN (UTF8String), one attribute per RDN, as csr.ts writes them. */
function encodeName(subject: CsrSubject): Uint8Array {
  if (!subject?.commonName?.trim())
    throw new SidianError('SIGN_BAD_OPTIONS', 'the certificate subject needs a common name');
  const rdn = (oid: string, tag: number, value: string) =>
    derSetOf([derSequence(derOid(oid), tlv(tag, new TextEncoder().encode(value)))]);
  const parts = [rdn('2.5.4.6', 0x13, subject.country ?? 'CN')];
  if (subject.organization) parts.push(rdn('2.5.4.10', 0x0c, subject.organization));
  parts.push(rdn('2.5.4.3', 0x0c, subject.commonName.trim()));
  return derSequence(...parts);
}
