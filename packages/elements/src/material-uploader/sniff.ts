/**
 * What a file is, by its bytes (never by its name or the browser's guess): PDF, PNG, JPEG, OFD
 * (GB/T 33190, a ZIP package with OFD.xml at its root), and the kinds that must never pass as a
 * material (executables, scripts), so the reason given can name them.
 */
import { PdfDocument } from '@sidian/core';

export type MaterialKind = 'pdf' | 'png' | 'jpeg' | 'ofd';
export type SniffedKind = MaterialKind | 'windows-executable' | 'elf-executable' | 'macho-executable' | 'script' | 'zip' | 'unknown';

export const MIME_OF: Record<MaterialKind, string> = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpeg: 'image/jpeg',
  ofd: 'application/ofd',
};

const startsWith = (b: Uint8Array, sig: number[], at = 0) => sig.every((v, i) => b[at + i] === v);
const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

/** The kind of a file from its first bytes (4 KB are plenty). */
export function sniffKind(head: Uint8Array): SniffedKind {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  // ISO 32000-2 §7.5.2: readers accept the header anywhere in the first 1024 bytes
  if (latin1(head.subarray(0, 1024 + 8)).includes('%PDF-')) return 'pdf';
  if (startsWith(head, [0x4d, 0x5a])) return 'windows-executable'; // MZ
  if (startsWith(head, [0x7f, 0x45, 0x4c, 0x46])) return 'elf-executable';
  if ([[0xfe, 0xed, 0xfa, 0xce], [0xfe, 0xed, 0xfa, 0xcf], [0xce, 0xfa, 0xed, 0xfe], [0xcf, 0xfa, 0xed, 0xfe], [0xca, 0xfe, 0xba, 0xbe]].some((s) => startsWith(head, s))) {
    return 'macho-executable';
  }
  if (startsWith(head, [0x23, 0x21])) return 'script'; // #!
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return isOfdZip(head) ? 'ofd' : 'zip';
  return 'unknown';
}

/**
 * An OFD package: a ZIP whose entries include OFD.xml at the root (GB/T 33190 §7.2). The first local
 * file header usually names it; otherwise any "OFD.xml" name in the head counts.
 */
function isOfdZip(head: Uint8Array): boolean {
  const nameLength = head[26]! | (head[27]! << 8);
  const first = latin1(head.subarray(30, 30 + nameLength));
  if (first === 'OFD.xml') return true;
  return latin1(head).includes('OFD.xml');
}

/** The kinds an `accept` list allows: MIME types, extensions or kind names, comma or space separated. */
export function acceptedKinds(accept: string | string[] | undefined): Set<MaterialKind> {
  const all = new Set<MaterialKind>(['pdf', 'png', 'jpeg', 'ofd']);
  const tokens = (Array.isArray(accept) ? accept : (accept ?? '').split(/[\s,]+/)).map((t) => t.trim().toLowerCase()).filter(Boolean);
  if (!tokens.length) return all;
  const kinds = new Set<MaterialKind>();
  for (const t of tokens) {
    if (['pdf', '.pdf', 'application/pdf'].includes(t)) kinds.add('pdf');
    else if (['png', '.png', 'image/png'].includes(t)) kinds.add('png');
    else if (['jpeg', 'jpg', '.jpg', '.jpeg', 'image/jpeg'].includes(t)) kinds.add('jpeg');
    else if (['ofd', '.ofd', 'application/ofd'].includes(t)) kinds.add('ofd');
    else if (t === 'image/*') {
      kinds.add('png');
      kinds.add('jpeg');
    } else if (t === '*' || t === '*/*') return all;
  }
  return kinds;
}

/** The file picker's `accept` attribute for a set of kinds. */
export function acceptAttribute(kinds: Set<MaterialKind>): string {
  const parts: string[] = [];
  if (kinds.has('pdf')) parts.push('.pdf', 'application/pdf');
  if (kinds.has('png')) parts.push('.png', 'image/png');
  if (kinds.has('jpeg')) parts.push('.jpg', '.jpeg', 'image/jpeg');
  if (kinds.has('ofd')) parts.push('.ofd');
  return parts.join(',');
}

/** Why a PDF cannot be taken, or nothing: unreadable, encrypted, no pages. */
export type PdfProblem = 'PDF_UNREADABLE' | 'PDF_ENCRYPTED' | 'PDF_NO_PAGES';

/** Files up to this size are opened with the engine's reader; larger ones are checked at head and tail. */
const FULL_CHECK_LIMIT = 256 * 1024 * 1024;

export async function checkPdf(file: Blob): Promise<PdfProblem | undefined> {
  if (file.size <= FULL_CHECK_LIMIT) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    try {
      const doc = PdfDocument.load(bytes);
      if (doc.encrypted) return 'PDF_ENCRYPTED';
      if (doc.latest.pages().length === 0) return 'PDF_NO_PAGES';
    } catch (e) {
      return (e as { code?: string }).code === 'PDF_ENCRYPTED' ? 'PDF_ENCRYPTED' : 'PDF_UNREADABLE';
    }
    return undefined;
  }
  // A very large file: the trailer (or cross-reference stream dictionary) is in its last part.
  const tail = latin1(new Uint8Array(await file.slice(Math.max(0, file.size - 256 * 1024)).arrayBuffer()));
  if (!tail.includes('%%EOF') || !tail.includes('startxref')) return 'PDF_UNREADABLE';
  if (/\/Encrypt\s/.test(tail)) return 'PDF_ENCRYPTED';
  return undefined;
}
