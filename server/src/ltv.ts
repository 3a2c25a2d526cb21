/**
 * Long-term validation of stored licences (PAdES B-LT / B-LTA, ETSI EN 319 142-1 §6.3): on
 * registration the server appends a DSS with its CA certificate and its current CRL, then a
 * document time-stamp from its own TSA (a time-stamp first for a seal without one); later, before the TSA certificate that made a licence's
 * newest archive time-stamp expires, it appends the DSS for that TSA and a fresh time-stamp
 * (EN 319 102-1 §5.6.3: each archive time-stamp is kept valid by the next).
 */
import { extendPdf, parseCms } from '@sidian/core';
import { PdfDocument } from '../../packages/core/src/pdf/document';
import { PdfString } from '../../packages/core/src/pdf/objects';
import { parseCertificate } from '../../packages/core/src/pki/certificate';
import { parseDer } from '../../packages/core/src/pki/der';
import { findSignerCertificate } from '../../packages/core/src/cms/parse';
import { listFields } from '../../packages/core/src/sign/fields';
import type { Ctx } from './context';

/**
 * B-LTA for a licence the server registers: a seal without a time-stamp first gets a document
 * time-stamp (extendPdf does that), then a DSS with the CA certificate, its current CRL and the
 * chains, then the archive time-stamp — all from the server's own TSA.
 */
export async function extendLicence(ctx: Ctx, pdf: Uint8Array): Promise<Uint8Array> {
  const result = await extendPdf(pdf, {
    certificates: ctx.pki.anchors,
    crls: (await ctx.ca.currentCrls()).map((c) => c.der),
    tsa: async (query) => (await ctx.tsa.respond(query)).reply,
    fetch: false,
  });
  return result.pdf;
}

/**
 * When the TSA certificate of the newest document time-stamp stops being valid, or undefined
 * when the PDF has none. Reads only the signature dictionaries (the PDF was verified on registration).
 */
export function archiveTimestampExpiry(pdf: Uint8Array): Date | undefined {
  const view = PdfDocument.load(pdf).latest;
  let newest: { end: number; notAfter: Date } | undefined;
  for (const f of listFields(view)) {
    if (f.type !== 'Sig') continue;
    const d = view.dict(f.dict.get('V'));
    if (!d || (d.name('Type') !== 'DocTimeStamp' && d.name('SubFilter') !== 'ETSI.RFC3161')) continue;
    const br = view.array(d.get('ByteRange'));
    const contents = view.resolve(d.get('Contents'));
    if (!br || br.length !== 4 || !(contents instanceof PdfString)) continue;
    const end = Number(br[2]) + Number(br[3]);
    try {
      const cms = parseCms(parseDer(contents.bytes, { allowTrailing: true, maxNodes: 500_000 }).raw);
      const si = cms.signerInfos[0];
      const der = si && findSignerCertificate(cms, si);
      if (der && (!newest || end > newest.end)) newest = { end, notAfter: parseCertificate(der).notAfter };
    } catch {
      /* unreadable token: not a time-stamp we can renew from */
    }
  }
  return newest?.notAfter;
}

export interface RenewalResult {
  /** Licences that got a new archive time-stamp. */
  renewed: string[];
  /** Licences checked. */
  checked: number;
  /** Licences that could not be renewed, with why. */
  failed: { id: string; reason: string }[];
}

/**
 * Renews the archive time-stamp of every stored licence whose newest time-stamp's TSA certificate
 * expires within `withinMs` (or that has none): a DSS with the CA certificate and current CRL (the
 * old TSA's revocation status while it is still valid), then a time-stamp from the current TSA.
 * The stored file is replaced by its incremental extension; the audit trail records each renewal.
 */
export async function renewArchiveTimestamps(
  ctx: Ctx,
  o: { withinMs: number; now?: Date; departmentId?: string; actor?: string },
): Promise<RenewalResult> {
  const now = o.now ?? new Date();
  let q = ctx.db.selectFrom('licences').select(['id', 'sha256']).orderBy('id');
  if (o.departmentId !== undefined) q = q.where('department_id', '=', o.departmentId);
  const rows = await q.execute();
  const out: RenewalResult = { renewed: [], checked: 0, failed: [] };
  for (const row of rows) {
    out.checked++;
    try {
      const pdf = await ctx.blobs.read(row.sha256);
      const expiry = archiveTimestampExpiry(pdf);
      if (expiry && expiry.getTime() > now.getTime() + o.withinMs) continue;
      const extended = await extendLicence(ctx, pdf);
      const { sha256, size } = await ctx.blobs.putBytes(extended);
      await ctx.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('blobs')
          .values({ sha256, size, created_at: new Date().toISOString() })
          .onConflict((oc) => oc.column('sha256').doNothing())
          .execute();
        // only if nobody replaced the file meanwhile
        const r = await trx
          .updateTable('licences')
          .set({ sha256, size })
          .where('id', '=', row.id)
          .where('sha256', '=', row.sha256)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) throw new Error('the stored file changed during the renewal');
        await ctx.audit.append(trx, {
          actor: o.actor ?? 'system',
          action: 'licence.renew-timestamp',
          subject: `licence:${row.id}`,
        });
      });
      out.renewed.push(row.id);
    } catch (e) {
      out.failed.push({ id: row.id, reason: (e as Error).message });
    }
  }
  return out;
}
