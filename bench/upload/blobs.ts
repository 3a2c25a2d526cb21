/** The benches' test file: `size` bytes of random data, every 8 MiB slice different, typed as a PNG. */
const MB = 1024 * 1024;

export function blobOf(size: number): Blob {
  const parts: Uint8Array[] = [];
  const chunk = new Uint8Array(8 * MB);
  for (let i = 0; i < chunk.length; i += 65536) crypto.getRandomValues(chunk.subarray(i, i + 65536));
  for (let at = 0; at < size; at += chunk.length) {
    const c = chunk.slice(0, Math.min(chunk.length, size - at));
    c[8] = at / chunk.length; // every slice differs
    if (at === 0) c.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]); // sniffed as PNG: no PDF parse in the way
    parts.push(c);
  }
  return new Blob(parts as Uint8Array<ArrayBuffer>[], { type: 'image/png' });
}
