/** PEM (RFC 7468) to DER, for certificates and CRLs given as text or as bytes. */
const pemCache = new Map<string, Uint8Array[]>();

/** Every PEM block of the input as DER; DER input is returned as it is. */
export function pemToDer(input: Uint8Array | string): Uint8Array[] {
  if (typeof input === 'string') {
    let cached = pemCache.get(input);
    if (!cached) {
      cached = pemToDerUncached(input);
      if (pemCache.size >= 64) pemCache.delete(pemCache.keys().next().value!);
      pemCache.set(input, cached);
    }
    return cached;
  }
  return pemToDerUncached(input);
}

function pemToDerUncached(input: Uint8Array | string): Uint8Array[] {
  if (input instanceof Uint8Array) {
    // PEM passed as bytes?
    if (input[0] === 0x2d /* - */) return pemToDer(new TextDecoder().decode(input));
    return [input];
  }
  const out: Uint8Array[] = [];
  const re = /-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/g;
  for (let m = re.exec(input); m; m = re.exec(input)) {
    const b64 = m[1]!.replace(/\s+/g, '');
    const bin = atob(b64);
    out.push(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  }
  return out;
}
