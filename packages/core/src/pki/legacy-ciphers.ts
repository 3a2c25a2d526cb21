/**
 * Decryption-only legacy ciphers that WebCrypto lacks, for reading old PKCS#12 files
 * (`openssl pkcs12 -export -legacy`, Windows and Java exports): RC2 (RFC 2268) in CBC mode,
 * DES-EDE3 (FIPS 46-3) in CBC mode, and RC4. Small and slow by design: they decrypt a few
 * kilobytes of key and certificate bags, once. Never used for anything we write.
 */

/** Raised when CBC padding is wrong (usually: wrong password). */
export class BadPaddingError extends Error {
  constructor() {
    super('bad padding');
    this.name = 'BadPaddingError';
  }
}

interface BlockDecryptor {
  decryptBlock(input: Uint8Array, output: Uint8Array): void;
}

/** CBC decryption with 8-byte blocks and PKCS#5/#7 padding removal. */
function cbcDecrypt(cipher: BlockDecryptor, iv: Uint8Array, data: Uint8Array): Uint8Array {
  if (iv.length !== 8) throw new Error('IV must be 8 bytes');
  if (data.length === 0 || data.length % 8 !== 0) throw new BadPaddingError();
  const out = new Uint8Array(data.length);
  let prev = iv;
  const block = new Uint8Array(8);
  for (let off = 0; off < data.length; off += 8) {
    const c = data.subarray(off, off + 8);
    cipher.decryptBlock(c, block);
    for (let i = 0; i < 8; i++) out[off + i] = block[i]! ^ prev[i]!;
    prev = c;
  }
  return unpad(out, 8);
}

function unpad(out: Uint8Array, blockSize: number): Uint8Array {
  const n = out[out.length - 1]!;
  if (n < 1 || n > blockSize) throw new BadPaddingError();
  for (let i = out.length - n; i < out.length; i++) if (out[i] !== n) throw new BadPaddingError();
  return out.subarray(0, out.length - n);
}

// ---------------------------------------------------------------------------------------------
// RC2 (RFC 2268)

// PITABLE from RFC 2268 section 2 (a permutation of 0..255 derived from the digits of pi).
// prettier-ignore
const PITABLE = Uint8Array.from([
  0xd9, 0x78, 0xf9, 0xc4, 0x19, 0xdd, 0xb5, 0xed, 0x28, 0xe9, 0xfd, 0x79, 0x4a, 0xa0, 0xd8, 0x9d,
  0xc6, 0x7e, 0x37, 0x83, 0x2b, 0x76, 0x53, 0x8e, 0x62, 0x4c, 0x64, 0x88, 0x44, 0x8b, 0xfb, 0xa2,
  0x17, 0x9a, 0x59, 0xf5, 0x87, 0xb3, 0x4f, 0x13, 0x61, 0x45, 0x6d, 0x8d, 0x09, 0x81, 0x7d, 0x32,
  0xbd, 0x8f, 0x40, 0xeb, 0x86, 0xb7, 0x7b, 0x0b, 0xf0, 0x95, 0x21, 0x22, 0x5c, 0x6b, 0x4e, 0x82,
  0x54, 0xd6, 0x65, 0x93, 0xce, 0x60, 0xb2, 0x1c, 0x73, 0x56, 0xc0, 0x14, 0xa7, 0x8c, 0xf1, 0xdc,
  0x12, 0x75, 0xca, 0x1f, 0x3b, 0xbe, 0xe4, 0xd1, 0x42, 0x3d, 0xd4, 0x30, 0xa3, 0x3c, 0xb6, 0x26,
  0x6f, 0xbf, 0x0e, 0xda, 0x46, 0x69, 0x07, 0x57, 0x27, 0xf2, 0x1d, 0x9b, 0xbc, 0x94, 0x43, 0x03,
  0xf8, 0x11, 0xc7, 0xf6, 0x90, 0xef, 0x3e, 0xe7, 0x06, 0xc3, 0xd5, 0x2f, 0xc8, 0x66, 0x1e, 0xd7,
  0x08, 0xe8, 0xea, 0xde, 0x80, 0x52, 0xee, 0xf7, 0x84, 0xaa, 0x72, 0xac, 0x35, 0x4d, 0x6a, 0x2a,
  0x96, 0x1a, 0xd2, 0x71, 0x5a, 0x15, 0x49, 0x74, 0x4b, 0x9f, 0xd0, 0x5e, 0x04, 0x18, 0xa4, 0xec,
  0xc2, 0xe0, 0x41, 0x6e, 0x0f, 0x51, 0xcb, 0xcc, 0x24, 0x91, 0xaf, 0x50, 0xa1, 0xf4, 0x70, 0x39,
  0x99, 0x7c, 0x3a, 0x85, 0x23, 0xb8, 0xb4, 0x7a, 0xfc, 0x02, 0x36, 0x5b, 0x25, 0x55, 0x97, 0x31,
  0x2d, 0x5d, 0xfa, 0x98, 0xe3, 0x8a, 0x92, 0xae, 0x05, 0xdf, 0x29, 0x10, 0x67, 0x6c, 0xba, 0xc9,
  0xd3, 0x00, 0xe6, 0xcf, 0xe1, 0x9e, 0xa8, 0x2c, 0x63, 0x16, 0x01, 0x3f, 0x58, 0xe2, 0x89, 0xa9,
  0x0d, 0x38, 0x34, 0x1b, 0xab, 0x33, 0xff, 0xb0, 0xbb, 0x48, 0x0c, 0x5f, 0xb9, 0xb1, 0xcd, 0x2e,
  0xc5, 0xf3, 0xdb, 0x47, 0xe5, 0xa5, 0x9c, 0x77, 0x0a, 0xa6, 0x20, 0x68, 0xfe, 0x7f, 0xc1, 0xad,
]);

class Rc2 implements BlockDecryptor {
  private readonly k = new Uint16Array(64);

  /** `effectiveBits` is RC2's T1 (40 for pbeWithSHAAnd40BitRC2-CBC, 128 for the 128-bit variant). */
  constructor(key: Uint8Array, effectiveBits: number) {
    const t = key.length;
    if (t < 1 || t > 128) throw new Error('RC2 key must be 1..128 bytes');
    if (effectiveBits < 1 || effectiveBits > 1024) throw new Error('bad RC2 effective key bits');
    const l = new Uint8Array(128);
    l.set(key);
    for (let i = t; i < 128; i++) l[i] = PITABLE[(l[i - 1]! + l[i - t]!) & 0xff]!;
    const t8 = (effectiveBits + 7) >> 3;
    const tm = 0xff >> (8 * t8 - effectiveBits);
    l[128 - t8] = PITABLE[l[128 - t8]! & tm]!;
    for (let i = 127 - t8; i >= 0; i--) l[i] = PITABLE[l[i + 1]! ^ l[i + t8]!]!;
    for (let i = 0; i < 64; i++) this.k[i] = l[2 * i]! | (l[2 * i + 1]! << 8);
  }

  decryptBlock(input: Uint8Array, output: Uint8Array): void {
    const k = this.k;
    const r = [0, 1, 2, 3].map((i) => input[2 * i]! | (input[2 * i + 1]! << 8));
    const s = [1, 2, 3, 5];
    let j = 63;
    const rmixInv = () => {
      for (let i = 3; i >= 0; i--) {
        const x = r[i]!;
        const rot = ((x >>> s[i]!) | (x << (16 - s[i]!))) & 0xffff;
        const a = r[(i + 3) & 3]!; // R[i-1]
        const b = r[(i + 2) & 3]!; // R[i-2]
        const c = r[(i + 1) & 3]!; // R[i-3]
        r[i] = (rot - k[j]! - (a & b) - (~a & c)) & 0xffff;
        j--;
      }
    };
    const rmashInv = () => {
      for (let i = 3; i >= 0; i--) r[i] = (r[i]! - k[r[(i + 3) & 3]! & 63]!) & 0xffff;
    };
    for (let n = 0; n < 5; n++) rmixInv();
    rmashInv();
    for (let n = 0; n < 6; n++) rmixInv();
    rmashInv();
    for (let n = 0; n < 5; n++) rmixInv();
    for (let i = 0; i < 4; i++) {
      output[2 * i] = r[i]! & 0xff;
      output[2 * i + 1] = r[i]! >>> 8;
    }
  }
}

/** RC2-CBC decryption with PKCS#7 padding removal. */
export function rc2CbcDecrypt(
  key: Uint8Array,
  effectiveBits: number,
  iv: Uint8Array,
  data: Uint8Array,
): Uint8Array {
  return cbcDecrypt(new Rc2(key, effectiveBits), iv, data);
}

// ---------------------------------------------------------------------------------------------
// DES / DES-EDE3 (FIPS 46-3). Bit positions below are 1-based, most significant bit first.

// prettier-ignore
const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
  62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
  57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
  61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
];
const FP = (() => {
  const fp = new Array<number>(64);
  IP.forEach((src, i) => (fp[src - 1] = i + 1));
  return fp;
})();
// prettier-ignore
const E = [
  32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
  16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25, 24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1,
];
// prettier-ignore
const P = [
  16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
  2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
];
// prettier-ignore
const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
  10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
  63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
  14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];
// prettier-ignore
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
  41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];
const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
// prettier-ignore
const SBOX = [
  [14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
   4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13],
  [15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
   0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9],
  [10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
   13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12],
  [7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
   10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14],
  [2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
   4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3],
  [12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
   9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13],
  [4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
   1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12],
  [13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
   7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11],
];

function toBits(bytes: Uint8Array): Uint8Array {
  const bits = new Uint8Array(bytes.length * 8);
  for (let i = 0; i < bits.length; i++) bits[i] = (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
  return bits;
}

function permute(bits: Uint8Array, table: readonly number[]): Uint8Array {
  const out = new Uint8Array(table.length);
  for (let i = 0; i < table.length; i++) out[i] = bits[table[i]! - 1]!;
  return out;
}

class Des {
  /** 16 round keys of 48 bits each. */
  private readonly subkeys: Uint8Array[] = [];

  constructor(key: Uint8Array) {
    if (key.length !== 8) throw new Error('DES key must be 8 bytes');
    const cd = permute(toBits(key), PC1);
    let c = cd.subarray(0, 28);
    let d = cd.subarray(28, 56);
    for (const s of SHIFTS) {
      c = Uint8Array.from([...c.subarray(s), ...c.subarray(0, s)]);
      d = Uint8Array.from([...d.subarray(s), ...d.subarray(0, s)]);
      const joined = new Uint8Array(56);
      joined.set(c);
      joined.set(d, 28);
      this.subkeys.push(permute(joined, PC2));
    }
  }

  crypt(input: Uint8Array, output: Uint8Array, decrypt: boolean): void {
    const bits = permute(toBits(input), IP);
    let l = bits.subarray(0, 32);
    let r = bits.subarray(32, 64);
    for (let round = 0; round < 16; round++) {
      const k = this.subkeys[decrypt ? 15 - round : round]!;
      const x = permute(r, E);
      for (let i = 0; i < 48; i++) x[i] ^= k[i]!;
      const f = new Uint8Array(32);
      for (let s = 0; s < 8; s++) {
        const b = x.subarray(s * 6, s * 6 + 6);
        const row = (b[0]! << 1) | b[5]!;
        const col = (b[1]! << 3) | (b[2]! << 2) | (b[3]! << 1) | b[4]!;
        const v = SBOX[s]![row * 16 + col]!;
        for (let i = 0; i < 4; i++) f[s * 4 + i] = (v >> (3 - i)) & 1;
      }
      const pf = permute(f, P);
      const nr = new Uint8Array(32);
      for (let i = 0; i < 32; i++) nr[i] = l[i]! ^ pf[i]!;
      l = r;
      r = nr;
    }
    const pre = new Uint8Array(64);
    pre.set(r); // final swap
    pre.set(l, 32);
    const outBits = permute(pre, FP);
    for (let i = 0; i < 8; i++) {
      let v = 0;
      for (let j = 0; j < 8; j++) v = (v << 1) | outBits[i * 8 + j]!;
      output[i] = v;
    }
  }
}

class DesEde3 implements BlockDecryptor {
  private readonly k1: Des;
  private readonly k2: Des;
  private readonly k3: Des;
  /** 24-byte key (K1 K2 K3) or 16-byte key (K1 K2, K3 = K1). */
  constructor(key: Uint8Array) {
    if (key.length !== 24 && key.length !== 16) throw new Error('DES-EDE key must be 16 or 24 bytes');
    this.k1 = new Des(key.subarray(0, 8));
    this.k2 = new Des(key.subarray(8, 16));
    this.k3 = new Des(key.length === 24 ? key.subarray(16, 24) : key.subarray(0, 8));
  }
  decryptBlock(input: Uint8Array, output: Uint8Array): void {
    const t = new Uint8Array(8);
    this.k3.crypt(input, t, true);
    this.k2.crypt(t, t, false);
    this.k1.crypt(t, output, true);
  }
}

/** Single-block DES encryption (for known-answer tests). */
export function desEncryptBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  const out = new Uint8Array(8);
  new Des(key).crypt(block, out, false);
  return out;
}

/** DES-EDE3-CBC (or two-key EDE with a 16-byte key) decryption with PKCS#7 padding removal. */
export function desEde3CbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  return cbcDecrypt(new DesEde3(key), iv, data);
}

// ---------------------------------------------------------------------------------------------
// RC4

export function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (key.length < 1 || key.length > 256) throw new Error('RC4 key must be 1..256 bytes');
  const s = new Uint8Array(256);
  for (let i = 0; i < 256; i++) s[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
  }
  const out = new Uint8Array(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
    out[n] = data[n]! ^ s[(s[i]! + s[j]!) & 0xff]!;
  }
  return out;
}
