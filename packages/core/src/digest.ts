/**
 * Digests over several byte ranges without joining them. In Node the native incremental hash is
 * used (reached through `process.getBuiltinModule`, so core imports no Node built-in and still
 * bundles for browsers); elsewhere the ranges are hashed with WebCrypto.
 */
import type { HashName } from './signer/types';

type NodeHash = { update(b: Uint8Array): NodeHash; digest(): Uint8Array };
type NodeCrypto = { createHash(alg: string): NodeHash };

let nodeCrypto: NodeCrypto | null | undefined;
function getNodeCrypto(): NodeCrypto | null {
  if (nodeCrypto === undefined) {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    nodeCrypto = (proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined) ?? null;
  }
  return nodeCrypto;
}

const NODE_NAMES: Record<HashName, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

export async function digestChunks(hash: HashName, chunks: Uint8Array[]): Promise<Uint8Array> {
  const nc = getNodeCrypto();
  if (nc) {
    const h = nc.createHash(NODE_NAMES[hash]);
    for (const c of chunks) h.update(c);
    return new Uint8Array(h.digest());
  }
  let data: Uint8Array;
  if (chunks.length === 1) data = chunks[0]!;
  else {
    data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of chunks) {
      data.set(c, o);
      o += c.length;
    }
  }
  return new Uint8Array(await crypto.subtle.digest(hash, data as Uint8Array<ArrayBuffer>));
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}
