/**
 * Node's built-in modules when core runs in Node, reached through `process.getBuiltinModule` so that
 * core imports no Node built-in and still bundles for browsers; null elsewhere (the callers then use
 * WebCrypto, CompressionStream or their own code).
 */
const cache = new Map<string, unknown>();

export function nodeBuiltin<T>(id: 'node:crypto' | 'node:zlib' | 'node:buffer'): T | null {
  if (!cache.has(id)) {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    cache.set(id, proc?.getBuiltinModule?.(id) ?? null);
  }
  return cache.get(id) as T | null;
}

export type NodeHash = { update(b: Uint8Array): NodeHash; digest(): Uint8Array };
export type NodeCrypto = {
  createHash(alg: string): NodeHash;
  hash?(alg: string, data: Uint8Array, encoding: 'buffer'): Uint8Array;
};
export type NodeBufferModule = {
  Buffer: { from(b: ArrayBufferLike, offset: number, length: number): { toString(enc: 'hex'): string } };
};

/**
 * Whether core may compile WebAssembly without side effects: only outside a web page (Node and
 * other server runtimes). In a page, compiling it under a Content-Security-Policy without
 * 'wasm-unsafe-eval' is refused *and reported* (console, report-uri) even when caught, which the
 * departments embedding the elements would see as violations. SM3 (gm/sm3.ts) is the exception:
 * there WebAssembly is twice the speed on 100 MB documents, so it tries once in pages too and falls
 * back to JavaScript (docs/embedding.md tells departments about 'wasm-unsafe-eval').
 */
export function mayCompileWasm(): boolean {
  return typeof WebAssembly === 'object' && nodeBuiltin('node:zlib') !== null;
}
