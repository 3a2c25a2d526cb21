/**
 * `sidian renew-timestamps [--dev] [--data ./data] [--within-days 90] [--json]` (DATABASE_URL for
 * PostgreSQL; the operator's PKI from the environment as for `sidian serve`, or --dev for the data
 * folder's development PKI):
 * gives every stored licence whose newest archive time-stamp's TSA certificate expires within the
 * window a DSS and a fresh document time-stamp from the server's current TSA. Exit 0 when every
 * renewal succeeded, 1 otherwise.
 */
import path from 'node:path';
import { buildServer } from '../app';
import { renewArchiveTimestamps } from '../ltv';
import { operatorPkiFromEnv } from '../pki/operator-pki';
import { UsageError, parse } from './args';

export async function renewCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    data: { type: 'string', short: 'd' },
    'within-days': { type: 'string' },
    json: { type: 'boolean' },
    dev: { type: 'boolean' },
  });
  if (positionals.length) throw new UsageError('renew-timestamps 不接受文件参数 takes no file arguments');
  const days = Number(values['within-days'] ?? 90);
  if (!Number.isFinite(days) || days < 0 || days > 3650)
    throw new UsageError('--within-days 应为 0 到 3650 天 must be a number of days from 0 to 3650');
  const dataDir = path.resolve(values.data ?? process.env.SIDIAN_DATA ?? './data');
  const server = await buildServer({
    dataDir,
    databaseUrl: process.env.DATABASE_URL || undefined,
    // production (the operator's CA and TSA from the environment) unless --dev, as for serve
    devMode: values.dev === true,
    pki: operatorPkiFromEnv(process.env),
    logger: false,
  });
  try {
    const r = await renewArchiveTimestamps(server.ctx, { withinMs: days * 86400_000, actor: 'cli' });
    if (values.json) process.stdout.write(JSON.stringify(r) + '\n');
    else {
      process.stdout.write(
        `存档时间戳已更新 archive time-stamps renewed: ${r.renewed.length} of ${r.checked} licence(s)\n`,
      );
      for (const id of r.renewed) process.stdout.write(`  renewed ${id}\n`);
      for (const f of r.failed) process.stdout.write(`  FAILED ${f.id}: ${f.reason}\n`);
    }
    return r.failed.length ? 1 : 0;
  } finally {
    await server.close();
  }
}
