/**
 * PKCS#12 (RFC 7292) reader: the private key and certificates of a .p12/.pfx file as OpenSSL 3
 * writes them, with defaults (PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC, HMAC-SHA256 MAC) and with
 * `-legacy` (pbeWithSHAAnd40BitRC2-CBC certificates, pbeWithSHAAnd3-KeyTripleDES-CBC key, SHA-1
 * MAC), and the usual variants (BER encodings, unencrypted bags, nested SafeContents).
 *
 * WebCrypto does the hashing, HMAC, PBKDF2 and AES; RC2/3DES/RC4 come from ./legacy-ciphers.
 * Password-integrity mode only (public-key integrity/privacy modes: P12_UNSUPPORTED).
 */
import { SidianError } from '../errors';
import { type PublicKeyInfo, parseCertificate, samePublicKey } from './certificate';
import {
  Asn1Error,
  type Asn1Node,
  bytesEqual,
  concatBytes,
  parseDer,
  readBitStringBytes,
  readOctets,
  readOctetString,
  readOid,
  readSmallInt,
  readString,
  toArrayBuffer,
} from './der';
import { BadPaddingError, desEde3CbcDecrypt, rc2CbcDecrypt, rc4 } from './legacy-ciphers';
import { OID } from './oids';
import { digester } from './sha2';

export interface Pkcs12PrivateKey {
  /** PrivateKeyInfo (PKCS#8) DER, decrypted. Handle with care; do not keep it around. */
  pkcs8: Uint8Array;
  /** OID of the key algorithm (rsaEncryption, id-ecPublicKey, ...). */
  algorithmOid: string;
  /** Named curve OID for EC keys. */
  curveOid?: string;
  localKeyId?: Uint8Array;
  friendlyName?: string;
}

export interface Pkcs12Contents {
  key: Pkcs12PrivateKey;
  /** DER of the certificate that matches the key. */
  certificate: Uint8Array;
  /** Other certificates: the issuer path from the leaf upwards first, then any unrelated ones. */
  chain: Uint8Array[];
  /** Whether a MAC was present and verified. */
  macVerified: boolean;
}

/** Work limits: a hostile file must not make us iterate forever. */
const MAX_ITERATIONS = 10_000_000;
const MAX_PKCS12_KDF_ITERATIONS = 200_000; // synchronous SHA: ~2 s at the cap
const MAX_INPUT = 16 * 1024 * 1024;

const PARSE_LIMITS = { maxDepth: 48, maxNodes: 100_000 } as const;

interface CertEntry {
  der: Uint8Array;
  localKeyId?: Uint8Array;
}

/** Password encodings to try: [BMPString form for PKCS#12 KDF, UTF-8 bytes for PBKDF2]. */
interface PasswordForms {
  bmp: Uint8Array;
  utf8: Uint8Array;
}

/**
 * Reads a PKCS#12 file. Errors: P12_MALFORMED (not a readable PKCS#12), P12_BAD_PASSWORD,
 * P12_UNSUPPORTED (public-key modes, unknown algorithms), KEY_UNSUPPORTED is left to the caller.
 */
export async function parsePkcs12(p12: Uint8Array, password: string): Promise<Pkcs12Contents> {
  if (!(p12 instanceof Uint8Array) || p12.length === 0) throw malformed('empty input');
  if (p12.length > MAX_INPUT) throw malformed('file too large');
  if (typeof password !== 'string') throw new SidianError('P12_BAD_PASSWORD', 'password must be a string');

  let pfx: Asn1Node;
  let authSafeBytes: Uint8Array;
  let macData: Asn1Node | undefined;
  try {
    pfx = parseDer(p12, PARSE_LIMITS).expect(0x30, 'PFX');
    const version = readSmallInt(pfx.child(0, 'version'));
    if (version !== 3) throw new Asn1Error(`unsupported PFX version ${version}`);
    const authSafe = pfx.child(1, 'authSafe').expect(0x30, 'authSafe');
    const ct = readOid(authSafe.child(0));
    if (ct === OID.signedData) {
      throw new SidianError('P12_UNSUPPORTED', 'PKCS#12 in public-key integrity mode is not supported');
    }
    if (ct !== OID.data) throw new Asn1Error('authSafe is not id-data');
    authSafeBytes = readOctetString(authSafe.child(1, 'authSafe content').expect(0xa0, '[0]').child(0));
    macData = pfx.children[2];
  } catch (e) {
    throw asMalformed(e);
  }

  const candidates = passwordCandidates(password);
  let chosen: PasswordForms | undefined;
  let macVerified = false;
  if (macData) {
    for (const pw of candidates) {
      if (await verifyMac(macData, authSafeBytes, pw.bmp)) {
        chosen = pw;
        macVerified = true;
        break;
      }
    }
    if (!chosen) throw badPassword();
  }

  // Without a MAC, decryption failures are the only password signal: try each candidate.
  const attempts = chosen ? [chosen] : candidates;
  let lastError: unknown;
  for (const pw of attempts) {
    try {
      const bags = await readAuthenticatedSafe(authSafeBytes, pw);
      return await assemble(bags, macVerified);
    } catch (e) {
      lastError = e;
      if (e instanceof DecryptionFailed) {
        if (macVerified) throw malformed('a bag could not be decrypted although the MAC verified');
        continue;
      }
      throw asMalformed(e);
    }
  }
  if (lastError instanceof DecryptionFailed) throw badPassword();
  throw asMalformed(lastError);
}

function passwordCandidates(password: string): PasswordForms[] {
  const utf8 = new TextEncoder().encode(password);
  const bmp = new Uint8Array(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) {
    const c = password.charCodeAt(i);
    bmp[2 * i] = c >> 8;
    bmp[2 * i + 1] = c & 0xff;
  }
  const forms = [{ bmp, utf8 }];
  // An empty password is written either as a lone BMPString terminator or as no bytes at all.
  if (password === '') forms.push({ bmp: new Uint8Array(0), utf8 });
  return forms;
}

class DecryptionFailed extends Error {}

function malformed(msg: string): SidianError {
  return new SidianError('P12_MALFORMED', `not a readable PKCS#12 file: ${msg}`);
}

function badPassword(): SidianError {
  return new SidianError('P12_BAD_PASSWORD', 'wrong password for the PKCS#12 file');
}

function asMalformed(e: unknown): SidianError {
  if (e instanceof SidianError) return e;
  return malformed(e instanceof Error ? e.message : String(e));
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new SidianError('P12_UNSUPPORTED', 'WebCrypto (crypto.subtle) is not available');
  return s;
}

type KdfHash = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

const DIGEST_OIDS: Record<string, KdfHash> = {
  [OID.sha1]: 'SHA-1',
  [OID.sha256]: 'SHA-256',
  [OID.sha384]: 'SHA-384',
  [OID.sha512]: 'SHA-512',
};
const HASH_SIZES: Record<KdfHash, { u: number; v: number }> = {
  'SHA-1': { u: 20, v: 64 },
  'SHA-256': { u: 32, v: 64 },
  'SHA-384': { u: 48, v: 128 },
  'SHA-512': { u: 64, v: 128 },
};

/**
 * The PKCS#12 key derivation function (RFC 7292 appendix B.2).
 * id: 1 = encryption key, 2 = IV, 3 = MAC key. `password` is the BMPString with its terminator.
 * Synchronous digests: thousands of awaited WebCrypto calls would take seconds.
 */
export function pkcs12Kdf(
  hash: KdfHash,
  password: Uint8Array,
  salt: Uint8Array,
  id: 1 | 2 | 3,
  iterations: number,
  length: number,
): Uint8Array {
  const { u, v } = HASH_SIZES[hash];
  const digest = digester(hash);
  const fill = (src: Uint8Array) => {
    if (src.length === 0) return new Uint8Array(0);
    const out = new Uint8Array(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const D = new Uint8Array(v).fill(id);
  const I = concatBytes(fill(salt), fill(password));
  const c = Math.ceil(length / u);
  const out = new Uint8Array(c * u);
  for (let i = 0; i < c; i++) {
    let a = digest(concatBytes(D, I));
    for (let r = 1; r < iterations; r++) a = digest(a);
    out.set(a, i * u);
    if (i + 1 < c) {
      const B = new Uint8Array(v);
      for (let k = 0; k < v; k++) B[k] = a[k % u]!;
      for (let j = 0; j < I.length; j += v) {
        let carry = 1;
        for (let k = v - 1; k >= 0; k--) {
          const x = I[j + k]! + B[k]! + carry;
          I[j + k] = x & 0xff;
          carry = x >> 8;
        }
      }
    }
  }
  return out.subarray(0, length);
}

async function verifyMac(macData: Asn1Node, content: Uint8Array, bmpPassword: Uint8Array): Promise<boolean> {
  let hash: KdfHash | undefined;
  let expected: Uint8Array;
  let salt: Uint8Array;
  let iterations = 1;
  try {
    macData.expect(0x30, 'MacData');
    const digestInfo = macData.child(0, 'mac').expect(0x30, 'DigestInfo');
    const alg = readOid(digestInfo.child(0, 'digestAlgorithm').expect(0x30).child(0));
    if (alg === OID.pbmac1) {
      throw new SidianError('P12_UNSUPPORTED', 'PBMAC1 (RFC 9579) PKCS#12 MACs are not supported yet');
    }
    hash = DIGEST_OIDS[alg];
    if (!hash) throw new SidianError('P12_UNSUPPORTED', `unsupported PKCS#12 MAC digest ${alg}`);
    expected = readOctetString(digestInfo.child(1, 'digest'));
    salt = readOctetString(macData.child(1, 'macSalt'));
    if (macData.children[2]) iterations = readSmallInt(macData.children[2]);
  } catch (e) {
    throw asMalformed(e);
  }
  if (iterations < 1 || iterations > MAX_PKCS12_KDF_ITERATIONS) {
    throw new SidianError('P12_UNSUPPORTED', `PKCS#12 MAC iteration count ${iterations} is out of range`);
  }
  const { u } = HASH_SIZES[hash];
  const key = pkcs12Kdf(hash, bmpPassword, salt, 3, iterations, u);
  const s = subtle();
  const hmacKey = await s.importKey('raw', toArrayBuffer(key), { name: 'HMAC', hash }, false, ['sign']);
  const mac = new Uint8Array(await s.sign('HMAC', hmacKey, toArrayBuffer(content)));
  return bytesEqual(mac, expected);
}

interface Bags {
  keys: Pkcs12PrivateKey[];
  certs: CertEntry[];
}

async function readAuthenticatedSafe(authSafeBytes: Uint8Array, pw: PasswordForms): Promise<Bags> {
  const bags: Bags = { keys: [], certs: [] };
  const seq = parseDer(authSafeBytes, PARSE_LIMITS).expect(0x30, 'AuthenticatedSafe');
  for (const ci of seq.children) {
    ci.expect(0x30, 'ContentInfo');
    const type = readOid(ci.child(0));
    const content = ci.children[1];
    if (type === OID.data) {
      if (!content) continue;
      await readSafeContents(readOctetString(content.expect(0xa0, '[0]').child(0)), pw, bags, 0);
    } else if (type === OID.encryptedData) {
      if (!content) continue;
      const ed = content.expect(0xa0, '[0]').child(0).expect(0x30, 'EncryptedData');
      const eci = ed.child(1, 'encryptedContentInfo').expect(0x30, 'EncryptedContentInfo');
      const alg = eci.child(1, 'contentEncryptionAlgorithm').expect(0x30);
      const enc = eci.children[2];
      if (!enc) continue;
      if (!enc.isContext(0)) throw new Asn1Error('bad encryptedContent');
      const plain = await decrypt(alg, readOctets(enc), pw);
      await readSafeContents(plain, pw, bags, 0, true);
    } else {
      throw new SidianError(
        'P12_UNSUPPORTED',
        `PKCS#12 content type ${type} (public-key privacy mode) is not supported`,
      );
    }
  }
  return bags;
}

async function readSafeContents(
  der: Uint8Array,
  pw: PasswordForms,
  bags: Bags,
  depth: number,
  justDecrypted = false,
): Promise<void> {
  if (depth > 4) throw new Asn1Error('SafeContents nested too deep');
  let seq: Asn1Node;
  try {
    seq = parseDer(der, PARSE_LIMITS).expect(0x30, 'SafeContents');
  } catch (e) {
    // Garbage after a decryption that happened to pass the padding check: a wrong password.
    if (justDecrypted) throw new DecryptionFailed('decrypted data is not SafeContents');
    throw e;
  }
  for (const bag of seq.children) {
    bag.expect(0x30, 'SafeBag');
    const bagId = readOid(bag.child(0));
    const value = bag.child(1, 'bagValue').expect(0xa0, '[0]').child(0);
    const attrs = readBagAttributes(bag.children[2]);
    switch (bagId) {
      case OID.keyBag:
        bags.keys.push(describeKey(value.raw, attrs));
        break;
      case OID.pkcs8ShroudedKeyBag: {
        value.expect(0x30, 'EncryptedPrivateKeyInfo');
        const plain = await decrypt(value.child(0).expect(0x30), readOctetString(value.child(1)), pw);
        let key: Pkcs12PrivateKey;
        try {
          key = describeKey(plain, attrs); // copies the key
        } catch {
          throw new DecryptionFailed('decrypted key is not PKCS#8');
        } finally {
          plain.fill(0);
        }
        bags.keys.push(key);
        break;
      }
      case OID.certBag: {
        value.expect(0x30, 'CertBag');
        if (readOid(value.child(0)) !== OID.x509Certificate) break; // SDSI certificates: ignore
        const der = readOctetString(value.child(1).expect(0xa0, '[0]').child(0)).slice();
        parseCertificate(der); // throws CERT_MALFORMED for junk
        bags.certs.push({ der, localKeyId: attrs.localKeyId });
        break;
      }
      case OID.safeContentsBag:
        await readSafeContents(value.raw, pw, bags, depth + 1);
        break;
      default:
        break; // CRL and secret bags are of no use for signing
    }
  }
}

function readBagAttributes(set: Asn1Node | undefined): { localKeyId?: Uint8Array; friendlyName?: string } {
  const out: { localKeyId?: Uint8Array; friendlyName?: string } = {};
  if (!set) return out;
  set.expect(0x31, 'bagAttributes');
  for (const attr of set.children) {
    attr.expect(0x30, 'PKCS12Attribute');
    const type = readOid(attr.child(0));
    const first = attr.child(1).expect(0x31).children[0];
    if (!first) continue;
    if (type === OID.localKeyId) out.localKeyId = readOctetString(first).slice();
    else if (type === OID.friendlyName) out.friendlyName = readString(first);
  }
  return out;
}

function describeKey(
  pkcs8: Uint8Array,
  attrs: { localKeyId?: Uint8Array; friendlyName?: string },
): Pkcs12PrivateKey {
  const pki = parseDer(pkcs8, PARSE_LIMITS).expect(0x30, 'PrivateKeyInfo');
  readSmallInt(pki.child(0, 'version'));
  const alg = pki.child(1, 'privateKeyAlgorithm').expect(0x30);
  const algorithmOid = readOid(alg.child(0));
  readOctetString(pki.child(2, 'privateKey'));
  const params = alg.children[1];
  const curveOid = algorithmOid === OID.ecPublicKey && params?.tag === 0x06 ? readOid(params) : undefined;
  return { pkcs8: pkcs8.slice(), algorithmOid, curveOid, ...attrs };
}

// ---------------------------------------------------------------------------------------------
// Password-based decryption

const PBES1: Record<string, { cipher: 'rc2' | '3des' | 'rc4'; keyLength: number; bits?: number }> = {
  [OID.pbeWithSHAAnd40BitRC2CBC]: { cipher: 'rc2', keyLength: 5, bits: 40 },
  [OID.pbeWithSHAAnd128BitRC2CBC]: { cipher: 'rc2', keyLength: 16, bits: 128 },
  [OID.pbeWithSHAAnd3KeyTripleDESCBC]: { cipher: '3des', keyLength: 24 },
  [OID.pbeWithSHAAnd2KeyTripleDESCBC]: { cipher: '3des', keyLength: 16 },
  [OID.pbeWithSHAAnd40BitRC4]: { cipher: 'rc4', keyLength: 5 },
  [OID.pbeWithSHAAnd128BitRC4]: { cipher: 'rc4', keyLength: 16 },
};

const PRFS: Record<string, KdfHash> = {
  [OID.hmacWithSHA1]: 'SHA-1',
  [OID.hmacWithSHA256]: 'SHA-256',
  [OID.hmacWithSHA384]: 'SHA-384',
  [OID.hmacWithSHA512]: 'SHA-512',
};

const AES: Record<string, number> = { [OID.aes128Cbc]: 16, [OID.aes192Cbc]: 24, [OID.aes256Cbc]: 32 };

async function decrypt(algorithm: Asn1Node, data: Uint8Array, pw: PasswordForms): Promise<Uint8Array> {
  const oid = readOid(algorithm.child(0));
  const pbes1 = PBES1[oid];
  if (pbes1) {
    const params = algorithm.child(1, 'PBE parameters').expect(0x30);
    const salt = readOctetString(params.child(0));
    const iterations = readSmallInt(params.child(1));
    checkIterations(iterations, MAX_PKCS12_KDF_ITERATIONS);
    const key = pkcs12Kdf('SHA-1', pw.bmp, salt, 1, iterations, pbes1.keyLength);
    if (pbes1.cipher === 'rc4') return rc4(key, data);
    const iv = pkcs12Kdf('SHA-1', pw.bmp, salt, 2, iterations, 8);
    try {
      return pbes1.cipher === 'rc2'
        ? rc2CbcDecrypt(key, pbes1.bits!, iv, data)
        : desEde3CbcDecrypt(key, iv, data);
    } catch (e) {
      if (e instanceof BadPaddingError) throw new DecryptionFailed('bad padding');
      throw e;
    }
  }
  if (oid === OID.pbes2)
    return pbes2Decrypt(algorithm.child(1, 'PBES2 parameters').expect(0x30), data, pw.utf8);
  throw new SidianError('P12_UNSUPPORTED', `unsupported PKCS#12 encryption algorithm ${oid}`);
}

function checkIterations(n: number, max: number): void {
  if (n < 1 || n > max) throw new SidianError('P12_UNSUPPORTED', `iteration count ${n} is out of range`);
}

async function pbes2Decrypt(params: Asn1Node, data: Uint8Array, password: Uint8Array): Promise<Uint8Array> {
  const kdf = params.child(0, 'keyDerivationFunc').expect(0x30);
  const scheme = params.child(1, 'encryptionScheme').expect(0x30);
  const kdfOid = readOid(kdf.child(0));
  if (kdfOid !== OID.pbkdf2)
    throw new SidianError('P12_UNSUPPORTED', `unsupported PBES2 key derivation ${kdfOid}`);
  const kp = kdf.child(1, 'PBKDF2-params').expect(0x30);
  const salt = readOctetString(kp.child(0, 'salt'));
  const iterations = readSmallInt(kp.child(1, 'iterationCount'));
  checkIterations(iterations, MAX_ITERATIONS);
  let prf: KdfHash = 'SHA-1';
  let keyLength: number | undefined;
  for (const n of kp.children.slice(2)) {
    if (n.tag === 0x02) keyLength = readSmallInt(n, 64);
    else if (n.tag === 0x30) {
      const prfOid = readOid(n.child(0));
      const p = PRFS[prfOid];
      if (!p) throw new SidianError('P12_UNSUPPORTED', `unsupported PBKDF2 PRF ${prfOid}`);
      prf = p;
    }
  }
  const schemeOid = readOid(scheme.child(0));
  const aesLength = AES[schemeOid];
  const cipherKeyLength = aesLength ?? (schemeOid === OID.desEde3Cbc ? 24 : undefined);
  if (!cipherKeyLength) throw new SidianError('P12_UNSUPPORTED', `unsupported PBES2 cipher ${schemeOid}`);
  if (keyLength !== undefined && keyLength !== cipherKeyLength)
    throw new Asn1Error('PBKDF2 key length mismatch');
  const iv = readOctetString(scheme.child(1, 'IV'));
  const s = subtle();
  const base = await s.importKey('raw', toArrayBuffer(password), 'PBKDF2', false, ['deriveBits']);
  const key = new Uint8Array(
    await s.deriveBits(
      { name: 'PBKDF2', hash: prf, salt: toArrayBuffer(salt), iterations },
      base,
      cipherKeyLength * 8,
    ),
  );
  if (aesLength) {
    if (iv.length !== 16) throw new Asn1Error('AES-CBC IV must be 16 bytes');
    const aesKey = await s.importKey('raw', toArrayBuffer(key), 'AES-CBC', false, ['decrypt']);
    try {
      return new Uint8Array(
        await s.decrypt({ name: 'AES-CBC', iv: toArrayBuffer(iv) }, aesKey, toArrayBuffer(data)),
      );
    } catch {
      throw new DecryptionFailed('AES-CBC decryption failed');
    }
  }
  try {
    return desEde3CbcDecrypt(key, iv, data);
  } catch (e) {
    if (e instanceof BadPaddingError) throw new DecryptionFailed('bad padding');
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Putting key and certificates together

async function assemble(bags: Bags, macVerified: boolean): Promise<Pkcs12Contents> {
  if (bags.keys.length === 0) throw malformed('the file contains no private key');
  if (bags.certs.length === 0) throw malformed('the file contains no certificate');
  const parsed = bags.certs.map((c) => ({ ...c, info: parseCertificate(c.der) }));

  let key: Pkcs12PrivateKey | undefined;
  let leafIndex = -1;
  // 1. localKeyId
  for (const k of bags.keys) {
    if (!k.localKeyId) continue;
    const i = parsed.findIndex((c) => c.localKeyId && bytesEqual(c.localKeyId, k.localKeyId!));
    if (i >= 0) {
      key = k;
      leafIndex = i;
      break;
    }
  }
  // 2. public key match
  if (!key) {
    for (const k of bags.keys) {
      const pub = await publicKeyOfPrivateKey(k);
      if (!pub) continue;
      const i = parsed.findIndex((c) => samePublicKey(c.info.publicKey, pub));
      if (i >= 0) {
        key = k;
        leafIndex = i;
        break;
      }
    }
  }
  if (!key) throw malformed('no certificate matches the private key');

  const leaf = parsed[leafIndex]!;
  const rest = parsed.filter((_, i) => i !== leafIndex);
  const chain: typeof parsed = [];
  let current = leaf;
  for (;;) {
    if (bytesEqual(current.info.issuer, current.info.subject)) break; // self-signed: top reached
    const i = rest.findIndex((c) => bytesEqual(c.info.subject, current.info.issuer));
    if (i < 0) break;
    current = rest.splice(i, 1)[0]!;
    chain.push(current);
  }
  chain.push(...rest);
  return { key, certificate: leaf.der, chain: chain.map((c) => c.der), macVerified };
}

/** The public key inside a PKCS#8 private key, when it can be read without crypto. */
async function publicKeyOfPrivateKey(k: Pkcs12PrivateKey): Promise<PublicKeyInfo | null> {
  try {
    const pki = parseDer(k.pkcs8, PARSE_LIMITS);
    const inner = parseDer(readOctetString(pki.child(2)), PARSE_LIMITS).expect(0x30);
    if (k.algorithmOid === OID.rsaEncryption || k.algorithmOid === OID.rsassaPss) {
      const strip = (b: Uint8Array) => {
        let i = 0;
        while (i < b.length - 1 && b[i] === 0) i++;
        return b.subarray(i);
      };
      const modulus = strip(inner.child(1).expect(0x02).content);
      return {
        kind: 'rsa',
        pssOnly: k.algorithmOid === OID.rsassaPss,
        modulus,
        modulusBits: 0,
        exponent: strip(inner.child(2).expect(0x02).content),
      };
    }
    if (k.algorithmOid === OID.ecPublicKey) {
      const pubNode = inner.children.find((n) => n.tag === 0xa1);
      let point: Uint8Array | undefined = pubNode ? readBitStringBytes(pubNode.child(0)) : undefined;
      const curve =
        k.curveOid === OID.curveP256
          ? 'P-256'
          : k.curveOid === OID.curveP384
            ? 'P-384'
            : k.curveOid === OID.curveP521
              ? 'P-521'
              : null;
      if (!point && curve) {
        // No public key stored: let WebCrypto compute it (temporarily extractable, then dropped).
        const s = subtle();
        const tmp = await s.importKey(
          'pkcs8',
          toArrayBuffer(k.pkcs8),
          { name: 'ECDSA', namedCurve: curve },
          true,
          ['sign'],
        );
        const jwk = await s.exportKey('jwk', tmp);
        const b64 = (t: string) =>
          Uint8Array.from(atob(t.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
        point = concatBytes(Uint8Array.of(4), b64(jwk.x!), b64(jwk.y!));
      }
      if (!point) return null;
      return { kind: 'ec', curveOid: k.curveOid ?? '', curve, point };
    }
  } catch {
    return null;
  }
  return null;
}
