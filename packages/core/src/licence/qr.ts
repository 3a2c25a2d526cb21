/** The QR code payload of a licence: the URL of the registry page that shows its status (GET /v/:id). */
import { SidianError } from '../errors';
import { parseLicenceIdentifier } from './identifier';

/** `https://host/v/<identifier>`; `base` is the server's public URL. */
export function licenceQrPayload(base: string, identifier: string): string {
  parseLicenceIdentifier(identifier);
  return `${base.replace(/\/+$/, '')}/v/${encodeURIComponent(identifier)}`;
}

/** The identifier in a scanned payload (a /v/ URL or a bare identifier). */
export function parseLicenceQrPayload(payload: string): { identifier: string; base?: string } {
  const s = payload.trim();
  const m = /^(https?:\/\/[^\s]+?)\/v\/([^/?#\s]+)\/?(?:[?#].*)?$/.exec(s);
  const identifier = m ? decodeURIComponent(m[2]!) : s;
  try {
    parseLicenceIdentifier(identifier);
  } catch (e) {
    throw new SidianError(
      'LICENCE_INVALID',
      `QR payload does not carry a licence identifier: ${(e as Error).message}`,
    );
  }
  return m ? { identifier, base: m[1] } : { identifier };
}
