// The hashing time of the target: SHA-256 of the whole file's bytes with WebCrypto, bytes in memory.
window.benchRun = async (url) => {
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const t0 = performance.now();
  await crypto.subtle.digest('SHA-256', bytes);
  return { hashMs: performance.now() - t0, bytes: bytes.length };
};
