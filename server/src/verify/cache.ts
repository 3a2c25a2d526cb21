/**
 * Verification reports, cached per (file SHA-256, trust anchors, CRL number, seal registry state,
 * validation time).
 * A revocation bumps the CRL number (EnrolmentCa.revoke), so a report made before it is never
 * served after it, on any instance sharing the database. Reports made "now" also depend on the
 * clock: an entry lives at most `ttlMs`, never past the CRL's nextUpdate, and never past the
 * notAfter of a certificate on a signer's chain (where `expired` would start to apply).
 */
import { createHash } from 'node:crypto';
import type { Ctx } from '../context';
import type { VerificationReport } from '../../../packages/core/src/verify/types';
import { toPem, x509 } from '../pki/x509';
import { sealAnchorsOf, sealMakersOf } from '../seals/authority';
import { makerKeyOf, registrySnapshot, registryState, type SerializedRegistry } from '../seals/registry';

interface Entry {
  value?: VerificationReport;
  pending?: Promise<VerificationReport>;
  expires: number;
}

export interface CachedReport {
  report: VerificationReport;
  /** `hit` when the report came from the cache (or from an identical verification in flight). */
  cache: 'hit' | 'miss';
  crlNumber: bigint;
}

export class ReportCache {
  private readonly entries = new Map<string, Entry>();
  hits = 0;
  misses = 0;

  constructor(private readonly o: { maxEntries?: number; ttlMs?: number } = {}) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached report for `key`, or `make()`'s (identical requests in flight share one verification). */
  async get(
    key: string,
    make: () => Promise<VerificationReport>,
    notAfter: number,
  ): Promise<{ report: VerificationReport; hit: boolean }> {
    const now = Date.now();
    const found = this.entries.get(key);
    if (found && found.expires > now) {
      this.entries.delete(key); // most recently used last
      this.entries.set(key, found);
      this.hits++;
      if (found.value) return { report: found.value, hit: true };
      try {
        return { report: await found.pending!, hit: true };
      } catch (e) {
        // the request that started it went away (its client closed the connection): verify anew
        if ((e as { code?: unknown }).code === 'CLIENT_GONE') return this.get(key, make, notAfter);
        throw e;
      }
    }
    if (found) this.entries.delete(key);
    this.misses++;
    const entry: Entry = { expires: Infinity };
    entry.pending = make();
    this.entries.set(key, entry);
    this.trim();
    try {
      const report = await entry.pending;
      entry.value = report;
      entry.pending = undefined;
      entry.expires = Math.min(now + (this.o.ttlMs ?? 10 * 60_000), notAfter, earliestChange(report, now));
      return { report, hit: false };
    } catch (e) {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw e;
    }
  }

  private trim() {
    const max = this.o.maxEntries ?? 2000;
    for (const k of this.entries.keys()) {
      if (this.entries.size <= max) break;
      this.entries.delete(k);
    }
  }
}

/** The earliest time after `now` at which a certificate on a reported chain starts or stops being valid. */
function earliestChange(report: VerificationReport, now: number): number {
  let t = Infinity;
  for (const s of report.signatures) {
    for (const b64 of s.chain ?? []) {
      try {
        const c = new x509.X509Certificate(Buffer.from(b64, 'base64'));
        for (const d of [c.notBefore.getTime(), c.notAfter.getTime()]) if (d > now && d < t) t = d;
      } catch {
        /* unreadable: the report says so; nothing to time */
      }
    }
  }
  return t;
}

const anchorsHashes = new Map<string, string>();
function anchorsHash(pem: string): string {
  let h = anchorsHashes.get(pem);
  if (!h) {
    h = createHash('sha256').update(pem).digest('hex');
    anchorsHashes.set(pem, h);
  }
  return h;
}

const makerKeys = new WeakMap<Uint8Array[], string[]>();
function makerKeysOf(makers: Uint8Array[]): string[] {
  let keys = makerKeys.get(makers);
  if (!keys) {
    keys = makers.map(makerKeyOf).filter((k): k is string => k !== undefined);
    makerKeys.set(makers, keys);
  }
  return keys;
}

/**
 * The GB/T 38540 part of the server's verification options: its seal authority's anchors and the
 * registry's snapshot (none without a seal authority), and a key naming both.
 */
export async function serverSealOptions(ctx: Ctx): Promise<{
  sealTrustAnchors?: string[];
  sealRegistry?: SerializedRegistry;
  sealState: string;
}> {
  const sealTrustAnchors = sealAnchorsOf.get(ctx)?.map((a) => toPem(a, 'CERTIFICATE'));
  if (!sealTrustAnchors) return { sealState: 'no-seal-authority' };
  const state = await registryState(ctx.db);
  const { entries, digest, makerKeys } = await registrySnapshot(ctx, ctx.db, state);
  // our maker keys: the configured one and every key that made a seal here (a retired key too)
  const ownMakerKeys = [...new Set([...makerKeysOf(sealMakersOf.get(ctx) ?? []), ...makerKeys])].sort();
  return {
    sealTrustAnchors,
    sealRegistry: { digest, entries, ownMakerKeys },
    sealState: anchorsHash(JSON.stringify([sealTrustAnchors, ownMakerKeys])) + ':' + digest,
  };
}

/**
 * Verifies a PDF as the server does everywhere (`POST /api/verify`, a licence's verification):
 * against the server's trust anchors and its current CRL, through the report cache.
 * `load` is called only on a cache miss.
 */
export async function verifyWithServerState(
  ctx: Ctx,
  sha256: string,
  load: () => Promise<Uint8Array> | Uint8Array,
  o: { validationTime?: string; transferOk?: boolean; signal?: AbortSignal } = {},
): Promise<CachedReport> {
  // every CA's CRL (P-256 and SM2) carries the same number: the first names the state
  const crls = await ctx.ca.currentCrls();
  const crl = crls[0]!;
  // GB/T 38540 seals: the seal authority's anchors and the registry (seals/registry.ts), which
  // answers every seal's status; its state is part of the key, so that no report made before a
  // seal is registered, revoked or lost is served after it (as the CRL number does for certificates)
  const { sealTrustAnchors: sealAnchors, sealRegistry, sealState } = await serverSealOptions(ctx);
  const key = [
    sha256,
    anchorsHash(ctx.trustPem),
    String(crl.number),
    sealState,
    o.validationTime ?? 'now',
  ].join('|');
  const { report, hit } = await ctx.reports.get(
    key,
    async () =>
      ctx.pool.run<VerificationReport>(
        {
          kind: 'verify',
          pdf: await load(),
          transferOk: o.transferOk,
          options: {
            trustAnchors: [ctx.trustPem],
            crls: crls.map((c) => c.pem),
            timeBudgetMs: ctx.limits.verifyTimeMs,
            validationTime: o.validationTime,
            sealTrustAnchors: sealAnchors,
            sealRegistry,
          },
        },
        ctx.limits.verifyTimeMs * 3,
        o.signal,
      ),
    Math.min(...crls.map((c) => c.nextUpdate.getTime())),
  );
  return { report, cache: hit ? 'hit' : 'miss', crlNumber: crl.number };
}
