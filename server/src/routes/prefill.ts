/**
 * 自动数据填充: the values the city already holds about an applicant, for a service's forms.
 *
 * `GET /api/prefill?service=CODE` with the applicant's portal token answers
 *
 *   { service: {code, name, nameEn},
 *     values:  { "licence.holderName": "项城市张三小吃店", "identity.name": "张三", ... },
 *     sources: { "licence.holderName": "<licence identifier>", "identity.name": "identity" },
 *     licences: { "<identifier>": {id, typeCode, typeName, number, issuer, status, validUntil} },
 *     identity: { name, verifiedBy } }
 *
 * Every value is one the server can vouch for: the caller's identity as the portal token states it
 * (verified against the portal's key), and the registered licence.json of licences the caller
 * holds (holder matched by the keyed id hash, as `GET /api/licences`) that are valid now — revoked,
 * expired and not-yet-valid licences are no source. Which licence types feed a service is the
 * service's entry in the catalogue; `licence.<field>` is taken from the first type in its order
 * (the newest registration of it), `licence.<typeCode>.<field>` names one type explicitly.
 */
import type { FastifyInstance } from 'fastify';
import type { Ctx } from '../context';
import { badRequest, notFound } from '../errors';
import type { LicencesTable } from '../db/schema';
import type { LicenceMetadata } from '../../../packages/core/src/licence/licence';
import { legacyHolderIdHash } from './holder-licences';
import { licenceStatus } from './licences';

/** A service (事项) whose forms can be filled, and the licence types its values come from, in order. */
export interface PrefillService {
  code: string;
  name: string;
  nameEn: string;
  licenceTypes: string[];
}

/** The demo portal's service; operators give their own catalogue (`ServerOptions.prefillServices`). */
export const DEFAULT_PREFILL_SERVICES: PrefillService[] = [
  {
    code: 'SPJYXKZ-XB',
    name: '食品经营许可证 · 新办',
    nameEn: 'Food business licence · new',
    // 营业执照
    licenceTypes: ['YYZZ'],
  },
];

/** A licence as a source of values: what the citizen is shown beside each filled input. */
export interface PrefillSource {
  id: string;
  typeCode: string;
  typeName: string;
  number: string;
  issuer: { name: string; creditCode: string };
  status: 'valid';
  validUntil: string | null;
}

const MAX_VALUE = 2000;
const MAX_DATA_KEYS = 100;

/** The fields of one licence, by the names a host page maps (`licence.<name>`). */
export function licenceValues(m: LicenceMetadata): Record<string, string> {
  const out: Record<string, string> = {
    id: m.identifier,
    number: m.number,
    typeCode: m.typeCode,
    typeName: m.typeName,
    holderName: m.holder?.name,
    holderIdType: m.holder?.idType,
    holderIdNumber: m.holder?.idNumber,
    issuerName: m.issuer?.name,
    issuerCreditCode: m.issuer?.creditCode,
    issueDate: m.issueDate,
    validFrom: m.validFrom,
    validUntil: m.validUntil ?? '',
  };
  // 照面拓展信息: strings and numbers only, bounded
  let n = 0;
  for (const [k, v] of Object.entries(m.data ?? {})) {
    if (++n > MAX_DATA_KEYS) break;
    if (
      (typeof v === 'string' || typeof v === 'number') &&
      String(v).length <= MAX_VALUE &&
      k.length <= 200
    ) {
      out[`data.${k}`] = String(v);
    }
  }
  for (const k of Object.keys(out)) if (typeof out[k] !== 'string') delete out[k];
  return out;
}

export async function prefillRoutes(
  app: FastifyInstance,
  ctx: Ctx,
  services: PrefillService[] = DEFAULT_PREFILL_SERVICES,
): Promise<void> {
  const byCode = new Map(services.map((s) => [s.code, s]));

  app.get('/api/prefill', async (req, reply) => {
    const citizen = await ctx.auth.requireCitizen(req);
    const code = (req.query as { service?: unknown } | undefined)?.service;
    if (typeof code !== 'string' || code.length === 0 || code.length > 128) {
      throw badRequest(
        'service must name the service whose form is filled (?service=CODE)',
        'SERVICE_REQUIRED',
      );
    }
    const service = byCode.get(code);
    if (!service) throw notFound(`no service "${code}" in the catalogue`, 'SERVICE_NOT_FOUND');

    const rows = service.licenceTypes.length
      ? await ctx.db
          .selectFrom('licences')
          .selectAll()
          .where('holder_id_hash', 'in', [
            ctx.auth.holderIdHash(citizen.idNumber),
            legacyHolderIdHash(citizen.idNumber),
          ])
          .where('type_code', 'in', service.licenceTypes)
          .orderBy('registered_at', 'desc')
          .limit(200)
          .execute()
      : [];
    const now = new Date();
    // only licences valid now vouch for anything
    const usable = rows.filter((r) => licenceStatus(r, now) === 'valid');

    const values: Record<string, string> = {};
    const sources: Record<string, string> = {};
    const licences: Record<string, PrefillSource> = {};
    const put = (name: string, value: string, source: string) => {
      if (name in values) return;
      values[name] = value;
      sources[name] = source;
    };
    put('identity.name', citizen.name, 'identity');
    put('identity.idNumber', citizen.idNumber, 'identity');
    for (const type of service.licenceTypes) {
      for (const row of usable.filter((r) => r.type_code === type)) {
        const m = parseMetadata(row);
        if (!m) continue;
        licences[row.id] = sourceOf(row);
        for (const [k, v] of Object.entries(licenceValues(m))) {
          put(`licence.${k}`, v, row.id);
          put(`licence.${type}.${k}`, v, row.id);
        }
      }
    }
    // personal data: never kept by a shared cache
    reply.header('cache-control', 'no-store');
    return {
      service: { code: service.code, name: service.name, nameEn: service.nameEn },
      values,
      sources,
      licences,
      identity: { name: citizen.name, verifiedBy: 'portal' },
    };
  });
}

function parseMetadata(row: LicencesTable): LicenceMetadata | undefined {
  try {
    const m = JSON.parse(row.metadata) as LicenceMetadata;
    return m && typeof m === 'object' ? m : undefined;
  } catch {
    return undefined;
  }
}

function sourceOf(row: LicencesTable): PrefillSource {
  return {
    id: row.id,
    typeCode: row.type_code,
    typeName: row.type_name,
    number: row.number,
    issuer: { name: row.issuer_name, creditCode: row.issuer_code },
    status: 'valid',
    validUntil: row.valid_until,
  };
}
