/**
 * Names for new signature fields that say whose act they hold (ISO 32000-2 §12.7.4.2: the partial
 * name /T identifies the field; no periods, which separate a name's parts): `issuing-seal` for a
 * certifying seal, `department-seal`, `applicant-signature`, numbered when the document already has
 * one (`department-seal-2`), never the engine's anonymous `seal-1`. A viewer shows people the
 * signer's name, not this; it stays for tools (pdfsig, Acrobat's signature panel) and forms.
 */
import { PdfDocument, listFields } from '@sidian/core';

export type FieldRole = 'issuing-seal' | 'department-seal' | 'applicant-signature';

export function newFieldName(pdf: Uint8Array, role: FieldRole): string {
  let taken: Set<string>;
  try {
    taken = new Set(listFields(PdfDocument.load(pdf).latest).map((f) => f.fullName));
  } catch {
    return role; // an unreadable file: the engine says why when it signs
  }
  if (!taken.has(role)) return role;
  for (let i = 2; ; i++) if (!taken.has(`${role}-${i}`)) return `${role}-${i}`;
}
