/** `sidian audit verify [--data ./data]`: re-checks the audit trail's hash chain (DATABASE_URL for PostgreSQL). */
import path from 'node:path';
import { verifyAuditChain } from '../audit';
import { openDatabase } from '../db/index';
import { parse, UsageError } from './args';

export async function auditCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    data: { type: 'string', short: 'd' },
    json: { type: 'boolean' },
  });
  if (positionals[0] !== 'verify' || positionals.length !== 1)
    throw new UsageError('usage: sidian audit verify [--data DIR]');
  const dataDir = path.resolve(values.data ?? process.env.SIDIAN_DATA ?? './data');
  const db = await openDatabase({ dataDir, databaseUrl: process.env.DATABASE_URL || undefined });
  try {
    const r = await verifyAuditChain(db.db);
    if (values.json) process.stdout.write(JSON.stringify(r) + '\n');
    else if (r.ok) process.stdout.write(`audit trail intact: ${r.rows} entries, head ${r.head}\n`);
    else
      process.stdout.write(
        `audit trail BROKEN at entry ${r.broken!.seq}: ${r.broken!.reason} (${r.rows} entries read)\n`,
      );
    return r.ok ? 0 : 1;
  } finally {
    await db.close();
  }
}
