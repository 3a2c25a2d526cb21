/**
 * GB/T 38540 electronic seals (印章数据 SESeal) made by the server's seal authority (制章者).
 *
 * - `POST /api/seals` (department API key; JSON: the department's SM2 certificate, picture, name,
 *   type, validity) -> the signed SESeal. The certificate must name the calling department (its
 *   credit code as organizationIdentifier or serialNumber) and chain to the server's anchors.
 * - `GET /api/seals/trust` -> the anchors (PEM) the seals made here verify against: what
 *   `<licence-viewer seal-trust>` takes, apart from the PDF signers' anchors of `/api/trust`.
 * - `GET /api/seals/:esID` -> the seal's fields, status and DER (base64); public, like a licence.
 * - `POST /api/seals/:esID/revoke` (the holding department) -> revoked from then on.
 * - `POST /api/seals/verify` (a DER SESeal or SES_Signature, or a PDF sealed with such a seal,
 *   gm/ses/pdf.ts) -> the verdict with the registry's status; a PDF is verified as
 *   `POST /api/verify` verifies it (the worker pool, the CRLs, the report cache).
 */
import type { FastifyInstance } from 'fastify';
import {
  isSidianError,
  makeSeal,
  parseSeal,
  parseSesSignature,
  validatePath,
  verifySeal,
  verifySesSignature,
  type SESeal,
  type SealStatus,
} from '@sidian/core';
import { parseCertificate } from '../../../packages/core/src/pki/certificate';
import { parseDer, readOid, readString } from '../../../packages/core/src/pki/der';
import { OID } from '../../../packages/core/src/pki/oids';
import { actorOf } from '../auth';
import { binaryBodies, bodySha256 } from '../body';
import { clientGoneSignal, looksLikePdf } from './basics';
import type { Ctx } from '../context';
import type { SealsTable } from '../db/schema';
import { badRequest, conflict, forbidden, HttpError, notFound, unprocessable } from '../errors';
import { fromPem, toPem } from '../pki/x509';
import { loadSealAuthority, sealAnchorsOf, sealMakersOf, type SealAuthorityConfig } from '../seals/authority';
import { makerKeyOf, registryStatus, sha256Hex } from '../seals/registry';
import { serverSealOptions, verifyWithServerState } from '../verify/cache';

const ES_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_PICTURE = 1024 * 1024;
const OID_ORGANIZATION_IDENTIFIER = '2.5.4.97';
const OID_SERIAL_NUMBER = '2.5.4.5';

interface MakeSealBody {
  certificate?: unknown;
  chain?: unknown;
  picture?: unknown;
  name?: unknown;
  type?: unknown;
  validStart?: unknown;
  validEnd?: unknown;
  width?: unknown;
  height?: unknown;
}

/** A certificate given as PEM or base64 DER. */
function certificateOf(v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string' || !v.trim())
    throw badRequest(`${what} is required (PEM or base64 DER)`, 'SEAL_BAD_REQUEST');
  const [pem] = v.includes('-----BEGIN')
    ? fromPem(v, 'CERTIFICATE')
    : [new Uint8Array(Buffer.from(v, 'base64'))];
  if (!pem?.length) throw badRequest(`${what} is not a PEM or base64 certificate`, 'SEAL_BAD_REQUEST');
  return pem;
}

function dateOf(v: unknown, what: string, fallback?: Date): Date {
  if (v === undefined && fallback) return fallback;
  const d = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? new Date(v) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw badRequest(`${what} must be an ISO-8601 time`, 'SEAL_BAD_REQUEST');
  return d;
}

function pictureType(data: Uint8Array): string {
  if (data[0] === 0x89 && data[1] === 0x50 && data[2] === 0x4e && data[3] === 0x47) return 'PNG';
  if (data[0] === 0xff && data[1] === 0xd8) return 'JPG';
  if (data[0] === 0x47 && data[1] === 0x49 && data[2] === 0x46) return 'GIF';
  throw badRequest('the picture must be PNG, JPG or GIF (base64)', 'SEAL_BAD_PICTURE');
}

/** Values of `oid` in a Name (DER). */
function nameValues(name: Uint8Array, oid: string): string[] {
  const out: string[] = [];
  for (const rdn of parseDer(name).children)
    for (const atv of rdn.children) if (readOid(atv.child(0)) === oid) out.push(readString(atv.child(1)));
  return out;
}

export function publicSeal(row: SealsTable) {
  return {
    esID: row.es_id,
    status: row.revoked_at ? 'revoked' : new Date(row.valid_end) < new Date() ? 'expired' : 'valid',
    name: row.name,
    type: Number(row.type),
    departmentId: row.department_id,
    validStart: row.valid_start,
    validEnd: row.valid_end,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    revocationReason: row.revocation_reason,
    seal: row.der,
  };
}

export async function sealRoutes(
  app: FastifyInstance,
  ctx: Ctx,
  config?: SealAuthorityConfig,
): Promise<void> {
  const authority = loadSealAuthority({ dataDir: ctx.dataDir, devMode: ctx.devMode, config });
  if (authority) {
    sealAnchorsOf.set(ctx, authority.anchors);
    sealMakersOf.set(ctx, [authority.certificate]);
  }
  const ownMakerKey = authority && makerKeyOf(authority.certificate);
  const need = () => {
    if (!authority)
      throw new HttpError(
        503,
        'SEALS_UNAVAILABLE',
        'this server has no seal authority (SIDIAN_SEAL_MAKER_KEY and SIDIAN_SEAL_MAKER_CERT, docs/production.md)',
      );
    return authority;
  };

  const findSeal = async (esID: string) => {
    if (!ES_ID.test(esID)) throw notFound('no such seal', 'SEAL_NOT_FOUND');
    const row = await ctx.db.selectFrom('seals').selectAll().where('es_id', '=', esID).executeTakeFirst();
    if (!row) throw notFound('no such seal', 'SEAL_NOT_FOUND');
    return row;
  };

  /**
   * The registry's word on a seal: revoked or good when it holds this very seal; unregistered when
   * one of our maker keys made it but it is not here; unknown when another maker made it (registry.ts).
   */
  const sealStatus = async (seal: SESeal): Promise<SealStatus> => {
    const row = ES_ID.test(seal.esID)
      ? await ctx.db
          .selectFrom('seals')
          .select(['der_sha256', 'der', 'revoked_at', 'revocation_reason'])
          .where('es_id', '=', seal.esID)
          .executeTakeFirst()
      : undefined;
    const entry = row && {
      sha256: row.der_sha256 ?? sha256Hex(Buffer.from(row.der, 'base64')),
      revokedAt: row.revoked_at ?? undefined,
      reason: row.revocation_reason ?? undefined,
    };
    // our maker keys as every verification counts them: the configured one and each that made a seal here
    const makerKey = makerKeyOf(seal.makerCertificate);
    const own = !!makerKey && !!(await serverSealOptions(ctx)).sealRegistry?.ownMakerKeys.includes(makerKey);
    return registryStatus(entry, sha256Hex(seal.der), own, 'unknown');
  };

  app.post('/api/seals', { bodyLimit: 4 * MAX_PICTURE }, async (req, reply) => {
    const dept = await ctx.auth.requireDepartment(req);
    const maker = need();
    const b = (req.body ?? {}) as MakeSealBody;
    if (typeof b !== 'object') throw badRequest('a JSON body is required', 'SEAL_BAD_REQUEST');
    const certificate = certificateOf(b.certificate, 'certificate');
    const chain = Array.isArray(b.chain) ? b.chain.map((c, i) => certificateOf(c, `chain[${i}]`)) : [];
    let cert;
    try {
      cert = parseCertificate(certificate);
    } catch (e) {
      throw unprocessable(`the certificate is unreadable: ${(e as Error).message}`, 'SEAL_BAD_CERTIFICATE');
    }
    // GB/T 38540 §5: the holder signs with SM2; the certificate's key must be on the SM2 curve
    const spki = parseDer(cert.spki);
    const curve = spki.child(0).children[1];
    if (!curve || curve.tag !== 0x06 || readOid(curve) !== OID.sm2Curve)
      throw unprocessable('the certificate must hold an SM2 key (GB/T 38540 §5)', 'SEAL_NOT_SM2');
    // the certificate must be the calling department's: its credit code in the subject
    const codes = [
      ...nameValues(cert.subject, OID_ORGANIZATION_IDENTIFIER),
      ...nameValues(cert.subject, OID_SERIAL_NUMBER),
    ];
    if (!codes.includes(dept.creditCode))
      throw forbidden(
        "the certificate does not name the calling department (its credit code is not the subject's organizationIdentifier)",
        'SEAL_OTHER_DEPARTMENT',
      );
    const path = await validatePath({
      target: certificate,
      intermediates: chain,
      trustAnchors: ctx.pki.anchors,
      purpose: 'signer',
    });
    if (!path.valid)
      throw unprocessable(
        `the certificate is not trusted here: ${path.reasons.join('; ')}`,
        'SEAL_CERTIFICATE_UNTRUSTED',
      );
    if (typeof b.picture !== 'string') throw badRequest('picture (base64) is required', 'SEAL_BAD_PICTURE');
    const data = new Uint8Array(Buffer.from(b.picture, 'base64'));
    if (!data.length || data.length > MAX_PICTURE)
      throw badRequest(`the picture must be 1 byte to ${MAX_PICTURE} bytes`, 'SEAL_BAD_PICTURE');
    if (typeof b.name !== 'string' || !b.name.trim() || b.name.length > 200)
      throw badRequest('name is required (at most 200 characters)', 'SEAL_BAD_REQUEST');
    const type = b.type === undefined ? 1 : Number(b.type);
    const width = b.width === undefined ? 40 : Number(b.width);
    const height = b.height === undefined ? width : Number(b.height);
    const validStart = dateOf(b.validStart, 'validStart', new Date());
    const validEnd = dateOf(b.validEnd, 'validEnd');
    if (validEnd > cert.notAfter)
      throw unprocessable(
        `validEnd is after the certificate expires (${cert.notAfter.toISOString()})`,
        'SEAL_BAD_VALIDITY',
      );
    let der: Uint8Array;
    try {
      der = await makeSeal({
        maker: maker.signer,
        name: b.name.trim(),
        type,
        holderCertificates: [certificate],
        picture: { type: pictureType(data), data, width, height },
        validStart,
        validEnd,
      });
    } catch (e) {
      if (isSidianError(e) && e.code === 'SES_BAD_OPTIONS') throw badRequest(e.message, 'SEAL_BAD_REQUEST');
      throw e;
    }
    const seal = parseSeal(der);
    const now = new Date().toISOString();
    const row: SealsTable = {
      es_id: seal.esID,
      department_id: dept.id,
      name: seal.property.name,
      type: seal.property.type,
      holder_serial: cert.serialNumberHex,
      valid_start: seal.property.validStart.toISOString(),
      valid_end: seal.property.validEnd.toISOString(),
      der: Buffer.from(der).toString('base64'),
      der_sha256: sha256Hex(der),
      maker_key: ownMakerKey ?? null,
      created_at: now,
      revoked_at: null,
      revocation_reason: null,
    };
    await ctx.db.transaction().execute(async (trx) => {
      await trx.insertInto('seals').values(row).execute();
      await ctx.audit.append(trx, {
        actor: actorOf(dept),
        action: 'seal.make',
        subject: `seal:${seal.esID}`,
      });
    });
    reply.code(201).header('Location', `/api/seals/${seal.esID}`);
    return publicSeal(row);
  });

  // Seal makers are anchored apart from the certificate authorities: a maker's root among the PDF
  // signers' anchors (/api/trust) would also vouch for whatever certificates it issued to signers.
  app.get('/api/seals/trust', async (_req, reply) => {
    const maker = need();
    reply.type('application/x-pem-file; charset=utf-8').header('cache-control', 'no-cache');
    return reply.send(maker.anchors.map((a) => toPem(a, 'CERTIFICATE')).join(''));
  });

  app.get('/api/seals/:esID', async (req) =>
    publicSeal(await findSeal((req.params as { esID: string }).esID)),
  );

  app.post('/api/seals/:esID/revoke', async (req) => {
    const dept = await ctx.auth.requireDepartment(req);
    const { esID } = req.params as { esID: string };
    const body = (req.body ?? {}) as { reason?: unknown };
    const reason = typeof body.reason === 'string' ? body.reason.trim().slice(0, 500) : '';
    if (!reason) throw badRequest('a reason is required', 'SEAL_BAD_REQUEST');
    const row = await findSeal(esID);
    if (row.department_id !== dept.id)
      throw forbidden('only the holding department can revoke its seal', 'SEAL_OTHER_DEPARTMENT');
    if (row.revoked_at) throw conflict('the seal is already revoked', 'SEAL_REVOKED');
    const now = new Date().toISOString();
    await ctx.db.transaction().execute(async (trx) => {
      const done = await trx
        .updateTable('seals')
        .set({ revoked_at: now, revocation_reason: reason })
        .where('es_id', '=', esID)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) !== 1) throw conflict('the seal is already revoked', 'SEAL_REVOKED');
      await ctx.audit.append(trx, { actor: actorOf(dept), action: 'seal.revoke', subject: `seal:${esID}` });
    });
    return publicSeal(await findSeal(esID));
  });

  await app.register(async (scope) => {
    binaryBodies(scope, 8 * 1024 * 1024);
    scope.post('/api/seals/verify', async (req, reply) => {
      const body = req.body as Uint8Array | undefined;
      if (!body?.length)
        throw badRequest('the body must be a DER SESeal or SES_Signature', 'SEAL_BAD_REQUEST');
      const q = req.query as { dataHash?: string };
      if (q.dataHash !== undefined && !/^[0-9a-fA-F]{64}$/.test(q.dataHash))
        throw badRequest('dataHash must be 64 hex digits (SM3)', 'SEAL_BAD_REQUEST');
      const bytes = new Uint8Array(body);
      const options = {
        trustAnchors: [...(authority?.anchors ?? []), ...ctx.pki.anchors],
        sealStatus,
      };
      if (looksLikePdf(bytes)) {
        // a PDF sealed with a GB/T 38540 seal: the PAdES report with each seal's verdict (gbSeal),
        // made as POST /api/verify makes it — in the worker pool, within its time and memory
        // bounds, against the current CRLs and the seal registry, through the report cache — never
        // on this thread, where one crafted PDF would hold every other request
        const { report, cache, crlNumber } = await verifyWithServerState(ctx, bodySha256(body), () => body, {
          signal: clientGoneSignal(reply),
        });
        return reply
          .header('sidian-cache', cache)
          .header('sidian-crl-number', String(crlNumber))
          .send(report);
      }
      let isSeal = true;
      try {
        parseSeal(bytes);
      } catch {
        isSeal = false;
      }
      try {
        const r = isSeal
          ? await verifySeal(bytes, options)
          : await verifySesSignature(parseSesSignature(bytes), {
              ...options,
              dataHash: q.dataHash ? new Uint8Array(Buffer.from(q.dataHash, 'hex')) : undefined,
            });
        return {
          kind: isSeal ? 'seal' : 'signature',
          status: r.status,
          trust: r.trust,
          seal: {
            esID: r.seal.esID,
            name: r.seal.property.name,
            type: r.seal.property.type,
            validStart: r.seal.property.validStart.toISOString(),
            validEnd: r.seal.property.validEnd.toISOString(),
          },
          problems: r.problems,
        };
      } catch (e) {
        if (isSidianError(e) && e.code === 'SES_MALFORMED') throw unprocessable(e.message, 'SES_MALFORMED');
        throw e;
      }
    });
  });
}
