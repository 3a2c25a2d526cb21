/**
 * SM3 (GB/T 32905-2016, GM/T 0004-2012), the Chinese national hash: Merkle-Damgård over 512-bit
 * blocks with a 256-bit state, padded like SHA-256.
 *
 * Written here rather than taken from a library because speed is the point: browsers have no SM3
 * (WebCrypto lacks it) and a sealed 100 MB PDF is hashed with it. @noble/hashes has no SM3 and its
 * generic block loop (HashMD: a DataView read per word, a fresh array per call) ran at about half
 * of this; sm-crypto works on arrays of numbers (tens of MB/s). This version keeps the state in
 * locals, reads big-endian words straight from the input bytes without copying whole blocks, splits
 * the 64 rounds into the two halves of §5.3.3 (no per-round branch on j), expands W on the fly
 * into one reused Int32Array and allocates nothing per block.
 *
 * Three engines, chosen per hasher (see setSm3Engine): Node's OpenSSL sm3 where Node has it; else the
 * same compression function in WebAssembly (sm3.wat, about twice this JavaScript's speed in V8);
 * else, where WebAssembly is missing or refused (a page whose Content-Security-Policy lacks
 * 'wasm-unsafe-eval': compiling throws, and the browser reports the violation once), this
 * JavaScript. All three give the same digest; gm.test.ts and gm.browser-test.ts check each one
 * against OpenSSL.
 */
import { nodeBuiltin, type NodeCrypto } from '../platform';
import { SM3_WASM } from './sm3-wasm';

/** GB/T 32905 §4.1: the initial value IV. */
const IV = Int32Array.of(
  0x7380166f,
  0x4914b2b9,
  0x172442d7,
  0xda8a0600 | 0,
  0xa96f30bc | 0,
  0x163138aa,
  0xe38dee4d | 0,
  0xb0fb0e4e | 0,
);

/** GB/T 32905 §4.2 and §5.3.3: T_j <<< (j mod 32), computed once. */
const T = Int32Array.from({ length: 64 }, (_, j) => {
  const t = j < 16 ? 0x79cc4519 : 0x7a879d8a;
  const n = j % 32;
  return n ? (t << n) | (t >>> (32 - n)) : t;
});

/** Message expansion W_0..W_67 (§5.3.2), reused for every block. */
const W = new Int32Array(68);

/** Compresses the blocks of `data[offset, offset + 64 * blocks)` into `state` (§5.3). */
function compressJs(state: Int32Array, data: Uint8Array, offset: number, blocks: number): void {
  let a0 = state[0]!,
    b0 = state[1]!,
    c0 = state[2]!,
    d0 = state[3]!,
    e0 = state[4]!,
    f0 = state[5]!,
    g0 = state[6]!,
    h0 = state[7]!;
  const w = W;
  for (let blk = 0; blk < blocks; blk++, offset += 64) {
    for (let i = 0, o = offset; i < 16; i++, o += 4) {
      w[i] = (data[o]! << 24) | (data[o + 1]! << 16) | (data[o + 2]! << 8) | data[o + 3]!;
    }
    for (let j = 16; j < 68; j++) {
      const x = w[j - 16]! ^ w[j - 9]! ^ ((w[j - 3]! << 15) | (w[j - 3]! >>> 17));
      // P1(x) = x ^ (x <<< 15) ^ (x <<< 23)
      w[j] =
        x ^
        ((x << 15) | (x >>> 17)) ^
        ((x << 23) | (x >>> 9)) ^
        ((w[j - 13]! << 7) | (w[j - 13]! >>> 25)) ^
        w[j - 6]!;
    }
    let A = a0,
      B = b0,
      C = c0,
      D = d0,
      E = e0,
      F = f0,
      G = g0,
      H = h0;
    // rounds 0-15: FF = GG = X ^ Y ^ Z
    for (let j = 0; j < 16; j++) {
      const a12 = (A << 12) | (A >>> 20);
      const t = (a12 + E + T[j]!) | 0;
      const ss1 = (t << 7) | (t >>> 25);
      const wj = w[j]!;
      const tt1 = ((A ^ B ^ C) + D + (ss1 ^ a12) + (wj ^ w[j + 4]!)) | 0;
      const tt2 = ((E ^ F ^ G) + H + ss1 + wj) | 0;
      D = C;
      C = (B << 9) | (B >>> 23);
      B = A;
      A = tt1;
      H = G;
      G = (F << 19) | (F >>> 13);
      F = E;
      // P0(x) = x ^ (x <<< 9) ^ (x <<< 17)
      E = tt2 ^ ((tt2 << 9) | (tt2 >>> 23)) ^ ((tt2 << 17) | (tt2 >>> 15));
    }
    // rounds 16-63: FF = majority, GG = choose
    for (let j = 16; j < 64; j++) {
      const a12 = (A << 12) | (A >>> 20);
      const t = (a12 + E + T[j]!) | 0;
      const ss1 = (t << 7) | (t >>> 25);
      const wj = w[j]!;
      const tt1 = (((A & B) | (A & C) | (B & C)) + D + (ss1 ^ a12) + (wj ^ w[j + 4]!)) | 0;
      const tt2 = (((E & F) | (~E & G)) + H + ss1 + wj) | 0;
      D = C;
      C = (B << 9) | (B >>> 23);
      B = A;
      A = tt1;
      H = G;
      G = (F << 19) | (F >>> 13);
      F = E;
      E = tt2 ^ ((tt2 << 9) | (tt2 >>> 23)) ^ ((tt2 << 17) | (tt2 >>> 15));
    }
    a0 ^= A;
    b0 ^= B;
    c0 ^= C;
    d0 ^= D;
    e0 ^= E;
    f0 ^= F;
    g0 ^= G;
    h0 ^= H;
  }
  state[0] = a0;
  state[1] = b0;
  state[2] = c0;
  state[3] = d0;
  state[4] = e0;
  state[5] = f0;
  state[6] = g0;
  state[7] = h0;
}

type Compress = (state: Int32Array, data: Uint8Array, offset: number, blocks: number) => void;

/** Where sm3.wat's memory takes the caller's blocks (see its layout), and how many bytes at a time. */
const BUFFER = 1024;
const BUFFER_BYTES = 64 * 1024;

let wasmCompress: Compress | null | undefined;

/** sm3.wat's compression as a Compress, or null where WebAssembly is missing or refused. */
function wasmEngine(): Compress | null {
  if (wasmCompress !== undefined) return wasmCompress;
  try {
    const module = new WebAssembly.Module(Uint8Array.from(atob(SM3_WASM), (c) => c.charCodeAt(0)));
    const exports = new WebAssembly.Instance(module, {}).exports as {
      memory: WebAssembly.Memory;
      compress(p: number, n: number): void;
    };
    const heap = new Uint8Array(exports.memory.buffer);
    // wasm words are little-endian, as Int32Array is on every platform a browser or Node runs on
    const words = new Int32Array(exports.memory.buffer, 0, 256);
    words.set(T, 128); // T at byte 512
    wasmCompress = (state, data, offset, blocks) => {
      words.set(state, 0);
      while (blocks > 0) {
        const n = Math.min(blocks, BUFFER_BYTES / 64);
        heap.set(data.subarray(offset, offset + n * 64), BUFFER);
        exports.compress(BUFFER, n);
        offset += n * 64;
        blocks -= n;
      }
      state.set(words.subarray(0, 8));
    };
  } catch {
    // no WebAssembly, or a CSP without 'wasm-unsafe-eval' refused to compile it
    wasmCompress = null;
  }
  return wasmCompress;
}

/**
 * Which SM3 new hashers use: 'auto' (Node's native sm3, else WebAssembly, else JavaScript), or one
 * engine forced ('wasm' falls back to JavaScript where WebAssembly is refused). A page that must
 * not attempt WebAssembly at all (its CSP reports every refused compile) sets 'js' once.
 */
export type Sm3Engine = 'auto' | 'node' | 'wasm' | 'js';
let engine: Sm3Engine = 'auto';

/** Sets the engine of hashers created from now on; returns the previous setting. */
export function setSm3Engine(next: Sm3Engine): Sm3Engine {
  const previous = engine;
  engine = next;
  return previous;
}

/** The engine an `sm3.create()` would use now (after falling back from refused ones). */
export function sm3EngineInUse(): Exclude<Sm3Engine, 'auto'> {
  if ((engine === 'auto' || engine === 'node') && hasNodeSm3()) return 'node';
  if (engine !== 'js' && engine !== 'node' && wasmEngine()) return 'wasm';
  return 'js';
}

type NativeSm3 = { update(b: Uint8Array): unknown; digest(): Uint8Array };

let nodeHasSm3: boolean | undefined;
const hasNodeSm3 = (): boolean => (nodeHasSm3 ??= nodeSm3() !== null);

/** Node's OpenSSL sm3, or null without Node or in a Node built without it. */
function nodeSm3(): NativeSm3 | null {
  const nc = nodeBuiltin<NodeCrypto>('node:crypto');
  if (!nc) return null;
  try {
    return nc.createHash('sm3');
  } catch {
    return null;
  }
}

/** An incremental SM3: `update()` any number of times, then `digest()` once. */
export class Sm3Hash {
  private readonly native: NativeSm3 | null;
  private readonly compress: Compress;
  private readonly state = IV.slice();
  /** Bytes of a partial block waiting for more input. */
  private readonly pending = new Uint8Array(64);
  private pendingLength = 0;
  /** Total length in bytes (a double is exact up to 2^53). */
  private length = 0;
  private finished = false;

  constructor() {
    const use = sm3EngineInUse();
    this.native = use === 'node' ? nodeSm3() : null;
    this.compress = use === 'wasm' ? wasmEngine()! : compressJs;
  }

  update(data: Uint8Array): this {
    if (this.finished) throw new Error('SM3: digest() was already called');
    if (this.native) {
      this.native.update(data);
      return this;
    }
    this.length += data.length;
    let at = 0;
    if (this.pendingLength) {
      const take = Math.min(64 - this.pendingLength, data.length);
      this.pending.set(data.subarray(0, take), this.pendingLength);
      this.pendingLength += take;
      at = take;
      if (this.pendingLength < 64) return this;
      this.compress(this.state, this.pending, 0, 1);
      this.pendingLength = 0;
    }
    const blocks = (data.length - at) >>> 6;
    if (blocks) this.compress(this.state, data, at, blocks);
    at += blocks * 64;
    if (at < data.length) {
      this.pending.set(data.subarray(at));
      this.pendingLength = data.length - at;
    }
    return this;
  }

  /** §5.2 padding (1 bit, zeros, 64-bit big-endian bit length), then the 32-byte digest. */
  digest(): Uint8Array {
    if (this.finished) throw new Error('SM3: digest() was already called');
    this.finished = true;
    if (this.native) return new Uint8Array(this.native.digest());
    const p = this.pending;
    let n = this.pendingLength;
    p[n++] = 0x80;
    if (n > 56) {
      p.fill(0, n);
      this.compress(this.state, p, 0, 1);
      n = 0;
    }
    p.fill(0, n, 56);
    const bits = this.length * 8;
    const high = Math.floor(bits / 0x100000000);
    const low = bits >>> 0;
    p[56] = high >>> 24;
    p[57] = high >>> 16;
    p[58] = high >>> 8;
    p[59] = high;
    p[60] = low >>> 24;
    p[61] = low >>> 16;
    p[62] = low >>> 8;
    p[63] = low;
    this.compress(this.state, p, 0, 1);
    const out = new Uint8Array(32);
    for (let i = 0; i < 8; i++) {
      const v = this.state[i]!;
      out[i * 4] = v >>> 24;
      out[i * 4 + 1] = v >>> 16;
      out[i * 4 + 2] = v >>> 8;
      out[i * 4 + 3] = v;
    }
    p.fill(0);
    this.state.fill(0);
    return out;
  }
}

/** SM3 of a message, or an incremental hasher (`sm3.create().update(a).update(b).digest()`). */
export const sm3 = Object.assign(
  (message: Uint8Array): Uint8Array => new Sm3Hash().update(message).digest(),
  {
    create: () => new Sm3Hash(),
    outputLen: 32,
    blockLen: 64,
  },
);
