/**
 * The seal registry (the `seals` table, routes/seals.ts) as verification reads it.
 *
 * The registry is the complete record of the seals our seal authority's maker keys have made —
 * the current key and every earlier one that made a seal here (each row names its maker key,
 * migration 0011) —: a seal signed by one of them which the registry does not hold — same esID
 * and same DER — was never issued by us (a leaked maker key, a retired key that leaked later, a
 * lost row, a restored backup) and is `unregistered`, which makes its verdict invalid
 * (SES_SEAL_UNREGISTERED), never merely "good" or indeterminate.
 *
 * Verification runs in worker processes (verify/pool.ts), which have no database. They get a
 * snapshot: per seal its esID, the SHA-256 of its DER and its revocation, not the DERs. The
 * snapshot is kept per server and reloaded only when the registry's state changes; the state is
 * one aggregate over the covering index `seals_registry` (migration 0010), cheap for thousands
 * of seals, and it is part of the report cache's key (verify/cache.ts).
 */
import { createHash } from 'node:crypto';
import type { Db } from '../db/index';
import type { SealStatus } from '../../../packages/core/src/gm/ses/verify';
import { parseCertificate } from '../../../packages/core/src/pki/certificate';

/** One registered seal: the SHA-256 (hex) of its DER and, when revoked, when and why. */
export interface RegistryEntry {
  sha256: string;
  revokedAt?: string;
  reason?: string;
}

/** What a verification worker gets: the registry (as JSON, see `parseRegistry`) and our maker keys. */
export interface SerializedRegistry {
  /** SHA-256 of `entries`: names this snapshot (the worker parses each snapshot once). */
  digest: string;
  /** JSON `[esID, sha256, revokedAt | null, reason | null][]` */
  entries: string;
  /** Base64 SubjectPublicKeyInfo of the maker keys whose seals the registry holds completely. */
  ownMakerKeys: string[];
}

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The SubjectPublicKeyInfo (base64) of a maker certificate; undefined when it is unreadable. */
export function makerKeyOf(certificate: Uint8Array): string | undefined {
  try {
    return Buffer.from(parseCertificate(certificate).spki).toString('base64');
  } catch {
    return undefined; // verifySeal reports SES_MAKER_CERT_MALFORMED itself
  }
}

/**
 * The registry's word on one seal.
 * - Registered (same esID, same DER digest): `revoked` with when and why, else `good`.
 * - Made by one of our maker keys but not registered: `unregistered`.
 * - Made by another maker: `otherwise`. The registry is complete only for our own maker keys. A
 *   maker under the same anchors (SIDIAN_SEAL_MAKER_TRUST naming a root shared with other seal
 *   makers) keeps records we do not hold, so absence here says nothing: `POST /api/verify` keeps
 *   today's `good` (the maker's certificate path is the evidence), `POST /api/seals/verify` says
 *   `unknown`.
 */
export function registryStatus(
  entry: RegistryEntry | undefined,
  derSha256: string,
  ownMaker: boolean,
  otherwise: 'good' | 'unknown',
): SealStatus {
  if (entry && entry.sha256 === derSha256) {
    return entry.revokedAt
      ? { status: 'revoked', revokedAt: new Date(entry.revokedAt), reason: entry.reason }
      : { status: 'good' };
  }
  return ownMaker ? { status: 'unregistered' } : { status: otherwise };
}

export function parseRegistry(entries: string): Map<string, RegistryEntry> {
  const rows = JSON.parse(entries) as [string, string, string | null, string | null][];
  return new Map(
    rows.map(([esID, sha256, revokedAt, reason]) => [
      esID,
      { sha256, revokedAt: revokedAt ?? undefined, reason: reason ?? undefined },
    ]),
  );
}

/**
 * The registry's state: changes when a seal is registered, revoked or removed (a lost row, a
 * restored backup). Rows are never deleted or un-revoked by the server, so count + newest
 * created_at + count and newest of revoked_at see every change it makes; hand edits that keep all
 * four (a DER replaced in place) are caught by the snapshot's reload after SNAPSHOT_MAX_AGE_MS.
 * Read from the covering index `seals_registry` alone.
 */
export async function registryState(db: Db): Promise<string> {
  const r = await db
    .selectFrom('seals')
    .select((eb) => [
      eb.fn.countAll().as('seals'),
      eb.fn.max('created_at').as('lastMade'),
      eb.fn.count('revoked_at').as('revoked'),
      eb.fn.max('revoked_at').as('lastRevoked'),
    ])
    .executeTakeFirstOrThrow();
  return [String(r.seals), r.lastMade ?? '', String(r.revoked), r.lastRevoked ?? ''].join(',');
}

/** Reads the whole registry as the workers get it (esIDs, digests, revocations; no DER). */
export async function loadRegistry(db: Db): Promise<string> {
  const rows = await db.selectFrom('seals').select(['es_id', 'der_sha256', 'revoked_at']).execute();
  // rows an older server wrote before migration 0010 have no digest yet: compute it from the DER
  const missing = rows.some((r) => !r.der_sha256)
    ? new Map(
        (await db.selectFrom('seals').select(['es_id', 'der']).where('der_sha256', 'is', null).execute()).map(
          (r) => [r.es_id, sha256Hex(Buffer.from(r.der, 'base64'))],
        ),
      )
    : undefined;
  const reasons = new Map(
    (
      await db
        .selectFrom('seals')
        .select(['es_id', 'revocation_reason'])
        .where('revoked_at', 'is not', null)
        .execute()
    ).map((r) => [r.es_id, r.revocation_reason]),
  );
  rows.sort((a, b) => (a.es_id < b.es_id ? -1 : a.es_id > b.es_id ? 1 : 0));
  return JSON.stringify(
    rows.map((r) => [
      r.es_id,
      r.der_sha256 ?? missing?.get(r.es_id) ?? '',
      r.revoked_at,
      r.revoked_at ? (reasons.get(r.es_id) ?? null) : null,
    ]),
  );
}

/** The maker keys that made the registry's seals (from the index `seals_maker`), sorted. */
async function registryMakerKeys(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('seals')
    .select('maker_key')
    .distinct()
    .where('maker_key', 'is not', null)
    .execute();
  return rows.map((r) => r.maker_key!).sort();
}

/** A snapshot is reloaded at least this often, even when the state looks unchanged. */
export const SNAPSHOT_MAX_AGE_MS = 60_000;

interface Snapshot {
  state: string;
  loadedAt: number;
  entries: string;
  digest: string;
  /** The maker keys that made the registry's seals (`registryMakerKeys`). */
  makerKeys: string[];
}

const snapshots = new WeakMap<object, Snapshot>();

/**
 * The registry snapshot of one server (`owner`, its Ctx) for `state` (from `registryState`, read
 * before this call: a snapshot is never older than the state it is kept under).
 */
export async function registrySnapshot(
  owner: object,
  db: Db,
  state: string,
): Promise<{ entries: string; digest: string; makerKeys: string[] }> {
  const now = Date.now();
  const found = snapshots.get(owner);
  if (found && found.state === state && now - found.loadedAt < SNAPSHOT_MAX_AGE_MS) return found;
  const entries = await loadRegistry(db);
  const snapshot = {
    state,
    loadedAt: now,
    entries,
    digest: createHash('sha256').update(entries).digest('hex'),
    makerKeys: await registryMakerKeys(db),
  };
  snapshots.set(owner, snapshot);
  return snapshot;
}
