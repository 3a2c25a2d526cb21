/** @peculiar/x509 set up for Node's WebCrypto, plus small PEM/DER helpers. */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };
export const subtle = webcrypto.subtle as unknown as SubtleCrypto;

export const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

export function toPem(der: Uint8Array | ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

/** All PEM blocks with the given label (or any label) as DER. */
export function fromPem(pem: string, label?: string): Uint8Array<ArrayBuffer>[] {
  const out: Uint8Array<ArrayBuffer>[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(pem); m; m = re.exec(pem)) {
    if (label && m[1] !== label) continue;
    out.push(new Uint8Array(Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64')));
  }
  return out;
}

export function randomSerial(): string {
  const b = new Uint8Array(16);
  webcrypto.getRandomValues(b);
  b[0] = (b[0]! & 0x7f) | 0x40; // positive, fixed length
  return Buffer.from(b).toString('hex');
}

export async function importEcPrivateKey(pkcs8: Uint8Array, extractable = false): Promise<CryptoKey> {
  return subtle.importKey('pkcs8', new Uint8Array(pkcs8), EC_P256, extractable, ['sign']);
}

export async function sha256(data: Uint8Array | string): Promise<Uint8Array> {
  const b = typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data);
  return new Uint8Array(await subtle.digest('SHA-256', b));
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
