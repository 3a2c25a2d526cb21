/**
 * What the seal registry costs verification (server/src/seals/registry.ts), with N seals (default
 * 5,000; BENCH_SEALS) on SQLite and, when installed, PostgreSQL: the report cache key's part
 * (`registryState`, one aggregate per POST /api/verify), a snapshot reload (once per registry
 * change), the snapshot's size as the workers get it, and its parse in a worker (once per snapshot).
 * Each row is 1 in 10 revoked and carries a 24 KB DER (a seal with a typical picture), so that rows
 * overflow their pages as real ones do. Run: `node --import tsx bench/server/seal-registry.ts`.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { sql } from 'kysely';
import { openDatabase, type OpenedDatabase } from '../../server/src/db/index';
import type { SealsTable } from '../../server/src/db/schema';
import { postgresAvailable, startPostgres, tempDir } from '../../server/src/test/harness';
import {
  loadRegistry,
  parseRegistry,
  registrySnapshot,
  registryState,
  sha256Hex,
} from '../../server/src/seals/registry';

const N = Number(process.env.BENCH_SEALS ?? 5000);
const DER_BYTES = 24 * 1024;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(runs: number, f: () => Promise<unknown> | unknown): Promise<number> {
  await f();
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    xs.push(performance.now() - t);
  }
  return median(xs);
}

async function fill(o: OpenedDatabase): Promise<void> {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const rows: SealsTable[] = [];
  for (let i = 0; i < N; i++) {
    const der = randomBytes(DER_BYTES);
    const revoked = i % 10 === 9;
    rows.push({
      es_id: randomBytes(16).toString('hex'),
      department_id: `dept-${i % 50}`,
      name: `测试专用章 ${i}`,
      type: 3,
      holder_serial: randomBytes(16).toString('hex'),
      valid_start: new Date(t0).toISOString(),
      valid_end: new Date(t0 + 365 * 86_400_000).toISOString(),
      der: der.toString('base64'),
      der_sha256: sha256Hex(der),
      maker_key: `maker-${i % 3}`,
      created_at: new Date(t0 + i * 1000).toISOString(),
      revoked_at: revoked ? new Date(t0 + N * 1000 + i).toISOString() : null,
      revocation_reason: revoked ? '印章遗失 lost' : null,
    });
  }
  for (let i = 0; i < rows.length; i += 200)
    await o.db
      .insertInto('seals')
      .values(rows.slice(i, i + 200))
      .execute();
  if (o.kind === 'postgres') await sql`VACUUM ANALYZE seals`.execute(o.db);
  else await sql`ANALYZE`.execute(o.db);
}

async function measure(label: string, o: OpenedDatabase): Promise<string[]> {
  await fill(o);
  const plan =
    o.kind === 'sqlite'
      ? (
          await sql<{
            detail: string;
          }>`EXPLAIN QUERY PLAN SELECT count(*), max(created_at), count(revoked_at), max(revoked_at) FROM seals`.execute(
            o.db,
          )
        ).rows
          .map((r) => r.detail)
          .join('; ')
      : (
          await sql<{
            'QUERY PLAN': string;
          }>`EXPLAIN SELECT count(*), max(created_at), count(revoked_at), max(revoked_at) FROM seals`.execute(
            o.db,
          )
        ).rows
          .map((r) => r['QUERY PLAN'].trim())
          .join('; ');
  const state = await registryState(o.db);
  const owner = {};
  await registrySnapshot(owner, o.db, state);
  // the key's part per request: the aggregate, then the snapshot kept for that state
  const key = await time(200, async () => registrySnapshot(owner, o.db, await registryState(o.db)));
  const reload = await time(10, () => loadRegistry(o.db));
  const entries = await loadRegistry(o.db);
  const parse = await time(20, () => parseRegistry(entries));
  const ipc = await time(20, () => v8.deserialize(v8.serialize({ entries })));
  // for comparison: the aggregate without the covering index reads every row (and its DER)
  await sql`DROP INDEX seals_registry`.execute(o.db);
  const noIndex = await time(20, () => registryState(o.db));
  const f = (ms: number) => `${ms.toFixed(2)} ms`;
  console.error(`${label}: plan ${plan}`);
  return [
    `| ${label} | ${f(key)} | ${f(noIndex)} | ${f(reload)} | ${(entries.length / 1024).toFixed(0)} KB | ${f(parse)} | ${f(ipc)} |`,
  ];
}

const out = [
  `Seal registry with ${N} seals (${N / 10} revoked, ${DER_BYTES / 1024} KB DER each), medians; ${new Date().toISOString()}`,
  '',
  '| database | key part per request (aggregate + kept snapshot) | aggregate without the covering index | snapshot reload | snapshot size | parse in worker | v8 serialize+deserialize |',
  '|---|---|---|---|---|---|---|',
];
const sqlite = await openDatabase({ dataDir: tempDir('sidian-bench-seals-') });
try {
  out.push(...(await measure('SQLite', sqlite)));
} finally {
  await sqlite.close();
}
if (postgresAvailable()) {
  const cluster = await startPostgres();
  try {
    const pg = await openDatabase({
      dataDir: tempDir('sidian-bench-seals-pg-'),
      databaseUrl: await cluster.createDatabase('bench_seals'),
    });
    try {
      out.push(...(await measure('PostgreSQL', pg)));
    } finally {
      await pg.close();
    }
  } finally {
    await cluster.stop();
  }
}
console.log(out.join('\n'));
