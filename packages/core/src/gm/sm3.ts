/**
 * SM3 (GB/T 32905-2016, GM/T 0004-2012), the Chinese national hash: a Merkle-Damgård hash over
 * 512-bit blocks with a 256-bit state, padded like SHA-256. The block loop and padding are
 * @noble/hashes' HashMD (the one SHA-256 uses); this file holds only SM3's compression function.
 * In Node, digest.ts uses OpenSSL's native sm3 instead; this one runs everywhere else (browsers).
 */
import { HashMD } from '@noble/hashes/_md.js';
import { createHasher, rotl } from '@noble/hashes/utils.js';

/** GB/T 32905 §4.1: the initial value IV. */
const IV = [0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e];

/** GB/T 32905 §4.2: T_j rotated left by j (mod 32) for each round, computed once. */
const T_ROT = Uint32Array.from({ length: 64 }, (_, j) => rotl(j < 16 ? 0x79cc4519 : 0x7a879d8a, j % 32));

const W = new Uint32Array(68);

/** GB/T 32905 §4.4: the permutations P0 and P1. */
const p0 = (x: number) => x ^ rotl(x, 9) ^ rotl(x, 17);
const p1 = (x: number) => x ^ rotl(x, 15) ^ rotl(x, 23);

class Sm3 extends HashMD<Sm3> {
  private A = IV[0]! | 0;
  private B = IV[1]! | 0;
  private C = IV[2]! | 0;
  private D = IV[3]! | 0;
  private E = IV[4]! | 0;
  private F = IV[5]! | 0;
  private G = IV[6]! | 0;
  private H = IV[7]! | 0;

  constructor() {
    super(64, 32, 8, false);
  }
  protected get(): number[] {
    return [this.A, this.B, this.C, this.D, this.E, this.F, this.G, this.H];
  }
  protected set(
    A: number,
    B: number,
    C: number,
    D: number,
    E: number,
    F: number,
    G: number,
    H: number,
  ): void {
    this.A = A | 0;
    this.B = B | 0;
    this.C = C | 0;
    this.D = D | 0;
    this.E = E | 0;
    this.F = F | 0;
    this.G = G | 0;
    this.H = H | 0;
  }
  _cloneInto(to?: Sm3): Sm3 {
    to ||= new Sm3();
    to.set(...(this.get() as [number, number, number, number, number, number, number, number]));
    return this._cloneIntoMeta(to);
  }
  /** GB/T 32905 §5.3: message expansion (§5.3.2) and the compression function CF (§5.3.3). */
  protected process(view: DataView, offset: number): void {
    for (let i = 0; i < 16; i++, offset += 4) W[i] = view.getUint32(offset, false);
    for (let j = 16; j < 68; j++) {
      W[j] = p1(W[j - 16]! ^ W[j - 9]! ^ rotl(W[j - 3]!, 15)) ^ rotl(W[j - 13]!, 7) ^ W[j - 6]!;
    }
    let { A, B, C, D, E, F, G, H } = this;
    for (let j = 0; j < 64; j++) {
      const a12 = rotl(A, 12);
      const ss1 = rotl((a12 + E + T_ROT[j]!) | 0, 7);
      const ss2 = ss1 ^ a12;
      const w1 = W[j]! ^ W[j + 4]!;
      const ff = j < 16 ? A ^ B ^ C : (A & B) | (A & C) | (B & C);
      const gg = j < 16 ? E ^ F ^ G : (E & F) | (~E & G);
      const tt1 = (ff + D + ss2 + w1) | 0;
      const tt2 = (gg + H + ss1 + W[j]!) | 0;
      D = C;
      C = rotl(B, 9);
      B = A;
      A = tt1;
      H = G;
      G = rotl(F, 19);
      F = E;
      E = p0(tt2);
    }
    this.set(A ^ this.A, B ^ this.B, C ^ this.C, D ^ this.D, E ^ this.E, F ^ this.F, G ^ this.G, H ^ this.H);
  }
  protected roundClean(): void {
    W.fill(0);
  }
  destroy(): void {
    this.set(0, 0, 0, 0, 0, 0, 0, 0);
    this.buffer.fill(0);
  }
}

/** SM3 of a message, or an incremental hasher (`sm3.create().update(a).update(b).digest()`). */
export const sm3 = createHasher(() => new Sm3());
