/** Byte helpers shared by the elements: fetch, SHA-256, File wrapping. */
import { SidianElementError } from './errors';

/** Fetches `src` as bytes; a network error or a non-2xx status is FETCH_FAILED. */
export async function fetchBytes(src: string, signal?: AbortSignal): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(src, { signal, credentials: 'same-origin' });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new SidianElementError('FETCH_FAILED', `could not fetch ${src}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new SidianElementError('FETCH_FAILED', `could not fetch ${src}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function toFile(bytes: Uint8Array, name: string, type: string): File {
  return new File([bytes as Uint8Array<ArrayBuffer>], name, { type });
}

/** A file name for a signed copy: "letter.pdf" -> "letter-signed.pdf". */
export function signedName(src: string | undefined, suffix: string): string {
  const base = (src ?? '').split(/[?#]/)[0]!.split('/').pop() || 'document.pdf';
  const stem = base.replace(/\.pdf$/i, '');
  return `${stem}-${suffix}.pdf`;
}
