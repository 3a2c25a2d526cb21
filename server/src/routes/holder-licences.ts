/**
 * 免证可办: a citizen's own licences from the registry, so <material-uploader> can offer a licence
 * the city already issued instead of an upload. `GET /api/licences` with the portal token lists the
 * licences whose holder id number is the caller's (matched by the keyed hash the registry keeps);
 * `?type=CODE[,CODE]` keeps only those licence type codes. Revoked and expired licences are listed
 * with their status, so the page can say why they cannot be used.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Ctx } from '../context';
import { badRequest } from '../errors';
import { publicLicence } from './licences';

/** The unkeyed hash rows registered before keyed holder hashes carry (still matched, never written). */
export function legacyHolderIdHash(idNumber: string): string {
  return createHash('sha256')
    .update('sidian-holder\0' + idNumber)
    .digest('hex');
}

export async function holderLicenceRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  app.get('/api/licences', async (req) => {
    const citizen = await ctx.auth.requireCitizen(req);
    const type = (req.query as { type?: unknown } | undefined)?.type;
    if (type !== undefined && (typeof type !== 'string' || type.length > 512))
      throw badRequest('type must be a comma-separated list of licence type codes');
    const types = type
      ? type
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [];
    if (types.some((t) => !/^[0-9A-Za-z]{1,64}$/.test(t)))
      throw badRequest('type must be a comma-separated list of licence type codes');
    let q = ctx.db
      .selectFrom('licences')
      .selectAll()
      .where('holder_id_hash', 'in', [
        ctx.auth.holderIdHash(citizen.idNumber),
        legacyHolderIdHash(citizen.idNumber),
      ]);
    if (types.length) q = q.where('type_code', 'in', types);
    const rows = await q.orderBy('registered_at', 'desc').limit(200).execute();
    return { licences: rows.map(publicLicence) };
  });
}
