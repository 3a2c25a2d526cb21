/**
 * SM2 digital signatures (GB/T 32918.2-2016, GM/T 0003.2-2012) over the SM2 recommended curve
 * (GB/T 32918.5-2017). The curve arithmetic is @noble/curves' audited short-Weierstrass points;
 * the signature scheme itself differs from ECDSA (r = e + x1, s = (1 + d)^-1 (k - r d)) and the
 * signed value is e = SM3(Z || M), where Z binds the signer's distinguishing identifier and public
 * key (GB/T 32918.2 §5.5). Pure JavaScript: the same code runs in browsers and Node.
 */
import {
  weierstrass,
  type WeierstrassPoint,
  type WeierstrassPointCons,
} from '@noble/curves/abstract/weierstrass.js';
import { SidianError } from '../errors';
import {
  concatBytes,
  derInteger,
  derOctetString,
  derOid,
  derSequence,
  fromHex,
  parseDer,
  readOctets,
  readOid,
  tlv,
  toHex,
} from '../pki/der';
import { OID } from '../pki/oids';
import { ecdsaDerToRaw } from '../signer/ecdsa';
import { sm3 } from './sm3';

/** The identifier both sides use when none was agreed (GM/T 0009-2012 §10, GB/T 35276 §7.2). */
export const SM2_DEFAULT_ID = '1234567812345678';

export interface Sm2CurveParams {
  p: bigint;
  a: bigint;
  b: bigint;
  n: bigint;
  Gx: bigint;
  Gy: bigint;
}

export interface Sm2Curve {
  params: Sm2CurveParams;
  Point: WeierstrassPointCons<bigint>;
  /** Bytes of a field element and of a scalar. */
  size: number;
}

/** An SM2 curve from its parameters: the recommended one below, or a test curve of the standard. */
export function sm2Curve(params: Sm2CurveParams): Sm2Curve {
  const Point = weierstrass({ ...params, h: 1n });
  return { params, Point, size: Math.ceil(params.p.toString(16).length / 2) };
}

/** GB/T 32918.5-2017 §3: the 256-bit recommended curve parameters. */
export const SM2_P256: Sm2Curve = sm2Curve({
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  Gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  Gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
});

export interface Sm2Options {
  /** Distinguishing identifier of the signer (UTF-8 string or bytes); default SM2_DEFAULT_ID. */
  id?: string | Uint8Array;
  /** Default SM2_P256. */
  curve?: Sm2Curve;
}

const mod = (x: bigint, n: bigint) => ((x % n) + n) % n;
const toBig = (b: Uint8Array) => (b.length ? BigInt('0x' + toHex(b)) : 0n);
const toBytes = (x: bigint, size: number) => fromHex(x.toString(16).padStart(size * 2, '0'));

function invert(x: bigint, n: bigint): bigint {
  let [a, b, u, v] = [mod(x, n), n, 1n, 0n];
  while (a !== 0n) {
    const q = b / a;
    [a, b, u, v] = [b - q * a, a, v - q * u, u];
  }
  if (b !== 1n) throw new SidianError('KEY_UNSUPPORTED', 'SM2: value not invertible');
  return mod(v, n);
}

function idBytes(id: string | Uint8Array | undefined): Uint8Array {
  const b =
    typeof id === 'string' ? new TextEncoder().encode(id) : (id ?? new TextEncoder().encode(SM2_DEFAULT_ID));
  // ENTL is two bytes of bit length (GB/T 32918.2 §5.5)
  if (b.length > 0x1fff)
    throw new SidianError('KEY_UNSUPPORTED', 'SM2: the identifier is longer than 8191 bytes');
  return b;
}

/** A public key point from its SEC1 encoding (04 || x || y, or compressed); throws when off the curve. */
function pointOf(publicKey: Uint8Array, curve: Sm2Curve): WeierstrassPoint<bigint> {
  try {
    const P = curve.Point.fromBytes(publicKey);
    P.assertValidity();
    if (P.equals(curve.Point.ZERO)) throw new Error('point at infinity');
    return P;
  } catch (e) {
    throw new SidianError(
      'KEY_UNSUPPORTED',
      `SM2: the public key is not a point of the curve (${(e as Error).message})`,
    );
  }
}

/**
 * Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A) (GB/T 32918.2 §5.5).
 */
export function sm2Z(publicKey: Uint8Array, options: Sm2Options = {}): Uint8Array {
  const curve = options.curve ?? SM2_P256;
  const id = idBytes(options.id);
  const { a, b, Gx, Gy } = curve.params;
  const { x, y } = pointOf(publicKey, curve).toAffine();
  const bits = id.length * 8;
  return sm3(
    concatBytes(
      Uint8Array.of(bits >> 8, bits & 0xff),
      id,
      ...[a, b, Gx, Gy, x, y].map((v) => toBytes(v, curve.size)),
    ),
  );
}

/** e = SM3(Z || M) as an integer (GB/T 32918.2 §6.1 steps A1-A2). */
function messageScalar(publicKey: Uint8Array, message: Uint8Array, options: Sm2Options): bigint {
  return toBig(sm3(concatBytes(sm2Z(publicKey, options), message)));
}

function randomScalar(n: bigint, size: number): bigint {
  // rejection sampling: uniform in [1, n - 1] (n is close to 2^256, so few draws are ever needed)
  for (;;) {
    const k = toBig(crypto.getRandomValues(new Uint8Array(size)));
    if (k >= 1n && k < n) return k;
  }
}

function privateScalar(privateKey: Uint8Array, curve: Sm2Curve): bigint {
  const d = toBig(privateKey);
  // d in [1, n - 2]: 1 + d must be invertible mod n (GB/T 32918.1 §6.1)
  if (privateKey.length !== curve.size || d < 1n || d > curve.params.n - 2n) {
    throw new SidianError('KEY_UNSUPPORTED', `SM2: the private key must be ${curve.size} bytes in [1, n-2]`);
  }
  return d;
}

/** The public key (04 || x || y) of a private key. */
export function sm2PublicKey(privateKey: Uint8Array, curve: Sm2Curve = SM2_P256): Uint8Array {
  return curve.Point.BASE.multiply(privateScalar(privateKey, curve)).toBytes(false);
}

/** A fresh private key: `size` bytes, uniform in [1, n - 2]. */
export function sm2RandomPrivateKey(curve: Sm2Curve = SM2_P256): Uint8Array {
  return toBytes(randomScalar(curve.params.n - 1n, curve.size), curve.size);
}

export interface Sm2SignOptions extends Sm2Options {
  /** Fixed k, only for the standard's test vectors. */
  k?: bigint;
}

/**
 * Whether the base point G keeps @noble/curves' window-6 table of multiples (the default). The
 * table is built at the first signature or verification: about 65 ms in a fresh process, where
 * the code is not yet optimised, to save about 1 ms per later operation (about 10 ms for the first
 * one). A process that signs or verifies once (the `sidian` CLI) turns it off and multiplies G
 * without a table; `'now'` builds the table at once, for a process that has the time now and will
 * sign later (`sidian sign` of a large file, waiting for the file's SM3 on another thread).
 */
export function setSm2BasePointTable(table: boolean | 'now', curve: Sm2Curve = SM2_P256): void {
  curve.Point.BASE.precompute(table ? 6 : 1, table !== 'now');
}

/**
 * SM2 signature over `message` (GB/T 32918.2 §6.1) as r and s. The public key enters Z; it is
 * derived from the private key when not given.
 */
export function sm2SignRaw(
  privateKey: Uint8Array,
  message: Uint8Array,
  options: Sm2SignOptions & { publicKey?: Uint8Array } = {},
): { r: bigint; s: bigint } {
  const curve = options.curve ?? SM2_P256;
  const { n } = curve.params;
  const d = privateScalar(privateKey, curve);
  const publicKey = options.publicKey ?? curve.Point.BASE.multiply(d).toBytes(false);
  const e = messageScalar(publicKey, message, options);
  const dInv = invert(1n + d, n);
  for (;;) {
    const k = options.k ?? randomScalar(n, curve.size);
    const x1 = curve.Point.BASE.multiply(k).toAffine().x;
    const r = mod(e + x1, n);
    if (r === 0n || r + k === n) continue; // A5: retry with a new k
    const s = mod(dInv * (k - r * d), n);
    if (s === 0n) continue; // A6
    return { r, s };
  }
}

/** SM2 signature as CMS and X.509 carry it: DER SEQUENCE { INTEGER r, INTEGER s } (GM/T 0009 §7.3). */
export function sm2Sign(
  privateKey: Uint8Array,
  message: Uint8Array,
  options: Sm2SignOptions & { publicKey?: Uint8Array } = {},
): Uint8Array {
  const { r, s } = sm2SignRaw(privateKey, message, options);
  return derSequence(derInteger(r), derInteger(s));
}

/**
 * Public keys that verify again and again (a department's seal, a CA, an OCSP responder) get a
 * window-6 table of multiples, as @noble/curves keeps for the base point: building it costs about
 * ten verifications (~40 ms), then [t]P needs no doublings and a verification takes ~1.7 ms instead
 * of ~3.9 ms (Node, this project's VM). A key gets its table on its TABLE_AFTER-th verification;
 * at most TABLED_KEYS tables are kept (each ~2,000 points), the least recently used dropped.
 */
const TABLE_AFTER = 3;
const TABLED_KEYS = 8;
const keyUses = new Map<string, { uses: number; point?: WeierstrassPoint<bigint> }>();

function tabledKey(publicKey: Uint8Array): WeierstrassPoint<bigint> | undefined {
  const hex = toHex(publicKey);
  const entry = keyUses.get(hex) ?? { uses: 0 };
  keyUses.delete(hex); // re-inserted last: Map order is the recency order
  keyUses.set(hex, entry);
  if (keyUses.size > 4 * TABLED_KEYS) keyUses.delete(keyUses.keys().next().value!);
  if (entry.point) return entry.point;
  if (++entry.uses < TABLE_AFTER) return undefined;
  entry.point = pointOf(publicKey, SM2_P256).precompute(6, false);
  const tabled = [...keyUses.values()].filter((x) => x.point);
  if (tabled.length > TABLED_KEYS) tabled[0]!.point = undefined;
  return entry.point;
}

/** Verifies r, s over `message` (GB/T 32918.2 §7.1). */
export function sm2VerifyRaw(
  publicKey: Uint8Array,
  message: Uint8Array,
  r: bigint,
  s: bigint,
  options: Sm2Options = {},
): boolean {
  const curve = options.curve ?? SM2_P256;
  const { n } = curve.params;
  if (r < 1n || r >= n || s < 1n || s >= n) return false; // B1, B2
  const table = curve === SM2_P256 ? tabledKey(publicKey) : undefined;
  const P = table ?? pointOf(publicKey, curve);
  const e = messageScalar(publicKey, message, options); // B3, B4
  const t = mod(r + s, n); // B5
  if (t === 0n) return false;
  // B6: (x1, y1) = [s]G + [t]P, both public scalars. A key with a table: two table walks (no
  // doublings for [t]P); otherwise one shared doubling chain for both (Shamir's trick).
  const sum = table
    ? curve.Point.BASE.multiplyUnsafe(s).add(table.multiplyUnsafe(t))
    : curve.Point.BASE.mulAddUnsafe(s, P, t);
  if (sum.equals(curve.Point.ZERO)) return false;
  return mod(e + sum.toAffine().x, n) === r; // B7
}

/** Verifies a DER SEQUENCE { r, s } SM2 signature; false for any malformed value. */
export function sm2Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  options: Sm2Options = {},
): boolean {
  const size = (options.curve ?? SM2_P256).size;
  const raw = ecdsaDerToRaw(signature, size);
  if (!raw) return false;
  try {
    return sm2VerifyRaw(publicKey, message, toBig(raw.subarray(0, size)), toBig(raw.subarray(size)), options);
  } catch {
    return false;
  }
}

/** SubjectPublicKeyInfo of an SM2 key: id-ecPublicKey with the SM2 curve (GM/T 0015 §7.2, as OpenSSL 3 writes it). */
export function sm2Spki(publicKey: Uint8Array): Uint8Array {
  return derSequence(
    derSequence(derOid(OID.ecPublicKey), derOid(OID.sm2Curve)),
    tlv(0x03, Uint8Array.of(0), publicKey),
  );
}

/** PKCS#8 PrivateKeyInfo (RFC 5958) holding an ECPrivateKey (RFC 5915), as OpenSSL 3 writes SM2 keys. */
export function sm2Pkcs8(privateKey: Uint8Array, curve: Sm2Curve = SM2_P256): Uint8Array {
  const publicKey = sm2PublicKey(privateKey, curve);
  const ecPrivateKey = derSequence(
    derInteger(1),
    derOctetString(privateKey),
    tlv(0xa1, tlv(0x03, Uint8Array.of(0), publicKey)),
  );
  return derSequence(
    derInteger(0),
    derSequence(derOid(OID.ecPublicKey), derOid(OID.sm2Curve)),
    derOctetString(ecPrivateKey),
  );
}

/**
 * The private scalar of an SM2 key given as 32 raw bytes, a PKCS#8 PrivateKeyInfo or a SEC1
 * ECPrivateKey (RFC 5915) DER. Throws KEY_UNSUPPORTED for other keys or curves.
 */
export function sm2PrivateKeyFromDer(key: Uint8Array): Uint8Array {
  if (key.length === SM2_P256.size) return key;
  try {
    let node = parseDer(key);
    if (node.children[1]?.tag === 0x30) {
      // PrivateKeyInfo: version, algorithm, privateKey
      const alg = node.child(1);
      const curveOid = alg.children[1]?.tag === 0x06 ? readOid(alg.child(1)) : undefined;
      // id-ecPublicKey with the SM2 curve (OpenSSL 3), or the SM2 OID itself as the algorithm (GM/T 0010)
      const algOid = readOid(alg.child(0));
      const sm2Alg =
        algOid === OID.sm2Curve || (algOid === OID.ecPublicKey && (!curveOid || curveOid === OID.sm2Curve));
      if (!sm2Alg) {
        throw new SidianError('KEY_UNSUPPORTED', 'the private key is not an SM2 key');
      }
      node = parseDer(readOctets(node.child(2)));
    }
    const params = node.children.find((c) => c.isContext(0));
    if (params && readOid(params.child(0)) !== OID.sm2Curve) {
      throw new SidianError('KEY_UNSUPPORTED', 'the private key is not on the SM2 curve');
    }
    const d = readOctets(node.child(1));
    const out = new Uint8Array(SM2_P256.size);
    out.set(d.subarray(Math.max(0, d.length - out.length)), Math.max(0, out.length - d.length));
    privateScalar(out, SM2_P256);
    return out;
  } catch (e) {
    if (e instanceof SidianError) throw e;
    throw new SidianError('KEY_UNSUPPORTED', `the SM2 private key cannot be read: ${(e as Error).message}`);
  }
}
