/**
 * A small PKCS#12 writer (RFC 7292) in the form OpenSSL 3 writes by default: the key in a
 * pkcs8ShroudedKeyBag under PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), certificates in an
 * encrypted SafeContents under the same scheme, and an HMAC-SHA256 MAC keyed by the PKCS#12 KDF.
 */
import * as asn1js from 'asn1js';
import { webcrypto } from 'node:crypto';

const subtle = webcrypto.subtle;
const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  localKeyId: '1.2.840.113549.1.9.21',
  friendlyName: '1.2.840.113549.1.9.20',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacSha256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  sha256: '2.16.840.1.101.3.4.2.1',
};

const ITERATIONS = 2048;

function seq(...items: asn1js.AsnType[]) {
  return new asn1js.Sequence({ value: items });
}
const oid = (v: string) => new asn1js.ObjectIdentifier({ value: v });
const octets = (b: Uint8Array) => new asn1js.OctetString({ valueHex: toAb(b) });
const int = (n: number) => new asn1js.Integer({ value: n });
const explicit0 = (v: asn1js.AsnType) =>
  new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [v] });
const der = (v: asn1js.AsnType) => new Uint8Array(v.toBER(false));
function toAb(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
function random(n: number) {
  const b = new Uint8Array(n);
  webcrypto.getRandomValues(b);
  return b;
}

async function pbes2Encrypt(
  password: string,
  data: Uint8Array,
): Promise<{ algorithm: asn1js.Sequence; encrypted: Uint8Array }> {
  const salt = random(16);
  const iv = random(16);
  const base = await subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, [
    'deriveKey',
  ]);
  const key = await subtle.deriveKey(
    { name: 'PBKDF2', salt, iterations: ITERATIONS, hash: 'SHA-256' },
    base,
    { name: 'AES-CBC', length: 256 },
    false,
    ['encrypt'],
  );
  const encrypted = new Uint8Array(await subtle.encrypt({ name: 'AES-CBC', iv }, key, data));
  const algorithm = seq(
    oid(OID.pbes2),
    seq(
      seq(oid(OID.pbkdf2), seq(octets(salt), int(ITERATIONS), seq(oid(OID.hmacSha256), new asn1js.Null()))),
      seq(oid(OID.aes256Cbc), octets(iv)),
    ),
  );
  return { algorithm, encrypted };
}

/** PKCS#12 KDF (RFC 7292 appendix B.2) with SHA-256. */
async function pkcs12Kdf(
  password: string,
  salt: Uint8Array,
  id: number,
  iterations: number,
  length: number,
): Promise<Uint8Array> {
  const u = 32;
  const v = 64;
  const pw = new Uint8Array((password.length + 1) * 2);
  for (let i = 0; i < password.length; i++) {
    pw[i * 2] = password.charCodeAt(i) >> 8;
    pw[i * 2 + 1] = password.charCodeAt(i) & 0xff;
  }
  const fill = (src: Uint8Array) => {
    if (src.length === 0) return new Uint8Array(0);
    const out = new Uint8Array(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const D = new Uint8Array(v).fill(id);
  const S = fill(salt);
  const P = fill(pw);
  const I = new Uint8Array(S.length + P.length);
  I.set(S);
  I.set(P, S.length);
  const out = new Uint8Array(Math.ceil(length / u) * u);
  for (let block = 0; block * u < length; block++) {
    let A = new Uint8Array(await subtle.digest('SHA-256', concat(D, I)));
    for (let r = 1; r < iterations; r++) A = new Uint8Array(await subtle.digest('SHA-256', A));
    out.set(A, block * u);
    const B = fill(A).subarray(0, v);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const s = I[j + k]! + B[k]! + carry;
        I[j + k] = s & 0xff;
        carry = s >> 8;
      }
    }
  }
  return out.subarray(0, length);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function bagAttributes(localKeyId: Uint8Array, friendlyName?: string): asn1js.Set {
  const attrs: asn1js.AsnType[] = [seq(oid(OID.localKeyId), new asn1js.Set({ value: [octets(localKeyId)] }))];
  if (friendlyName)
    attrs.push(
      seq(oid(OID.friendlyName), new asn1js.Set({ value: [new asn1js.BmpString({ value: friendlyName })] })),
    );
  return new asn1js.Set({ value: attrs });
}

/**
 * Builds a .p12: `pkcs8` is the private key (PrivateKeyInfo DER), `certificate` its certificate,
 * `chain` the issuers (DER).
 */
export async function writePkcs12(opts: {
  pkcs8: Uint8Array;
  certificate: Uint8Array;
  chain?: Uint8Array[];
  password: string;
  friendlyName?: string;
}): Promise<Uint8Array> {
  const localKeyId = new Uint8Array(await subtle.digest('SHA-1', opts.certificate));
  // key bag
  const keyEnc = await pbes2Encrypt(opts.password, opts.pkcs8);
  const keyBag = seq(
    oid(OID.pkcs8ShroudedKeyBag),
    explicit0(seq(keyEnc.algorithm, octets(keyEnc.encrypted))),
    bagAttributes(localKeyId, opts.friendlyName),
  );
  const keySafe = der(seq(keyBag));
  // certificate bags
  const certBags = [opts.certificate, ...(opts.chain ?? [])].map((c, i) => {
    const parts: asn1js.AsnType[] = [
      oid(OID.certBag),
      explicit0(seq(oid(OID.x509Certificate), explicit0(octets(c)))),
    ];
    if (i === 0) parts.push(bagAttributes(localKeyId, opts.friendlyName));
    return seq(...parts);
  });
  const certSafe = der(seq(...certBags));
  const certEnc = await pbes2Encrypt(opts.password, certSafe);
  const encryptedData = seq(
    int(0),
    seq(
      oid(OID.data),
      certEnc.algorithm,
      new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: toAb(certEnc.encrypted) }),
    ),
  );
  const authSafe = der(
    seq(
      seq(oid(OID.encryptedData), explicit0(encryptedData)),
      seq(oid(OID.data), explicit0(octets(keySafe))),
    ),
  );
  // MAC over the AuthenticatedSafe content
  const macSalt = random(16);
  const macKeyBytes = await pkcs12Kdf(opts.password, macSalt, 3, ITERATIONS, 32);
  const macKey = await subtle.importKey('raw', macKeyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  const mac = new Uint8Array(await subtle.sign('HMAC', macKey, authSafe));
  const pfx = seq(
    int(3),
    seq(oid(OID.data), explicit0(octets(authSafe))),
    seq(seq(seq(oid(OID.sha256), new asn1js.Null()), octets(mac)), octets(macSalt), int(ITERATIONS)),
  );
  return der(pfx);
}
